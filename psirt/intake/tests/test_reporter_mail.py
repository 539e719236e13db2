"""Mail to a reporter is in the language of their report only (every site language when they wrote in
neither), and each language's part links to the portal in that language."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from psirt.intake import services
from psirt.intake.management.commands.mailgate import written_language
from psirt.intake.models import Report
from psirt.tests.factories import make_report_and_token

pytestmark = pytest.mark.django_db

ZH_NOTICE = "安全团队就您的报告"
EN_NOTICE = "The security team wrote to you about your report"


def _notify(report: Report, django_capture_on_commit_callbacks) -> mail.EmailMessage:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.notify_reporter(report=report)
    assert len(mail.outbox) == 1
    return mail.outbox[0]


def _links(body: str) -> list[str]:
    return re.findall(r"https://psirt\.test/([a-z-]+)/r/m\.", body)


def test_english_reporter_gets_english_only_with_an_english_portal_link(django_capture_on_commit_callbacks):
    report, _token = make_report_and_token()
    sent = _notify(report, django_capture_on_commit_callbacks)
    assert EN_NOTICE in sent.body and ZH_NOTICE not in sent.body
    assert _links(str(sent.body)) == ["en"]
    html, _mime = sent.alternatives[0]  # type: ignore[attr-defined]
    assert 'lang="zh-Hans"' not in html and "/zh-hans/r/" not in html


def test_chinese_reporter_gets_chinese_only_with_a_chinese_portal_link(django_capture_on_commit_callbacks):
    report, _token = make_report_and_token()
    Report.objects.filter(pk=report.pk).update(language="zh-hans")
    report.refresh_from_db()
    sent = _notify(report, django_capture_on_commit_callbacks)
    assert ZH_NOTICE in sent.body and EN_NOTICE not in sent.body
    assert _links(str(sent.body)) == ["zh-hans"]
    assert "[" + report.tracking_id + "]" in sent.subject and "/" not in sent.subject


def test_reporter_who_wrote_in_neither_gets_both_each_linking_to_its_portal(django_capture_on_commit_callbacks):
    report, _token = make_report_and_token()
    Report.objects.filter(pk=report.pk).update(language="")
    report.refresh_from_db()
    sent = _notify(report, django_capture_on_commit_callbacks)
    assert EN_NOTICE in sent.body and ZH_NOTICE in sent.body
    assert _links(str(sent.body)) == ["en", "zh-hans"]
    english, chinese = str(sent.body).split(ZH_NOTICE[:4], 1)
    assert "/en/r/" in english and "/zh-hans/r/" not in english
    assert "/zh-hans/r/" in chinese


def test_lost_link_mail_follows_the_reporters_language(anonymous, django_capture_on_commit_callbacks):
    report, _token = make_report_and_token()
    Report.objects.filter(pk=report.pk).update(language="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        anonymous.post("/en/report/lost-link/", {"email": "ada@research.test"})
    body = str(mail.outbox[-1].body)
    assert "如果并非您本人申请" in body and "If you did not ask for it" not in body
    assert "原来的链接仍然有效" in body  # the old link keeps working until the new one is opened
    assert re.search(r"https://psirt\.test/zh-hans/r/[A-Za-z0-9_-]{43}/", body)


def test_submission_keeps_no_language_when_it_is_not_a_site_language():
    submission = services.submit_report(
        data=services.ReportInput(
            reporter_name="Jan", reporter_email="jan@example.test", description="x", accepted_guidelines=True
        ),
        language="de",
        send_acknowledgment=False,
    )
    assert submission.report.language == ""
    assert "/en/r/" in submission.portal_url  # the portal itself opens in the default language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The RTSP server overflows on a long URL.", "en"),
        ("摄像机的 RTSP 服务在长 URL 上溢出。", "zh-hans"),
        ("Der RTSP-Server läuft bei einer langen URL über. Bitte prüfen Sie die Firmware.", ""),
        ("", ""),
    ],
)
def test_mailgate_recognises_english_chinese_or_neither(text, language):
    assert written_language(text) == language
