"""The outbox's exactly-once rules at their edges: when a row is due, how much a claim takes, when a dead
worker's claim goes back to the queue (and never a sent row's), how retries back off and when they stop,
what a lead's retry may touch, and what a row keeps once it is final."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from psirt.mail import services, tasks
from psirt.mail.models import OutboxMessage, OutboxStatus
from psirt.mail.services import (
    STALE_CLAIM,
    FanOut,
    backoff,
    claim,
    claim_batch,
    drain,
    queue_batch,
    release_stale_claims,
    retry_now,
    send_batch,
    send_mail_bilingual,
    send_one,
    sweep,
)
from psirt.mail.tests.test_smtp_batch import Server, queue, server  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

REFUSING = "psirt.mail.tests.test_outbox.RefusingBackend"
MICROSECOND = dt.timedelta(microseconds=1)


@pytest.fixture
def rows() -> Iterator[list[OutboxMessage]]:
    """Three queued, committed, unsent single mails (the in-memory mail backend)."""
    queued = queue(3)
    mail.outbox.clear()
    yield queued


def fail_once(settings: Any, pk: int) -> OutboxMessage:
    """Send row `pk` to a mail server that is down: it fails (or gives up when past its deadline)."""
    backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = REFUSING
    now = OutboxMessage.objects.get(pk=pk).next_attempt_at
    assert send_one(pk, now=now) in (OutboxStatus.FAILED, OutboxStatus.GAVE_UP)
    settings.EMAIL_BACKEND = backend
    return OutboxMessage.objects.get(pk=pk)


# --- due, claims ----------------------------------------------------------------------------------------


def test_a_failed_row_is_due_at_its_retry_time_and_not_a_moment_before(settings: Any) -> None:
    (row,) = queue(1)
    failed = fail_once(settings, row.pk)
    retry_at = failed.next_attempt_at
    assert sweep(now=retry_at - MICROSECOND) == 0
    assert drain(now=retry_at - MICROSECOND) == 0 and mail.outbox == []
    assert sweep(now=retry_at) == 1
    assert drain(now=retry_at) == 1 and len(mail.outbox) == 1


def test_a_claim_takes_one_row_and_leaves_the_others_to_other_workers(rows: list[OutboxMessage]) -> None:
    taken = claim()
    assert taken is not None
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENDING).count() == 1
    assert drain() == 2  # another worker sends the rest; the claimed row is not sent twice
    assert OutboxMessage.objects.get(pk=taken.pk).status == OutboxStatus.SENDING


def test_a_claim_of_a_given_row_takes_that_row_once(rows: list[OutboxMessage]) -> None:
    taken = claim(message_id=rows[1].pk)
    assert taken is not None and taken.pk == rows[1].pk
    assert claim(message_id=rows[1].pk) is None
    assert set(OutboxMessage.objects.filter(status=OutboxStatus.QUEUED).values_list("pk", flat=True)) == {
        rows[0].pk,
        rows[2].pk,
    }


def test_a_batch_claim_holds_its_limit_with_the_given_row_first_and_no_row_twice() -> None:
    queued = queue(5)
    batch = claim_batch(limit=3, first=queued[3].pk)
    assert len(batch) == 3 and len({m.pk for m in batch}) == 3
    assert batch[0].pk == queued[3].pk
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENDING).count() == 3


def test_a_task_for_a_row_already_sent_sends_nothing_even_when_others_are_due(rows: list[OutboxMessage]) -> None:
    assert send_one(rows[0].pk) == OutboxStatus.SENT  # its task takes the other due rows along
    assert len(mail.outbox) == 3
    more = queue(1)[0]
    OutboxMessage.objects.exclude(pk=more.pk).update(status=OutboxStatus.SENT)
    mail.outbox.clear()
    # A duplicate task for the sent row: nothing to do, and the new row is left to its own task.
    assert send_one(rows[0].pk) == "not due"
    assert mail.outbox == [] and OutboxMessage.objects.get(pk=more.pk).status == OutboxStatus.QUEUED


# --- dead workers' claims -------------------------------------------------------------------------------


def test_a_claim_goes_back_to_the_queue_only_once_it_is_older_than_the_stale_limit(
    rows: list[OutboxMessage],
) -> None:
    at = timezone.now()
    taken = claim(message_id=rows[0].pk, now=at)
    assert taken is not None
    assert release_stale_claims(now=at + STALE_CLAIM) == 0
    assert OutboxMessage.objects.get(pk=taken.pk).status == OutboxStatus.SENDING
    assert release_stale_claims(now=at + STALE_CLAIM + MICROSECOND) == 1
    released = OutboxMessage.objects.get(pk=taken.pk)
    assert (released.status, released.claimed_at, released.attempts) == (OutboxStatus.QUEUED, None, 0)


def test_the_stale_limit_is_ten_minutes(rows: list[OutboxMessage]) -> None:
    """A worker may take minutes over a slow server: its claim stays its own for ten minutes."""
    at = timezone.now()
    assert claim(message_id=rows[0].pk, now=at) is not None
    # The two others are due (and the sweep's drain sends them); the claimed one is still its worker's.
    assert sweep(now=at + dt.timedelta(minutes=9, seconds=59)) == 2
    assert OutboxMessage.objects.get(pk=rows[0].pk).status == OutboxStatus.SENDING
    assert sweep(now=at + dt.timedelta(minutes=10, seconds=1)) == 1
    assert len(mail.outbox) == 3


def test_the_sweep_releases_at_the_time_it_is_given(rows: list[OutboxMessage]) -> None:
    at = timezone.now()
    assert claim(message_id=rows[0].pk, now=at) is not None
    OutboxMessage.objects.exclude(pk=rows[0].pk).update(status=OutboxStatus.SENT)
    assert sweep(now=at + STALE_CLAIM + dt.timedelta(seconds=1)) == 1
    assert OutboxMessage.objects.get(pk=rows[0].pk).status != OutboxStatus.SENDING


def test_a_sent_row_is_never_released_and_never_sent_again(rows: list[OutboxMessage]) -> None:
    assert drain() == 3 and len(mail.outbox) == 3
    assert OutboxMessage.objects.filter(claimed_at__isnull=False).count() == 3
    much_later = timezone.now() + dt.timedelta(days=30)
    assert release_stale_claims(now=much_later) == 0
    assert sweep(now=much_later) == 0 and drain(now=much_later) == 0
    assert len(mail.outbox) == 3
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_a_worker_whose_claim_went_back_to_the_queue_sends_nothing_and_the_row_goes_out_once(
    server: Server,  # noqa: F811 (the fixture)
) -> None:
    queue(2)
    server.delivered.clear()
    batch = claim_batch()
    assert len(batch) == 2
    # The worker stalls past the stale limit; the sweep gives its rows back to the queue.
    assert release_stale_claims(now=timezone.now() + STALE_CLAIM + dt.timedelta(seconds=1)) == 2
    connection_ = services.open_connection()
    try:
        assert send_batch(batch, connection_) == ["claim lost", "claim lost"]
    finally:
        connection_.close()
    assert server.delivered == []
    assert drain() == 2
    assert sorted(server.recipients) == ["r0@research.test", "r1@research.test"]


# --- retries, back-off, giving up -----------------------------------------------------------------------


def test_backoff_doubles_from_one_minute_and_stops_growing_at_six_hours() -> None:
    minutes = [backoff(n) / dt.timedelta(minutes=1) for n in range(0, 11)]
    assert minutes == [1, 1, 2, 4, 8, 16, 32, 64, 128, 256, 360]
    assert backoff(40) == dt.timedelta(hours=6)


def test_each_failure_waits_the_backoff_of_its_own_count(settings: Any) -> None:
    (row,) = queue(1)
    for failures in (1, 2, 3):
        before = timezone.now()
        failed = fail_once(settings, row.pk)
        assert failed.status == OutboxStatus.FAILED and failed.attempts == failures
        assert failed.last_error == "ConnectionRefusedError" and failed.claimed_at is None
        waited = failed.next_attempt_at - before
        assert backoff(failures) <= waited < backoff(failures) + dt.timedelta(seconds=30)


def test_a_mail_gives_up_after_the_configured_hours_from_queueing(settings: Any) -> None:
    settings.PSIRT_NOTIFY_GIVE_UP_HOURS = 5
    with transaction.atomic():
        row = send_mail_bilingual(to=["ada@research.test"], template="intake/mail/new_link", context={})
    assert row.give_up_at == row.created_at + dt.timedelta(hours=5)
    count = queue_batch([FanOut("mail", "published", "PSA-2026-0001", 1, "{}", ["a", "b"])])
    assert count == 2
    for fanned in OutboxMessage.objects.filter(recipient_key__in=["a", "b"]):
        assert fanned.give_up_at == fanned.created_at + dt.timedelta(hours=5)
        assert (fanned.status, fanned.attempts) == (OutboxStatus.QUEUED, 0)


def test_a_row_without_a_give_up_time_gives_up_counted_from_its_creation(settings: Any) -> None:
    settings.PSIRT_NOTIFY_GIVE_UP_HOURS = 5
    young, old = queue(2)
    OutboxMessage.objects.update(give_up_at=None)
    OutboxMessage.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(hours=5, seconds=1))
    OutboxMessage.objects.filter(pk=young.pk).update(created_at=timezone.now() - dt.timedelta(hours=4, minutes=59))
    assert fail_once(settings, young.pk).status == OutboxStatus.FAILED
    assert fail_once(settings, old.pk).status == OutboxStatus.GAVE_UP


def test_a_row_sent_after_a_failure_keeps_no_error(settings: Any) -> None:
    (row,) = queue(1)
    failed = fail_once(settings, row.pk)
    assert drain(now=failed.next_attempt_at) == 1
    sent = OutboxMessage.objects.get(pk=row.pk)
    assert (sent.status, sent.last_error, sent.context, sent.pgp_key) == (OutboxStatus.SENT, "", "", "")
    assert sent.sent_at is not None and sent.attempts == 1


# --- a lead's retry -------------------------------------------------------------------------------------


def test_a_lead_cannot_retry_a_sent_row(rows: list[OutboxMessage], django_capture_on_commit_callbacks: Any) -> None:
    assert drain() == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert retry_now(rows[0]) is False
    assert len(mail.outbox) == 3 and OutboxMessage.objects.get(pk=rows[0].pk).status == OutboxStatus.SENT


def test_a_lead_retries_a_failed_row_at_once(settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    (row,) = queue(1)
    failed = fail_once(settings, row.pk)
    assert failed.next_attempt_at > timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert retry_now(failed) is True
    assert len(mail.outbox) == 1 and OutboxMessage.objects.get(pk=row.pk).status == OutboxStatus.SENT


def test_a_lead_retry_of_a_given_up_row_gets_a_fresh_deadline(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    (row,) = queue(1)
    OutboxMessage.objects.filter(pk=row.pk).update(give_up_at=timezone.now() - MICROSECOND)
    gave_up = fail_once(settings, row.pk)
    assert gave_up.status == OutboxStatus.GAVE_UP
    # Retried while the server is still down: a new failure waits for its retry instead of giving up.
    settings.EMAIL_BACKEND = REFUSING
    with django_capture_on_commit_callbacks(execute=True):
        assert retry_now(gave_up) is True
    again = OutboxMessage.objects.get(pk=row.pk)
    assert (again.status, again.attempts) == (OutboxStatus.FAILED, 2)
    assert again.give_up_at is not None and again.give_up_at > timezone.now()


# --- final rows, queueing -------------------------------------------------------------------------------


def test_a_mail_whose_key_cannot_encrypt_is_final_and_keeps_nothing_secret(
    django_capture_on_commit_callbacks: Any,
) -> None:
    bad_key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbroken\n-----END PGP PUBLIC KEY BLOCK-----"
    with django_capture_on_commit_callbacks(execute=True):
        row = send_mail_bilingual(
            to=["ada@research.test"],
            template="intake/mail/new_link",
            context={"portal_urls": {"en": "https://x.test/en/r/SECRET/"}},
            pgp_key=bad_key,
        )
    final = OutboxMessage.objects.get(pk=row.pk)
    assert (final.status, final.attempts, final.last_error) == (
        OutboxStatus.GAVE_UP,
        1,
        "not sendable (key cannot encrypt)",
    )
    assert final.context == "" and final.pgp_key == "" and mail.outbox == []


def test_a_mail_carries_its_reply_to_address(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        send_mail_bilingual(
            to=["ada@research.test"], template="intake/mail/new_link", context={}, reply_to=["team@psirt.test"]
        )
    assert mail.outbox[0].reply_to == ["team@psirt.test"]


def test_a_subject_stays_one_line_whatever_the_context_holds(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        row = send_mail_bilingual(
            to=["ada@research.test"],
            template="intake/mail/new_link",
            context={"report": {"tracking_id": "VR-2026-0001\nBcc: eve@evil.test"}},
        )
    assert OutboxMessage.objects.get(pk=row.pk).status == OutboxStatus.SENT
    (sent,) = mail.outbox
    assert "\n" not in sent.subject and "VR-2026-0001 Bcc: eve@evil.test" in sent.subject
    assert sent.bcc == [] and sent.to == ["ada@research.test"]


def test_a_fan_outs_context_is_encrypted_at_rest() -> None:
    queue_batch([FanOut("mail", "published", "PSA-2026-0001", 1, '{"link": "https://x.test/SECRET"}', ["a"])])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT context FROM {OutboxMessage._meta.db_table}")
        (stored,) = cursor.fetchone()
    assert "SECRET" not in stored
    assert OutboxMessage.objects.get().context == '{"link": "https://x.test/SECRET"}'


class Recording:
    """A task queue standing in for django-tasks: counts enqueues, or fails every one."""

    def __init__(self, real: Any, *, broken: bool = False) -> None:
        self.real = real
        self.broken = broken
        self.calls = 0

    def get_backend(self) -> Any:
        return self.real.get_backend()

    def enqueue(self, **kwargs: Any) -> None:
        self.calls += 1
        if self.broken:
            raise ConnectionError("task queue down")


@pytest.mark.parametrize(("due", "drains"), [(1, 1), (500, 1), (501, 2), (1600, 4), (2500, 4)])
def test_a_sweep_starts_one_drain_per_500_due_rows_and_at_most_four(
    monkeypatch: pytest.MonkeyPatch, due: int, drains: int
) -> None:
    queue_batch([FanOut("mail", "published", "PSA-2026-0001", 1, "{}", [str(i) for i in range(due)])])
    recording = Recording(tasks.drain_outbox)
    monkeypatch.setattr(tasks, "drain_outbox", recording)
    assert sweep() == due
    assert recording.calls == drains


def test_a_task_queue_that_is_down_loses_no_mail_and_fails_no_caller(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any, caplog: Any
) -> None:
    send = Recording(tasks.send_message, broken=True)
    drains = Recording(tasks.drain_outbox, broken=True)
    monkeypatch.setattr(tasks, "send_message", send)
    monkeypatch.setattr(tasks, "drain_outbox", drains)
    with django_capture_on_commit_callbacks(execute=True):
        row = send_mail_bilingual(to=["ada@research.test"], template="intake/mail/new_link", context={})
    assert send.calls == 1 and OutboxMessage.objects.get(pk=row.pk).status == OutboxStatus.QUEUED
    assert sweep() == 1 and drains.calls == 1
    assert "could not enqueue" in caplog.text
    # The periodic sweep's drain sends it later.
    assert drain() == 1 and len(mail.outbox) == 1


def test_a_failure_at_the_give_up_time_itself_is_final(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (row,) = queue(1)
    at = timezone.now()
    OutboxMessage.objects.filter(pk=row.pk).update(give_up_at=at, next_attempt_at=at)
    monkeypatch.setattr(timezone, "now", lambda: at)
    assert fail_once(settings, row.pk).status == OutboxStatus.GAVE_UP


def test_an_encrypted_mail_has_no_clear_copy_and_its_key_is_not_kept(
    django_capture_on_commit_callbacks: Any,
) -> None:
    import pysequoia

    key = str(pysequoia.Tsk.generate("Ada <ada@research.test>").extract_certificate())
    with django_capture_on_commit_callbacks(execute=True):
        row = send_mail_bilingual(
            to=["ada@research.test"],
            template="intake/mail/new_link",
            context={"portal_urls": {"en": "https://x.test/en/r/SECRET/"}},
            pgp_key=key,
        )
    (sent,) = mail.outbox
    assert sent.body.startswith("-----BEGIN PGP MESSAGE-----") and "SECRET" not in sent.body
    assert getattr(sent, "alternatives", []) == []  # no HTML part carrying the text in clear
    stored = OutboxMessage.objects.get(pk=row.pk)
    assert (stored.status, stored.pgp_key, stored.context) == (OutboxStatus.SENT, "", "")


def test_a_fan_out_of_nobody_starts_no_drain(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    recording = Recording(tasks.drain_outbox)
    monkeypatch.setattr(tasks, "drain_outbox", recording)
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_batch([FanOut("mail", "published", "PSA-2026-0001", 1, "{}", [])]) == 0
    assert recording.calls == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_batch([FanOut("mail", "published", "PSA-2026-0001", 1, "{}", ["a", "b"])]) == 2
    assert recording.calls == 1


def test_a_subject_the_same_in_both_languages_is_said_once(
    settings: Any, tmp_path: Any, django_capture_on_commit_callbacks: Any
) -> None:
    folder = tmp_path / "same"
    folder.mkdir()
    (folder / "notice.subject.txt").write_text("Maintenance window")
    (folder / "notice.txt").write_text("{{ mail_language }}")
    (folder / "notice.html").write_text("<p>{{ mail_language }}</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0].get("DIRS", [])]}]
    with django_capture_on_commit_callbacks(execute=True):
        send_mail_bilingual(to=["ada@research.test"], template="same/notice", context={})
    (sent,) = mail.outbox
    assert sent.subject == "Maintenance window"
    assert sent.body.startswith("en") and sent.body.endswith("zh-hans")


def test_kept_connections_are_bounded_least_recently_used_first_and_closed_with_the_worker() -> None:
    class Closable:
        def __init__(self) -> None:
            self.closed = False

        def close(self) -> None:
            self.closed = True

    connection_ = services.open_connection()
    kept = connection_.kept
    first, second = Closable(), Closable()
    kept.put("first", first)
    kept.put("second", second)
    kept.put("first", kept.get("first"))  # a connection kept again after its use stays open
    assert not first.closed and kept.get("first") is first  # now the most recently used
    others = [Closable() for _ in range(services.KEPT_LIMIT - 1)]
    for n, other in enumerate(others):
        kept.put(n, other)
    assert second.closed and kept.get("second") is None and not first.closed
    assert len(kept) == services.KEPT_LIMIT
    replaced = Closable()
    kept.put("first", replaced)
    assert first.closed and kept.get("first") is replaced
    connection_.close()
    assert len(kept) == 0 and replaced.closed and all(other.closed for other in others)
