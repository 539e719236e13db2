"""The case conversation: messages to reporters (mailed, encrypted to their key) and internal notes apart."""

from __future__ import annotations

import pysequoia
import pytest
from django.core import mail
from django.test import Client

from psirt.cases.models import Case
from psirt.cases.services import cases as case_services
from psirt.cases.services.message_templates import TEMPLATES, render
from psirt.intake.models import Message, Report
from psirt.tests.factories import make_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(lead, handler, report) -> Case:
    return case_services.open_case(report=report, actor=lead, title="RCE in web UI", assignees=[handler])


def url(case: Case, action: str = "") -> str:
    return f"/en/desk/cases/{case.public_id}/{action + '/' if action else ''}"


def test_message_to_the_reporter_is_mailed_and_shown_apart_from_notes(
    as_handler: Client, case: Case, report: Report, django_capture_on_commit_callbacks
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = as_handler.post(url(case, "messages"), {"msg-report": str(report.public_id), "msg-body": "Hi <b>"})
        assert response.status_code == 302 and response["Location"].endswith("#conversation")
        as_handler.post(url(case, "notes"), {"note-report": str(report.public_id), "note-body": "Looks real; ask QA"})
    sent = Message.objects.get(is_internal=False)
    assert sent.body == "Hi <b>" and sent.author_kind == "team"
    assert Message.objects.get(is_internal=True).body == "Looks real; ask QA"
    assert [m.to for m in mail.outbox] == [["ada@research.test"]]  # the note is never mailed
    assert "Looks real" not in mail.outbox[0].body
    html = as_handler.get(url(case)).content.decode()
    reporter_part, notes_part = html.split("Internal notes", 1)
    assert "Hi &lt;b&gt;" in reporter_part and "Looks real; ask QA" in notes_part.split("Write to the reporter")[0]
    assert "Looks real" not in reporter_part


def test_reporter_portal_never_shows_internal_notes(as_handler: Client, case: Case, report: Report, handler) -> None:
    from psirt.cases.services.messages import post_message

    post_message(case=case, report=report, actor=handler, body="secret triage note", internal=True)
    post_message(case=case, report=report, actor=handler, body="Thanks, we are on it")
    from urllib.parse import urlsplit

    from psirt.intake.services import magic_url

    portal = Client().get(urlsplit(magic_url(report)).path + "?" + urlsplit(magic_url(report)).query, follow=True)
    text = portal.content.decode()
    assert "Thanks, we are on it" in text and "secret triage note" not in text


def test_message_to_a_reporter_with_a_key_is_encrypted_over_smtp(
    as_handler: Client, case: Case, report: Report, smtp_server, django_capture_on_commit_callbacks
) -> None:
    key = pysequoia.Tsk.generate("Ada <ada@research.test>")
    Report.objects.filter(pk=report.pk).update(pgp_key=str(key.extract_certificate()))
    with django_capture_on_commit_callbacks(execute=True):
        as_handler.post(url(case, "messages"), {"msg-report": str(report.public_id), "msg-body": "Fix due in May"})
    (message,) = smtp_server.wait_for(1)
    assert b"Fix due in May" not in smtp_server.raw[0][2]
    armored = message.get_content()
    clear = (pysequoia.decrypt(armored.encode(), decryptor=key.decryptor()).bytes or b"").decode()
    assert "Fix due in May" in clear


def test_templates_come_in_the_reporters_language(as_handler: Client, case: Case, report: Report) -> None:
    html = as_handler.get(url(case) + f"?template=validated&report={report.public_id}").content.decode()
    assert "We have reproduced the vulnerability" in html and report.tracking_id in html
    Report.objects.filter(pk=report.pk).update(language="zh-hans")
    html = as_handler.get(url(case) + "?template=validated").content.decode()
    assert "我们已复现并确认" in html
    # Every template exists in both languages, with the tracking ID filled in.
    for key in TEMPLATES:
        report.language = "en"
        en = render(key, report=report, date="2026-05-01", credit=True)
        report.language = "zh-hans"
        zh = render(key, report=report, date="2026-05-01", credit=True)
        assert en != zh and report.tracking_id in en and report.tracking_id in zh and "{" not in en + zh


def test_a_template_does_not_reinterpret_the_reporters_name(report: Report) -> None:
    report.reporter_name = "{tracking_id} {0} %s"
    assert render("acknowledgment", report=report).startswith("Hello {tracking_id} {0} %s,")


def test_bad_messages_are_refused_with_a_reason(
    as_handler: Client, case: Case, report: Report, lead, product, invited_engineer_client: Client
) -> None:
    other = case_services.open_case(report=make_report(product, email="o@x.test"), actor=lead, title="Other")
    foreign = other.case_reports.get().report
    response = as_handler.post(url(case, "messages"), {"msg-report": str(foreign.public_id), "msg-body": "x"})
    assert response.status_code == 400  # not one of this case's reports
    assert (
        as_handler.post(url(case, "messages"), {"msg-report": str(report.public_id), "msg-body": ""}).status_code == 400
    )
    big = {"msg-report": str(report.public_id), "msg-body": "x" * 60_000}
    assert as_handler.post(url(case, "messages"), big).status_code == 400
    nul = {"msg-report": str(report.public_id), "msg-body": "a\x00b"}
    assert as_handler.post(url(case, "messages"), nul).status_code in (400, 422)
    ok = {"msg-report": str(report.public_id), "msg-body": "hello"}
    assert invited_engineer_client.post(url(case, "messages"), ok).status_code == 403
    assert not Message.objects.filter(report=report).exists()


@pytest.fixture
def invited_engineer_client(lead, case: Case) -> Client:
    from conftest import _make_user, client_for
    from psirt.accounts.models import Role

    user = _make_user("inv@persona.test", Role.ENGINEER)
    case_services.invite_engineer(case=case, engineer=user, actor=lead)
    return client_for(user)


def test_viewing_the_case_page_is_a_staff_view_of_its_reports(
    as_handler: Client, case: Case, report: Report, handler
) -> None:
    from psirt.audit.models import AuditEvent

    as_handler.get(url(case))
    assert (
        AuditEvent.objects.filter(action="report.viewed", actor=handler, target_id=str(report.public_id)).count() == 1
    )
