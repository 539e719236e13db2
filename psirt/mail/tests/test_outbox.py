"""The mail outbox: queued with the change, sent once by the worker, nothing sensitive kept after."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from psirt.mail.models import OutboxMessage, OutboxStatus
from psirt.mail.services import PreparedMail, backoff, send_mail_bilingual, send_one

pytestmark = pytest.mark.django_db


def queue(**overrides):
    args: dict[str, Any] = {
        "to": ["ada@research.test"],
        "template": "intake/mail/new_link",
        "context": {"report": {"tracking_id": "VR-2026-0001"}, "portal_urls": {"en": "https://x.test/en/r/SECRET/"}},
        "language": "en",
    }
    args.update(overrides)
    return send_mail_bilingual(**args)


def test_mail_is_sent_once_even_if_delivered_twice(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queued = queue()
    assert send_one(queued.pk) == "not due"  # the task already sent it
    assert len(mail.outbox) == 1
    queued.refresh_from_db()
    assert queued.status == OutboxStatus.SENT and queued.sent_at is not None


def test_private_link_is_wiped_from_the_outbox_once_sent(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queued = queue()
    queued.refresh_from_db()
    assert queued.context == "" and queued.pgp_key == ""
    assert "SECRET" in mail.outbox[0].body


def test_mail_of_a_rolled_back_change_is_never_sent(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                queue()
                raise RuntimeError("the change fails")
        except RuntimeError:
            pass
    assert OutboxMessage.objects.count() == 0 and mail.outbox == []


def test_mail_that_cannot_be_encrypted_is_not_sent_in_clear(django_capture_on_commit_callbacks):
    bad_key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbroken\n-----END PGP PUBLIC KEY BLOCK-----"
    with django_capture_on_commit_callbacks(execute=True):
        queued = queue(pgp_key=bad_key)
    queued.refresh_from_db()
    assert mail.outbox == [] and queued.status == OutboxStatus.GAVE_UP


def test_mail_is_bilingual_text_and_html(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue(language="zh-hans")
    message: Any = mail.outbox[0]
    html = str(message.alternatives[0][0])
    assert html.index('lang="zh-Hans"') < html.index('lang="en"')


class RefusingBackend:
    """A mail server that is down."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise ConnectionRefusedError("no mail server")


def test_single_mail_follows_the_same_retry_and_give_up_rule_as_a_fan_out(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "psirt.mail.tests.test_outbox.RefusingBackend"
    with django_capture_on_commit_callbacks(execute=True):
        queued = queue()
    queued.refresh_from_db()
    assert (queued.status, queued.attempts, queued.last_error) == (OutboxStatus.FAILED, 1, "ConnectionRefusedError")
    assert queued.next_attempt_at - timezone.now() > backoff(1) - dt.timedelta(seconds=5)
    # Past its give-up deadline the next failure is final.
    OutboxMessage.objects.update(give_up_at=timezone.now() - dt.timedelta(seconds=1))
    assert send_one(queued.pk, now=queued.next_attempt_at) == OutboxStatus.GAVE_UP
    queued.refresh_from_db()
    assert queued.status == OutboxStatus.GAVE_UP and queued.attempts == 2 and mail.outbox == []


def test_languages_restrict_the_mail_to_those_languages(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue(language="zh-hans", languages=["zh-hans"])
    body = mail.outbox[0].body
    assert "如果并非您本人申请" in body
    assert "If you did not ask for it" not in body
    html = str(mail.outbox[0].alternatives[0][0])  # type: ignore[union-attr]
    assert 'lang="en"' not in html and 'lang="zh-Hans"' in html


def test_unknown_languages_fall_back_to_every_site_language(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue(languages=["de", "<script>"])
    body = mail.outbox[0].body
    assert "如果并非您本人申请" in body and "If you did not ask for it" in body


def test_a_mail_prepared_before_the_transaction_is_stored_and_sent_with_the_context_given_inside(
    django_capture_on_commit_callbacks,
):
    prepared = PreparedMail(to=["ada@research.test"], template="intake/mail/new_link", languages=["en"])
    assert OutboxMessage.objects.count() == 0  # nothing stored until queued
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queued = prepared.queue(
            {"report": {"tracking_id": "VR-2026-0042"}, "portal_urls": {"en": "https://x.test/en/r/SECRET/"}}
        )
    assert OutboxMessage.objects.get().pk == queued.pk
    assert len(mail.outbox) == 1 and "VR-2026-0042" in mail.outbox[0].body and "SECRET" in mail.outbox[0].body
    with pytest.raises(ValueError, match="already queued"):
        prepared.queue({})
    assert OutboxMessage.objects.count() == 1


def test_a_prepared_mail_of_a_rolled_back_change_is_never_stored(django_capture_on_commit_callbacks):
    prepared = PreparedMail(to=["ada@research.test"], template="intake/mail/new_link")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        prepared.queue({"report": {"tracking_id": "VR-2026-0043"}})
        raise RuntimeError("the change fails")
    assert OutboxMessage.objects.count() == 0 and mail.outbox == []


def test_a_queued_rows_columns_are_encrypted_at_rest():
    queued = queue(pgp_key="", reply_to=["psirt@vendor.test"])
    with connection.cursor() as cursor:
        cursor.execute('SELECT "to", reply_to, context FROM mail_outboxmessage WHERE id = %s', [queued.pk])
        stored = cursor.fetchone()
    assert all(value.startswith("gAAAA") for value in stored)  # Fernet tokens, no address or link in clear
    assert "ada@research.test" not in "".join(stored) and "SECRET" not in "".join(stored)
