"""Mail goes out over real SMTP (a local aiosmtpd server started by the test), encrypted when it can be."""

from __future__ import annotations

import re
from datetime import timedelta

import pysequoia
import pytest

from psirt.intake.models import Report
from psirt.intake.tests.conftest import valid_post
from psirt.mail.models import OutboxMessage, OutboxStatus
from psirt.mail.services import drain

pytestmark = pytest.mark.django_db


def test_acknowledgment_is_sent_over_smtp_with_the_private_link(
    public, catalog, report_url, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        public.post(report_url, valid_post())
    thanks = public.get("/en/report/thanks/").content.decode()
    match = re.search(r"https://psirt\.test/en/r/[A-Za-z0-9_-]+/", thanks)
    assert match is not None
    link = match.group(0)

    (message,) = smtp_server.wait_for(1)
    report = Report.objects.get()
    assert smtp_server.raw[0][1] == ["ada@research.test"]
    assert report.tracking_id in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert link in text and link in html
    assert "business days" in text


def test_acknowledgment_is_encrypted_to_the_reporters_key(
    public, catalog, report_url, smtp_server, reporter_key, django_capture_on_commit_callbacks
):
    public_key = str(reporter_key.extract_certificate())
    with django_capture_on_commit_callbacks(execute=True):
        public.post(report_url, valid_post(pgp_key=public_key))
    (message,) = smtp_server.wait_for(1)
    raw = smtp_server.raw[0][2]
    assert b"/en/r/" not in raw  # the link never crosses the wire in clear
    assert message.get_content_type() == "text/plain"  # no HTML copy of the clear text
    armored = message.get_content()
    assert armored.strip().startswith("-----BEGIN PGP MESSAGE-----")
    clear = (pysequoia.decrypt(armored.encode(), decryptor=reporter_key.decryptor()).bytes or b"").decode()
    assert Report.objects.get().tracking_id in clear and "/en/r/" in clear


def test_mail_server_down_does_not_lose_the_report_and_the_mail_is_retried(
    public, catalog, report_url, settings, caplog, django_capture_on_commit_callbacks
):
    from django.core import mail
    from django.utils import timezone

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    with django_capture_on_commit_callbacks(execute=True):
        response = public.post(report_url, valid_post())
    assert response.status_code == 302
    assert Report.objects.count() == 1
    thanks = public.get("/en/report/thanks/").content.decode()
    assert Report.objects.get().tracking_id in thanks
    queued = OutboxMessage.objects.get()
    assert queued.status == OutboxStatus.FAILED and queued.attempts == 1 and "not sent" in caplog.text
    # Later the mail server is back: the retry delivers it and wipes the private link from the outbox.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert drain(now=timezone.now() + timedelta(hours=1)) == 1
    queued.refresh_from_db()
    assert queued.status == OutboxStatus.SENT and queued.context == "" and len(mail.outbox) == 1
