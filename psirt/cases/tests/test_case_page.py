"""The case page as a working surface: its structure (the report's text, the summary strip, the sections and
their no-script navigation), release pickers scoped to the case's product line, the calculators' live score
endpoint, the searchable assignment picker, and the agreed disclosure date stated as the same day on the page, in
the reminder mail and in the reporter's portal, whatever the site's time zone."""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import _make_user, client_for
from psirt.accounts.models import Role, User
from psirt.cases.models import AffectedRange, Assignment, Case
from psirt.cases.services import cases as case_services
from psirt.cases.services.deadlines import send_deadline_reminders
from psirt.cases.views.context import strip_deadlines
from psirt.catalog.models import Product, ProductLine
from psirt.mail.models import OutboxMessage
from psirt.mail.services import render_bilingual
from psirt.tests.factories import make_product, make_release, make_report, make_report_and_token

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
SATURDAY = dt.date(2027, 3, 6)


@pytest.fixture
def case(lead: User, handler: User, product: Product) -> Case:
    report = make_report(product, description=f"The NTP field runs a shell. {HOSTILE}")
    case = case_services.open_case(report=report, actor=lead, title="RCE in the web UI", assignees=[handler])
    for state in ("acknowledged", "triage", "confirmed"):
        case = case_services.transition(case=case, to_state=state, actor=lead)
    case_services.set_cvss(case=case, vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", actor=lead)
    case.refresh_from_db()
    return case


def page(client: Client, case: Case, language: str = "en") -> str:
    response = client.get(f"/{language}/desk/cases/{case.public_id}/")
    assert response.status_code == 200
    return response.content.decode()


def strip_of(html: str) -> str:
    match = re.search(r'<div class="case-strip" id="summary">(.*?)</nav>\s*</div>', html, re.S)
    assert match, "no summary strip"
    return match.group(1)


# --- structure ---------------------------------------------------------------------------------------------


def test_report_text_comes_first_escaped_then_the_strip_then_the_sections(case: Case, handler: User) -> None:
    html = page(client_for(handler), case)
    report_at = html.index('id="report"')
    strip_at = html.index('id="summary"')
    sections = [
        html.index(f'<section class="case-section" id="{s}"')
        for s in ("triage", "scoring", "remediation", "conversation", "history")
    ]
    assert report_at < strip_at < sections[0] and sections == sorted(sections)
    assert "The NTP field runs a shell." in html
    assert HOSTILE not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    # The section nav is plain anchors: it works without the script.
    for section in ("triage", "scoring", "remediation", "conversation", "history"):
        assert f'<a href="#{section}" data-tab="{section}">' in html


def test_the_strip_holds_state_severity_deadlines_assignees_and_advisories(
    case: Case, handler: User, lead: User
) -> None:
    case_services.set_disclosure_date(case=case, date=SATURDAY, actor=lead)
    strip = strip_of(page(client_for(handler), case))
    assert "Confirmed" in strip and "sev-critical" in strip
    for kind in ("ack", "remediation", "disclosure"):
        assert f'data-deadline="{kind}"' in strip
    assert "2027-03-06 (Saturday)" in strip
    assert str(handler) in strip
    assert 'id="strip-advisories"' in strip and "no advisory yet" in strip


def test_deadline_marks_done_overdue_due_soon(case: Case, lead: User) -> None:
    now = timezone.now()
    marks = {d.key: d.status for d in strip_deadlines(case, now)}
    assert marks["ack"] == "done" and marks["disclosure"] == "none"
    assert marks["remediation"] == "open"
    Case.objects.filter(pk=case.pk).update(remediation_due_at=now - dt.timedelta(hours=1))
    case.refresh_from_db()
    assert {d.key: d.status for d in strip_deadlines(case, now)}["remediation"] == "overdue"
    Case.objects.filter(pk=case.pk).update(remediation_due_at=now + dt.timedelta(hours=20))
    case.refresh_from_db()
    assert {d.key: d.status for d in strip_deadlines(case, now)}["remediation"] == "soon"
    # The agreed day itself is not overdue: the date passes at the end of that day.
    today = timezone.localdate(now)
    case_services.set_disclosure_date(case=case, date=today, actor=lead)
    case_services.transition(case=case, to_state="remediation", actor=lead)
    case.refresh_from_db()
    assert {d.key: d.status for d in strip_deadlines(case, now)}["disclosure"] in ("soon", "open")
    case_services.set_disclosure_date(case=case, date=today - dt.timedelta(days=1), actor=lead)
    assert {d.key: d.status for d in strip_deadlines(case, now)}["disclosure"] == "overdue"


def test_the_page_loads_its_script_from_the_site_and_the_policy_allows_nothing_else(case: Case, handler: User) -> None:
    response = client_for(handler).get(f"/en/desk/cases/{case.public_id}/")
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert any(re.search(r'src="/static/psirt/js/case\.js"', s) for s in scripts), scripts
    assert all("src=" in s for s in scripts), "no inline script"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe-inline" not in csp


# --- release pickers ---------------------------------------------------------------------------------------


@pytest.fixture
def catalog(product: Product, line: ProductLine, other_line: ProductLine) -> dict[str, Any]:
    sibling = make_product(line, slug="cam-x7", name="Camera X7")
    router = make_product(other_line, slug="rt-1", name="Router RT-1")
    return {
        "own_old": make_release(product, "V1.0.0 build 240101", 1, release_date=dt.date(2024, 1, 1)),
        "own_new": make_release(product, "V1.1.0 build 250310", 2, release_date=dt.date(2025, 3, 10)),
        "own_eu": make_release(product, "V1.1.0 build 250310", 1, variant="EU"),
        "sibling": make_release(sibling, "V3.0.0", 1, release_date=dt.date(2025, 6, 1)),
        "router": make_release(router, "V9.9.9", 1, release_date=dt.date(2025, 6, 1)),
    }


def _select(html: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match, name
    return match.group(1)


def test_release_pickers_offer_the_case_line_grouped_by_product_with_build_and_date(
    case: Case, handler: User, catalog: dict[str, Any]
) -> None:
    html = page(client_for(handler), case)
    fixed = _select(html, "range-fixed")
    groups = re.findall(r'<optgroup label="([^"]+)">', fixed)
    assert groups == ["Camera X5", "Camera X7"]  # the case's product first, then its line; no router
    assert str(catalog["router"].public_id) not in fixed and "Router" not in _select(html, "range-product")
    assert "V1.1.0 build 250310 · standard build · 2025-03-10" in fixed
    assert "V1.1.0 build 250310 · EU" in fixed
    assert fixed.index("V1.1.0 build 250310 · standard") < fixed.index("V1.0.0 build 240101")  # newest first


def test_a_release_of_another_line_is_refused(
    case: Case, handler: User, product: Product, catalog: dict[str, Any]
) -> None:
    client = client_for(handler)
    url = f"/en/desk/cases/{case.public_id}/affected/"
    refused = client.post(url, {"range-product": "rt-1", "range-fixed": str(catalog["router"].public_id)})
    assert refused.status_code == 400 and not AffectedRange.objects.exists()
    refused = client.post(url, {"range-product": product.slug, "range-fixed": str(catalog["router"].public_id)})
    assert refused.status_code == 400 and not AffectedRange.objects.exists()
    saved = client.post(url, {"range-product": product.slug, "range-fixed": str(catalog["own_new"].public_id)})
    assert saved.status_code == 302
    assert AffectedRange.objects.get().fixed == catalog["own_new"]


# --- the calculators' live score ---------------------------------------------------------------------------


def score_url(case: Case, version: str = "31") -> str:
    return f"/en/desk/cases/{case.public_id}/cvss/{version}/score/"


def test_the_score_endpoint_scores_metrics_and_typed_vectors_with_the_one_severity_rule(
    case: Case, handler: User
) -> None:
    client = client_for(handler)
    picked = {"AV": "N", "AC": "L", "PR": "N", "UI": "N", "S": "U", "C": "H", "I": "H", "A": "H"}
    metrics = {f"v31-m_{k}": v for k, v in picked.items()}
    body = client.get(score_url(case), {**metrics, "v31-vector": "", "v31-shown_vector": ""}).json()
    assert (body["base"], body["severity"], body["vector"]) == (
        9.8,
        "Critical",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    )
    # v3.1: the temporal score decides (exploit maturity "unproven" lowers it), not the environmental one.
    typed = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/CR:L/IR:L/AR:L"
    body = client.get(score_url(case), {"v31-vector": typed, "v31-shown_vector": ""}).json()
    assert body["temporal"] == 9.0 and body["decisive_score"] == 9.0 and body["severity"] == "Critical"
    assert body["environmental"] < 9.0
    v40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    body = client.get(score_url(case, "40"), {"v40-vector": v40, "v40-shown_vector": ""}).json()
    assert body["version"] == "4.0" and body["threat"] == 9.3 and body["severity_label"] == "Critical"
    case.refresh_from_db()
    assert case.cvss40_vector == ""  # nothing stored


@pytest.mark.parametrize(
    "params",
    [
        {"v31-vector": "CVSS:3.1/AV:Q"},
        {"v31-vector": "x" * 5000},
        {"v31-vector": HOSTILE},
        {"v31-m_AV": "<b>"},
        {},
    ],
)
def test_the_score_endpoint_answers_bad_input_with_a_message(case: Case, handler: User, params: dict[str, str]) -> None:
    response = client_for(handler).get(score_url(case), params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


def test_the_score_endpoint_is_need_to_know(case: Case, engineer: User, other_handler: User) -> None:
    assert client_for(engineer).get(score_url(case), {"v31-vector": "CVSS:3.1/AV:N"}).status_code == 404
    assert client_for(other_handler).get(score_url(case)).status_code == 404
    assert client_for(None).get(score_url(case)).status_code == 302
    assert (
        client_for(User.objects.get(role=Role.HANDLER, assignments__case=case))
        .get(f"/en/desk/cases/{case.public_id}/cvss/99/score/")
        .status_code
        == 404
    )


def test_calculators_name_their_score_endpoint(case: Case, handler: User) -> None:
    html = page(client_for(handler), case)
    assert f'data-score-url="{score_url(case)}"' in html and f'data-score-url="{score_url(case, "40")}"' in html
    assert html.count("data-live") == 2


# --- the assignment picker ---------------------------------------------------------------------------------


@pytest.fixture
def people(db: None) -> dict[str, User]:
    return {
        "mei": _make_user("mei@people.test", Role.HANDLER),
        "mei2": _make_user("mei@other.test", Role.HANDLER),  # the same name ("mei"), another address
        "bo": _make_user("bo@people.test", Role.LEAD),
    }


def test_the_picker_is_a_datalist_of_the_assignable_people(case: Case, lead: User, people: dict[str, User]) -> None:
    html = page(client_for(lead), case)
    assert 'list="assign-people"' in html and '<datalist id="assign-people">' in html
    datalist = re.search(r'<datalist id="assign-people">(.*?)</datalist>', html, re.S)
    assert datalist and "mei &lt;mei@people.test&gt;" in datalist.group(1)
    assert 'id="id_assign-people_user"' in html and 'id="id_invite-people_user"' in html  # ids stay unique


@pytest.mark.parametrize(
    ("typed", "who"),
    [("mei <mei@people.test>", "mei"), ("  MEI@people.test ", "mei"), ("bo", "bo")],
)
def test_assign_by_what_was_typed(case: Case, lead: User, people: dict[str, User], typed: str, who: str) -> None:
    response = client_for(lead).post(f"/en/desk/cases/{case.public_id}/people/", {"action": "assign", "user": typed})
    assert response.status_code == 302
    assert Assignment.objects.filter(case=case, user=people[who]).exists()


@pytest.mark.parametrize("typed", ["mei", "nobody@people.test", HOSTILE, "x" * 1000, ""])
def test_an_ambiguous_or_unknown_person_is_refused(case: Case, lead: User, people: dict[str, User], typed: str) -> None:
    before = Assignment.objects.count()
    response = client_for(lead).post(f"/en/desk/cases/{case.public_id}/people/", {"action": "assign", "user": typed})
    assert response.status_code == 400
    assert Assignment.objects.count() == before
    assert HOSTILE not in response.content.decode()


def test_a_handler_may_not_assign(case: Case, handler: User, people: dict[str, User]) -> None:
    response = client_for(handler).post(
        f"/en/desk/cases/{case.public_id}/people/", {"action": "assign", "user": "bo@people.test"}
    )
    assert response.status_code == 403
    assert not Assignment.objects.filter(user=people["bo"]).exists()


# --- the same day everywhere -------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/Los_Angeles", "Pacific/Kiritimati"])
def test_agreed_date_is_the_same_day_on_the_page_in_the_mail_and_in_the_portal(
    settings: Any, zone: str, lead: User, handler: User, product: Product, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TIME_ZONE = zone
    report, token = make_report_and_token(product)
    case = case_services.open_case(report=report, actor=lead, title="RCE", assignees=[handler])
    for state in ("acknowledged", "triage", "confirmed", "remediation"):
        case = case_services.transition(case=case, to_state=state, actor=lead)
    case_services.set_disclosure_date(case=case, date=SATURDAY, actor=lead)
    Case.objects.filter(pk=case.pk).update(remediation_due_at=None)  # only the disclosure date is due

    assert "2027-03-06 (Saturday)" in page(client_for(handler), case)
    assert "2027-03-06（星期六）" in page(client_for(handler), case, "zh-hans")

    # The reminder goes the working day before the agreed day (Friday 5 March, local time), and names the day.
    tz = zoneinfo.ZoneInfo(zone)
    OutboxMessage.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False):
        assert send_deadline_reminders(now=dt.datetime(2027, 3, 4, 9, tzinfo=tz))["assignees"] == 0
        assert send_deadline_reminders(now=dt.datetime(2027, 3, 5, 9, tzinfo=tz))["assignees"] == 1
    mail = OutboxMessage.objects.get(template="cases/mail/reminder")
    _subject, text, html = render_bilingual(mail.template, json.loads(mail.context), mail.language)
    assert "2027-03-06 (Saturday), end of the day" in text
    assert "2027-03-06（星期六），当天结束时" in text
    assert "2027-03-07" not in text + html  # the midnight that ends the day is not the day

    portal = Client().get(f"/en/r/{token}/")
    assert portal.status_code == 200
    assert "2027-03-06 (Saturday)" in portal.content.decode()
