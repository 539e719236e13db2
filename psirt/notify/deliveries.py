"""The notification outbox: claim a delivery row, send it, mark it — so nothing is sent twice.

A delivery goes queued → sending → sent. A worker claims a row before sending (PostgreSQL:
`SELECT … FOR UPDATE SKIP LOCKED`, so concurrent workers pass each other; SQLite: one conditional UPDATE, which
the database serialises), sends outside any transaction (no SMTP or HTTP conversation holds a lock), then marks
it sent. A second task for the same row finds it claimed or sent and does nothing.

A failure goes to `failed` with `next_attempt_at` growing exponentially; after `give_up_at` it is `gave_up`,
shown on the desk, where a lead can retry it. A worker killed mid-send leaves its row `sending`: the sweep
releases claims older than `STALE_CLAIM`, so the row is sent by another worker (at least once; a kill between
the send and the mark is the only way to get a second copy).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import uuid
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from psirt.notify.models import Delivery, DeliveryKind, DeliveryStatus

logger = logging.getLogger(__name__)

DUE = (DeliveryStatus.QUEUED, DeliveryStatus.FAILED)
STALE_CLAIM = dt.timedelta(minutes=10)
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=6)
# Rows a worker claims at once. A worker killed mid-batch leaves at most this many rows to the sweep.
CLAIM_BATCH = 20


class Cancelled(Exception):
    """The recipient is gone (unsubscribed, deleted, deactivated): nothing to send, nothing to retry."""


def give_up_after() -> dt.timedelta:
    return dt.timedelta(hours=settings.PSIRT_NOTIFY_GIVE_UP_HOURS)


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 … minutes after the 1st, 2nd, 3rd … failure, at most six hours."""
    return min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_CAP)


def _skip_locked() -> bool:
    return bool(db_connection.features.has_select_for_update_skip_locked)


def claim_batch(
    *, limit: int = CLAIM_BATCH, delivery_id: int | None = None, now: dt.datetime | None = None
) -> list[Delivery]:
    """Claim up to `limit` due deliveries (or the given one) for this worker, in one short transaction.

    PostgreSQL: the candidate rows are locked with SKIP LOCKED, so concurrent workers take different rows.
    SQLite: the transaction takes the write lock at BEGIN (IMMEDIATE), and the UPDATE re-checks that each
    row is still due. Either way a row is claimed by one worker only; the claim token says which rows this
    worker won."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    due = Delivery.objects.filter(status__in=DUE, next_attempt_at__lte=now)
    if delivery_id is not None:
        due = due.filter(pk=delivery_id)
    # No ORDER BY: sorting every due row for each small batch would cost O(n) per claim on a big fan-out;
    # the (status, next_attempt_at) index hands out due rows directly.
    due = due.order_by()
    with transaction.atomic():
        if _skip_locked():
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        Delivery.objects.filter(pk__in=ids, status__in=DUE).update(
            status=DeliveryStatus.SENDING, claimed_at=now, claim_token=token
        )
    return list(
        Delivery.objects.filter(pk__in=ids, claim_token=token, status=DeliveryStatus.SENDING)
        .select_related("subscription", "contact__organization", "webhook")
        .order_by("id")
    )


def claim(*, delivery_id: int | None = None, now: dt.datetime | None = None) -> Delivery | None:
    """Claim one due delivery (the given one, or the next due); None when there is none (already claimed,
    sent, not yet due)."""
    rows = claim_batch(limit=1, delivery_id=delivery_id, now=now)
    return rows[0] if rows else None


def _error_kind(exc: BaseException) -> str:
    """What went wrong, without message bodies, addresses or secrets."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.smtp_code}"[:200]
    from psirt.notify.webhooks import WebhookError

    if isinstance(exc, WebhookError):
        return str(exc)[:200]
    return type(exc).__name__[:200]


def _dispatch(delivery: Delivery, mail_connection: Any) -> None:
    from psirt.notify import messages, webhooks

    if delivery.kind == DeliveryKind.WEBHOOK:
        webhooks.send(delivery)
    else:
        messages.build(delivery, connection=mail_connection).send(fail_silently=False)


