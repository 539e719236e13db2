"""The regulatory desk over HTTP: need-to-know (404 + audited refusal), the prefilled stage form with copy buttons,
the downloads in the platform's order, refusals that keep what was typed, both languages."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.html import escape

from conftest import client_for
from psirt.accounts.models import User
from psirt.audit.models import AuditEvent
from psirt.cases.models import Case
from psirt.regulatory import services
from psirt.regulatory.clocks import Stage, Track
from psirt.regulatory.data import fields_for, srp_version
from psirt.regulatory.models import Decision, Filing, Obligation
from psirt.regulatory.queries import filings_for_case

pytestmark = pytest.mark.django_db


def _url(obligation: Obligation, suffix: str = "", lang: str = "en") -> str:
    return f"/{lang}/desk/regulatory/{obligation.public_id}/{suffix}"


@pytest.fixture
def reportable(obligation: Obligation, lead: User) -> Obligation:
    return services.decide(obligation=obligation, actor=lead, reportable=True, evidence="seen in the wild")


# persona → (list, detail, download, post decide)
MATRIX = {
    "lead": (200, 200, 200, 302),
    "handler": (200, 200, 200, 403),
    "other_handler": (200, 404, 404, 404),
    "engineer": (404, 404, 404, 404),
    "anonymous": (302, 302, 302, 302),
}


@pytest.mark.parametrize("persona", list(MATRIX))
def test_access_matrix(persona: str, obligation: Obligation, request: pytest.FixtureRequest) -> None:
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    client = client_for(user) if user else Client()
    list_status, detail_status, download_status, decide_status = MATRIX[persona]
    assert client.get("/en/desk/regulatory/").status_code == list_status
    assert client.get(_url(obligation)).status_code == detail_status
    assert client.get(_url(obligation, "stage/early_warning/download.json")).status_code == download_status
    response = client.post(_url(obligation, "decide/"), {"reportable": "no", "reason": "lab only"})
    assert response.status_code == decide_status
    refused = AuditEvent.objects.filter(action="obligation.access_denied", target_id=str(obligation.public_id))
    assert refused.exists() == (detail_status == 404)
    obligation.refresh_from_db()
    assert (obligation.decision == Decision.NOT_REPORTABLE) == (persona == "lead")


def test_other_handlers_list_does_not_show_it(obligation: Obligation, other_handler: User) -> None:
    body = client_for(other_handler).get("/en/desk/regulatory/").content.decode()
    assert obligation.title not in body


def test_unknown_and_malformed_ids_are_404(lead: User) -> None:
    client = client_for(lead)
    assert client.get("/en/desk/regulatory/00000000-0000-0000-0000-000000000001/").status_code == 404
    assert client.get("/en/desk/regulatory/not-a-uuid/").status_code == 404


def test_list_shows_the_obligation_to_decide_with_its_clocks(exploited: Case, lead: User) -> None:
    response = client_for(lead).get("/en/desk/regulatory/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "RTSP overflow" in body
    assert "To decide" in body
    assert "Early warning (24 h)" in body
    assert "left" in body
    assert AuditEvent.objects.filter(action="regulatory.list.view", actor=lead).exists()


def test_detail_prefills_and_offers_copy_buttons(reportable: Obligation, lead: User) -> None:
    client = client_for(lead)
    body = client.get(_url(reportable)).content.decode()
    assert 'data-copy="id-early_warning-product_name"' in body
    assert "Camera X5" in body
    assert "Germany, France, Netherlands" in body
    assert "CVE-2026-1111" in body
    assert "BSI (CERT-Bund)" in body
    assert "psirt/js/regulatory" in body and "<script>" not in body  # strict CSP: no inline script
    assert AuditEvent.objects.filter(action="regulatory.obligation.view").exists()


def test_overdue_is_red(lead: User, profile) -> None:
    aware = dt.datetime.now(dt.UTC) - dt.timedelta(hours=80)
    incident = services.open_incident(actor=lead, title="Firmware server breach", aware_at=aware)
    body = client_for(lead).get(_url(incident)).content.decode()
    assert "reg-clock is-overdue" in body
    assert "overdue by" in body
    listing = client_for(lead).get("/en/desk/regulatory/").content.decode()
    assert 'id="count-overdue"' in listing and "stat is-alert" in listing


def test_chinese_pages(reportable: Obligation, lead: User) -> None:
    client = client_for(lead)
    listing = client.get("/zh-hans/desk/regulatory/").content.decode()
    assert "监管报告" in listing
    detail = client.get(_url(reportable, lang="zh-hans")).content.decode()
    assert "早期预警（24 小时）" in detail
    assert "复制" in detail
    # Field labels of the platform in Chinese too (the values stay English: the platform is English-only).
    assert "产品名称" in detail
    download = client.get(_url(reportable, "stage/early_warning/download.txt", lang="zh-hans")).content.decode()
    assert "Product name" in download and "产品名称" not in download


def test_download_in_the_platforms_order(reportable: Obligation, lead: User) -> None:
    client = client_for(lead)
    response = client.get(_url(reportable, "stage/notification/download.json"))
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    doc = json.loads(response.content)
    assert [f["field"] for f in doc["fields"]] == [f.key for f in fields_for(Track.VULNERABILITY, Stage.NOTIFICATION)]
    text = client.get(_url(reportable, "stage/notification/download.txt")).content.decode()
    assert text.index("Notification type") < text.index("Title") < text.index("General nature of the exploit")
    assert client.get(_url(reportable, "stage/early_warning/download.exe")).status_code == 404
    assert client.get(_url(reportable, "stage/../download.txt")).status_code == 404


def test_submit_with_an_empty_required_field_keeps_what_was_typed(reportable: Obligation, handler: User) -> None:
    client = client_for(handler)
    response = client.post(
        _url(reportable, "stage/early_warning/"),
        {"action": "submit", "f-title": "", "f-summary": "<script>alert(1)</script> typed text"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Fill in the required fields" in body and "Title" in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; typed text" in body
    assert "<script>alert(1)" not in body
    assert not Filing.objects.exists()


def test_submit_through_the_desk(reportable: Obligation, handler: User) -> None:
    client = client_for(handler)
    response = client.post(
        _url(reportable, "stage/early_warning/"),
        {"action": "submit", "reference": "SRP-77", "submitted_at": ""},
    )
    assert response.status_code == 302
    filing = Filing.objects.get()
    assert filing.stage == Stage.EARLY_WARNING and filing.reference == "SRP-77"
    body = client.get(_url(reportable)).content.decode()
    assert "SRP-77" in body and "Fields as submitted" in body


def _submitted_labels(body: str, heading: str) -> str:
    return body[body.index(heading) :]


def test_fields_as_submitted_are_labelled_in_the_readers_language(reportable: Obligation, handler: User) -> None:
    client = client_for(handler)
    client.post(_url(reportable, "stage/early_warning/"), {"action": "submit", "reference": "SRP-78"})
    filing = Filing.objects.get()
    labels = {f.key: f for f in fields_for(reportable.track, Stage.EARLY_WARNING)}
    # Submitted from the English desk: the labels stored with the filing are the English ones.
    assert [row[1] for row in filing.fields] == [labels[row[0]].label_en for row in filing.fields]
    zh = _submitted_labels(client.get(_url(reportable, lang="zh-hans")).content.decode(), "提交时的字段")
    en = _submitted_labels(client.get(_url(reportable)).content.decode(), "Fields as submitted")
    for key, _stored, _value in filing.fields:
        assert f"<dt>{escape(labels[key].label_zh)}</dt>" in zh
        assert f"<dt>{escape(labels[key].label_en)}</dt>" not in zh
        assert f"<dt>{escape(labels[key].label_en)}</dt>" in en
    # The case file reads them the same way.
    assert reportable.case is not None
    with translation.override("zh-hans"):
        (row,) = filings_for_case(reportable.case)
    assert [label for _key, label, _value in row.fields] == [labels[key].label_zh for key, _l, _v in filing.fields]


def test_labels_of_fields_psirt_no_longer_holds_stay_as_stored() -> None:
    current = srp_version()
    filing = Filing(
        fields=[["title", "Title", "x"], ["renamed", "A field since removed", "y"]],
        fields_version=current,
    )
    older = Filing(fields=[["title", "Title as it was worded then", "x"]], fields_version="2024-01-01")
    miit = Filing(fields=[["report_text", "MIIT report (Chinese)", "报告单位：维森泰克"]], fields_version="miit")
    with translation.override("zh-hans"):
        assert filing.labelled_fields() == [("title", "标题", "x"), ("renamed", "A field since removed", "y")]
        assert older.labelled_fields() == [("title", "Title as it was worded then", "x")]
        assert miit.labelled_fields() == [("report_text", "工信部报送内容（中文）", "报告单位：维森泰克")]
    with translation.override("en"):
        assert filing.labelled_fields()[0] == ("title", "Title", "x")
        assert miit.labelled_fields()[0][1] == "MIIT report (Chinese)"


def test_case_page_panel_only_for_leads_and_assignees(
    obligation: Obligation, lead: User, handler: User, engineer: User
) -> None:
    assert obligation.case is not None
    url = f"/en/desk/cases/{obligation.case.public_id}/"
    assert 'id="regulatory"' in client_for(lead).get(url).content.decode()
    assert 'id="regulatory"' in client_for(handler).get(url).content.decode()
    # An engineer may see the case (invited) but not its regulatory records.
    from psirt.cases.services import cases as case_services

    case_services.invite_engineer(case=obligation.case, engineer=engineer, actor=lead)
    page = client_for(engineer).get(url)
    assert page.status_code == 200
    assert 'id="regulatory"' not in page.content.decode()


def test_open_miit_from_the_case(case: Case, lead: User) -> None:
    response = client_for(lead).post(f"/en/desk/regulatory/miit/{case.public_id}/")
    assert response.status_code == 302
    assert Obligation.objects.filter(case=case, track=Track.MIIT).exists()


def test_open_incident_refuses_bad_dates(lead: User) -> None:
    response = client_for(lead).post(
        "/en/desk/regulatory/incident/", {"title": "Breach", "aware_at": "20266-01-01 10:00"}
    )
    assert response.status_code == 422
    assert not Obligation.objects.exists()


def test_desk_home_counts(exploited: Case, lead: User, engineer: User) -> None:
    body = client_for(lead).get("/en/desk/").content.decode()
    assert 'id="regulatory-dashboard"' in body
    assert '<span class="stat-value">1</span> <span class="stat-label"><a href="/en/desk/regulatory/">Exploited' in body
    assert 'id="regulatory-dashboard"' not in client_for(engineer).get("/en/desk/").content.decode()


def test_times_are_shown_in_utc_whatever_the_server_zone(settings, lead: User, profile) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    aware = dt.datetime(2026, 12, 4, 23, 30, tzinfo=dt.UTC)  # 07:30 on the 5th in Shanghai
    incident = services.open_incident(actor=lead, title="Breach", aware_at=aware)
    body = client_for(lead).get(_url(incident)).content.decode()
    assert "2026-12-04 23:30 UTC" in body
    assert "2026-12-05 23:30" in body  # the early warning, due 24 h later in UTC
    assert "2026-12-05 07:30" not in body


def test_the_case_panel_opens_what_exploitation_owes_and_offers_miit_until_one_is_open(case: Case, lead: User) -> None:
    url = f"/en/desk/cases/{case.public_id}/"
    miit_button = f'action="/en/desk/regulatory/miit/{case.public_id}/"'
    body = client_for(lead).get(url).content.decode()
    assert miit_button in body and not Obligation.objects.filter(case=case).exists()
    # Exploitation recorded behind the services' back (an import, the admin): the case page still opens the
    # vulnerability obligation, and keeps a pending one's awareness time equal to the case's.
    aware = timezone.now() - dt.timedelta(hours=5)
    Case.objects.filter(pk=case.pk).update(exploitation="active", exploitation_aware_at=aware)
    client_for(lead).get(url)
    assert Obligation.objects.get(case=case, track=Track.VULNERABILITY).aware_at == aware
    later = aware + dt.timedelta(hours=1)
    Case.objects.filter(pk=case.pk).update(exploitation_aware_at=later)
    client_for(lead).get(url)
    assert Obligation.objects.get(case=case, track=Track.VULNERABILITY).aware_at == later
    assert client_for(lead).post(f"/en/desk/regulatory/miit/{case.public_id}/").status_code == 302
    body = client_for(lead).get(url).content.decode()
    assert miit_button not in body and 'id="regulatory"' in body
