"""Inbox triage: open a case from a report, or attach it as a duplicate; likely duplicates suggested."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import Client

from psirt.cases.models import Case, CaseReport
from psirt.cases.services import cases as case_services
from psirt.cases.services.duplicates import similarity, suggest_duplicates, tokens
from psirt.intake.models import InboxState, Message, Report, Stage
from psirt.tests.factories import make_report

pytestmark = pytest.mark.django_db


def url(report: Report, action: str = "") -> str:
    return f"/en/desk/cases/triage/{report.public_id}/{action + '/' if action else ''}"


@pytest.fixture
def existing(lead, handler, product) -> Case:
    first = make_report(product, email="first@x.test", description="Stack overflow in the RTSP server of the camera")
    return case_services.open_case(report=first, actor=lead, title="RTSP stack overflow", assignees=[handler])


def test_similar_text_scores_higher_than_unrelated_text() -> None:
    a = tokens("Buffer overflow in the RTSP server when the URI is too long")
    b = tokens("RTSP server crashes: buffer overflow with a long URI")
    c = tokens("The login page leaks the admin password in a cookie")
    assert similarity(a, b) > 0.3 > similarity(a, c)
    # Chinese text has no spaces: character pairs still match.
    assert similarity(tokens("摄像机RTSP服务栈溢出漏洞"), tokens("RTSP服务存在栈溢出")) > 0.3


def test_likely_duplicates_prefer_the_same_product_and_similar_text(lead, existing: Case, product, other_line) -> None:
    from psirt.catalog.models import Product

    router = Product.objects.create(line=other_line, slug="r1", name="Router R1")
    unrelated = case_services.open_case(
        report=make_report(router, email="u@x.test", description="Weak default Wi-Fi password"),
        actor=lead,
        title="Wi-Fi",
    )
    new = make_report(product, email="n@x.test", description="RTSP server stack overflow with a long request")
    found = suggest_duplicates(report=new, user=lead)
    assert [s.case for s in found][:1] == [existing] and found[0].same_product
    assert unrelated not in [s.case for s in found]


def test_lead_sees_the_triage_page_with_suggestions(as_lead: Client, existing: Case, product) -> None:
    new = make_report(product, email="n@x.test", description="RTSP server stack overflow <script>x</script>")
    html = as_lead.get(url(new)).content.decode()
    assert existing.key in html and "Likely duplicates" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x</script>" not in html


def test_only_leads_triage_and_only_inbox_reports(
    as_handler: Client, as_engineer: Client, anonymous: Client, as_lead: Client, existing: Case, report
) -> None:
    assert as_handler.get(url(report)).status_code == 404
    assert as_engineer.get(url(report)).status_code == 404
    assert anonymous.get(url(report)).status_code == 302
    assert as_handler.post(url(report, "open"), {"title": "x"}).status_code == 404
    taken = existing.case_reports.get().report
    assert as_lead.get(url(taken)).status_code == 404  # already in a case


def test_lead_opens_a_case_from_the_inbox(as_lead: Client, handler, report) -> None:
    response = as_lead.post(url(report, "open"), {"title": "Camera RCE", "assignees": [str(handler.public_id)]})
    assert response.status_code == 302
    case = Case.objects.get(title="Camera RCE")
    assert response["Location"].endswith(f"/desk/cases/{case.public_id}/")
    assert list(case.assignees.all()) == [handler]
    report.refresh_from_db()
    assert report.inbox_state == InboxState.TAKEN


def test_opening_without_a_title_keeps_the_choices_and_says_why(as_lead: Client, handler, report) -> None:
    response = as_lead.post(url(report, "open"), {"title": "", "assignees": [str(handler.public_id)]})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    assert not Case.objects.exists()
    assert as_lead.post(url(report, "open"), {"title": "x" * 201}).status_code == 400


def test_attaching_a_later_duplicate_tells_the_reporter_kindly(
    as_lead: Client, existing: Case, product, django_capture_on_commit_callbacks
) -> None:
    late = make_report(product, email="late@x.test", description="RTSP overflow again")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = as_lead.post(url(late, "attach"), {"case": existing.key.lower()})
    assert response.status_code == 302
    link = CaseReport.objects.get(report=late)
    assert (link.case, link.is_duplicate, link.credited) == (existing, True, False)
    late.refresh_from_db()
    assert (late.stage, late.inbox_state) == (Stage.DUPLICATE, InboxState.TAKEN)
    note = Message.objects.get(report=late)
    assert not note.is_internal and "already known to us" in note.body and "credited" not in note.body
    assert [m.to for m in mail.outbox] == [["late@x.test"]]  # one mail, not one per step


def test_a_duplicate_reported_first_is_credited(as_lead: Client, existing: Case, product) -> None:
    early = make_report(product, email="early@x.test", description="RTSP overflow")
    first_received = existing.case_reports.get().report.created_at
    Report.objects.filter(pk=early.pk).update(created_at=first_received - dt.timedelta(days=3), language="zh-hans")
    assert as_lead.post(url(early, "attach"), {"case": existing.key}).status_code == 302
    assert CaseReport.objects.get(report=early).credited
    body = Message.objects.get(report=early).body
    assert "致谢" in body  # the reporter's language picks the text
    page = as_lead.get(f"/en/desk/cases/{existing.public_id}/").content.decode()
    assert "reported first: credited" in page


def test_attach_to_an_unknown_case_keeps_the_report_in_the_inbox(as_lead: Client, report) -> None:
    response = as_lead.post(url(report, "attach"), {"case": "CASE-1999-0001"})
    assert response.status_code == 422 and "No case has this number" in response.content.decode()
    report.refresh_from_db()
    assert report.inbox_state == InboxState.NEW