def send_claimed(delivery: Delivery, *, mail_connection: Any = None) -> str:
    """Send a delivery this worker claimed and record the outcome. Returns sent/failed/gave_up/cancelled."""
    try:
        _dispatch(delivery, mail_connection)
    except Cancelled:
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.CANCELLED, last_error="recipient gone")
        return "cancelled"
    except Exception as exc:
        return _record_failure(delivery, exc)
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, claim_token=delivery.claim_token).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    logger.info(
        "delivery %s (%s %s r%s) sent", delivery.public_id, delivery.kind, delivery.advisory_ref, delivery.revision
    )
    return "sent"


def _record_failure(delivery: Delivery, exc: BaseException) -> str:
    now = timezone.now()
    attempts = delivery.attempts + 1
    error = _error_kind(exc)
    give_up_at = delivery.give_up_at or (delivery.created_at + give_up_after())
    if now >= give_up_at:
        status, next_at = DeliveryStatus.GAVE_UP, now
        logger.error("delivery %s gave up after %d attempts (%s)", delivery.public_id, attempts, error)
    else:
        status, next_at = DeliveryStatus.FAILED, now + backoff(attempts)
        logger.warning("delivery %s failed (%s); retry at %s", delivery.public_id, error, next_at.isoformat())
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status, attempts=attempts, last_error=error, next_attempt_at=next_at, claimed_at=None
    )
    return str(status)


def send_one(delivery_id: int, *, now: dt.datetime | None = None) -> str:
    """Send one delivery if it is due and nobody else has it. Idempotent: a duplicate call returns
    "not due" and sends nothing."""
    delivery = claim(delivery_id=delivery_id, now=now)
    if delivery is None:
        return "not due"
    return send_claimed(delivery)


def _open_connection() -> Any:
    """A mail connection kept open across sends (Django's backend closes connections it opened itself,
    which would mean one SMTP handshake per mail). Opening lazily on first send if the server is down
    now: the send then fails and is retried like any other."""
    connection = get_connection()
    try:
        connection.open()
    except Exception:
        logger.warning("mail server not reachable; each delivery will try and be retried")
    return connection


def drain(*, limit: int = 10_000, now: dt.datetime | None = None) -> int:
    """Send due deliveries one by one (each claimed first) until none is due or `limit` is reached; several
    workers may drain at once. One SMTP connection is reused for the whole run."""
    mail_connection = _open_connection()
    count = 0
    try:
        while count < limit:
            batch = claim_batch(limit=min(CLAIM_BATCH, limit - count), now=now)
            if not batch:
                break
            for delivery in batch:
                if send_claimed(delivery, mail_connection=mail_connection) == "sent":
                    count += 1
                elif delivery.kind != DeliveryKind.WEBHOOK:
                    # A failed SMTP conversation may leave the connection unusable: start a fresh one.
                    mail_connection.close()
                    mail_connection = _open_connection()
    finally:
        mail_connection.close()
    if count:
        logger.info("drain: %d deliveries sent", count)
    if count >= limit:
        # A long fan-out is handed on in slices, so one task never holds a worker for hours and other
        # queued work (and a SIGTERM) gets its turn between slices.
        enqueue_drains(1)
    return count


def release_stale_claims(*, now: dt.datetime | None = None) -> int:
    """Rows claimed by a worker that died mid-send go back to the queue."""
    now = now or timezone.now()
    return Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=DeliveryStatus.QUEUED, claimed_at=None
    )


def enqueue_drains(count: int) -> None:
    """Start enough drain tasks for `count` due rows (each worker takes one; at most four at once)."""
    from psirt.notify.tasks import drain_deliveries

    for _ in range(max(1, min(4, (count + 499) // 500))):
        try:
            drain_deliveries.enqueue()
        except Exception:
            # The rows are stored; the periodic sweep sends them. Never fail the caller over the queue.
            logger.exception("could not enqueue a drain task")


def sweep(*, now: dt.datetime | None = None) -> int:
    """Periodic: release dead workers' claims and start drains for what is due. Returns the due count."""
    now = now or timezone.now()
    release_stale_claims(now=now)
    due = Delivery.objects.filter(status__in=DUE, next_attempt_at__lte=now).count()
    if due:
        enqueue_drains(due)
    return due
