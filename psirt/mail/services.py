"""The outbox: queue in the caller's transaction, claim a row, send it, mark it — so nothing is sent twice.

`send_mail_bilingual` (one templated mail) and `queue_batch` (a fan-out: many rows at once) store rows in
the caller's transaction; after the commit a task sends them. A row goes queued → sending → sent. A worker
claims rows before sending (PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent workers pass each
other; SQLite: one conditional UPDATE, which the database serialises), sends outside any transaction (no SMTP
or HTTP conversation holds a lock), then marks them sent. A second task for the same row finds it claimed or
sent and does nothing.

A failure goes to `failed` with `next_attempt_at` growing exponentially; after `give_up_at` it is `gave_up`
(a lead can retry it). A worker killed mid-send leaves its row `sending`: the periodic sweep releases claims
older than `STALE_CLAIM`, so another worker sends the row (at least once; a kill between the send and the
mark is the only way to get a second copy).

What a row of each kind means is up to its sender: kind "mail" is a bilingual templated mail (`send_single`);
other apps name the senders of their kinds in their AppConfig's `outbox_senders` ({kind: dotted path}).
A single mail is rendered from three templates — `<name>.subject.txt`, `<name>.txt`, `<name>.html` — first
in the recipient's language, then in the other site language below it, so a reporter who picked the wrong
language can still read it. With an OpenPGP key the text is encrypted to it and sent without an HTML part
(HTML would carry the same text in clear).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection as db_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django_tasks_db.backend import DatabaseBackend

from psirt.lib import pgp
from psirt.mail import tasks
from psirt.mail.exceptions import Cancelled, NotSendable, SendError
from psirt.mail.models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

Sender = Callable[[OutboxMessage, BaseEmailBackend], None]

DUE = (OutboxStatus.QUEUED, OutboxStatus.FAILED)
STALE_CLAIM = dt.timedelta(minutes=10)
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=6)
# Rows a worker claims at once. A worker killed mid-batch leaves at most this many rows to the sweep.
CLAIM_BATCH = 20
# Rows written per INSERT by a fan-out.
INSERT_BATCH = 2000
SEPARATOR = "\n\n" + "-" * 60 + "\n\n"


def give_up_after() -> dt.timedelta:
    return dt.timedelta(hours=settings.PSIRT_NOTIFY_GIVE_UP_HOURS)


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 … minutes after the 1st, 2nd, 3rd … failure, at most six hours."""
    factor: int = 2 ** max(0, attempts - 1)  # typeshed types int ** int as Any (a negative power is a float)
    return min(BACKOFF_BASE * factor, BACKOFF_CAP)


# --- rendering ----------------------------------------------------------------------------------------


def site_languages(primary: str) -> list[str]:
    """The site languages, `primary` first (the default language when `primary` is not one of them)."""
    codes = [code for code, _name in settings.LANGUAGES]
    first = primary if primary in codes else settings.LANGUAGE_CODE
    return [first] + [c for c in codes if c != first]


def render_one(template: str, context: Mapping[str, Any], language: str) -> tuple[str, str, str]:
    """(subject, text, html) of `<template>.subject.txt/.txt/.html` in one language; the subject on one line."""
    values = {**context, "mail_language": language}
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}.subject.txt", values).split())
        text = render_to_string(f"{template}.txt", values).strip()
        html = render_to_string(f"{template}.html", values).strip()
    return subject, text, html


def render_bilingual(template: str, context: Mapping[str, Any], language: str) -> tuple[str, str, str]:
    """(subject, text, html) with the recipient's language first; only the languages in the context's
    `mail_languages` when the sender restricted them (`send_mail_bilingual(languages=…)`)."""
    codes = [code for code, _name in settings.LANGUAGES]
    chosen = [lang for lang in context.get("mail_languages") or () if lang in codes]
    parts = [(lang, render_one(template, context, lang)) for lang in (chosen or site_languages(language))]
    # One line, and the same subject twice is said once.
    subject = " / ".join(dict.fromkeys(rendered[0] for _lang, rendered in parts))
    text = SEPARATOR.join(rendered[1] for _lang, rendered in parts)
    html_parts = [
        f'<div lang="{"zh-Hans" if lang.startswith("zh") else "en"}">{rendered[2]}</div>' for lang, rendered in parts
    ]
    html = '<!doctype html><html><head><meta charset="utf-8"></head><body>' + "<hr>".join(html_parts) + "</body></html>"
    return subject, text, html


# --- queueing -----------------------------------------------------------------------------------------


def send_mail_bilingual(
    *,
    to: Sequence[str],
    template: str,
    context: Mapping[str, Any],
    language: str = "en",
    pgp_key: str = "",
    reply_to: Sequence[str] = (),
    languages: Sequence[str] = (),
) -> OutboxMessage:
    """Queue a bilingual mail (text + HTML, or OpenPGP-encrypted text) for a worker to send after the
    current transaction commits. `context` must be JSON-serialisable (plain values: the worker renders the
    templates later, in `language` then the other site language). `languages` restricts the mail to those
    site languages, in that order (a reporter gets their own language only)."""
    now = timezone.now()
    if languages:
        context = {**context, "mail_languages": list(languages)}
    message = OutboxMessage.objects.create(
        kind="mail",
        template=template,
        language=language,
        to=json.dumps(list(to)),
        reply_to=json.dumps(list(reply_to)) if reply_to else "",
        context=json.dumps(dict(context), default=str),
        pgp_key=pgp_key,
        created_at=now,
        next_attempt_at=now,
        give_up_at=now + give_up_after(),
    )
    pk = message.pk
    if transactional_queue():
        # The task row is written in the same transaction as the mail: both exist, or neither.
        enqueue_send(pk)
    else:
        transaction.on_commit(lambda: enqueue_send(pk))
    return message


def queue_batch(rows: Iterable[OutboxMessage]) -> int:
    """Store many rows (a fan-out) in the caller's transaction and start drains after the commit. A row
    whose (kind, reference, revision, recipient_key) is already queued is skipped. Returns the rows given."""
    rows = list(rows)
    now = timezone.now()
    for row in rows:
        row.created_at = row.created_at or now
        row.give_up_at = row.give_up_at or now + give_up_after()
    with transaction.atomic():
        for start in range(0, len(rows), INSERT_BATCH):
            OutboxMessage.objects.bulk_create(rows[start : start + INSERT_BATCH], ignore_conflicts=True)
        if rows:
            count = len(rows)
            transaction.on_commit(lambda: enqueue_drains(count))
    return len(rows)


def retry_now(message: OutboxMessage) -> bool:
    """Queue a failed or given-up row again now, with a fresh give-up deadline, and send it after the
    commit. False when the row is not failed (nothing changes)."""
    now = timezone.now()
    changed = OutboxMessage.objects.filter(
        pk=message.pk, status__in=[OutboxStatus.FAILED, OutboxStatus.GAVE_UP]
    ).update(status=OutboxStatus.QUEUED, next_attempt_at=now, give_up_at=now + give_up_after())
    if changed:
        pk = message.pk
        transaction.on_commit(lambda: enqueue_send(pk))
    return bool(changed)


def transactional_queue() -> bool:
    """True when enqueuing writes to our own database (django-tasks' database backend), so it can share the
    caller's transaction; other backends (the immediate one of the tests) run or send at once, so they wait
    for the commit."""
    return isinstance(tasks.send_message.get_backend(), DatabaseBackend)


def enqueue_send(message_id: int) -> None:
    try:
        tasks.send_message.enqueue(message_id=message_id)
    except Exception:
        # The row is stored; the periodic sweep sends it. Never fail the caller over the queue.
        logger.exception("could not enqueue outbox row %s", message_id)


def enqueue_drains(count: int) -> None:
    """Start enough drain tasks for `count` due rows (each worker takes one; at most four at once)."""
    for _ in range(max(1, min(4, (count + 499) // 500))):
        try:
            tasks.drain_outbox.enqueue()
        except Exception:
            # The rows are stored; the periodic sweep sends them. Never fail the caller over the queue.
            logger.exception("could not enqueue a drain task")


# --- claiming and sending -----------------------------------------------------------------------------


def skip_locked() -> bool:
    return bool(db_connection.features.has_select_for_update_skip_locked)


def claim_batch(
    *, limit: int = CLAIM_BATCH, message_id: int | None = None, now: dt.datetime | None = None
) -> list[OutboxMessage]:
    """Claim up to `limit` due rows (or the given one) for this worker, in one short transaction.

    PostgreSQL: the candidate rows are locked with SKIP LOCKED, so concurrent workers take different rows.
    SQLite: the transaction takes the write lock at BEGIN (IMMEDIATE), and the UPDATE re-checks that each
    row is still due. Either way a row is claimed by one worker only; the claim token says which rows this
    worker won."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    due = OutboxMessage.objects.filter(status__in=DUE, next_attempt_at__lte=now)
    if message_id is not None:
        due = due.filter(pk=message_id)
    # No ORDER BY: sorting every due row for each small batch would cost O(n) per claim on a big fan-out;
    # the (status, next_attempt_at) index hands out due rows directly.
    due = due.order_by()
    with transaction.atomic():
        if skip_locked():
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        OutboxMessage.objects.filter(pk__in=ids, status__in=DUE).update(
            status=OutboxStatus.SENDING, claimed_at=now, claim_token=token
        )
    return list(OutboxMessage.objects.filter(pk__in=ids, claim_token=token, status=OutboxStatus.SENDING).order_by("id"))


def claim(*, message_id: int | None = None, now: dt.datetime | None = None) -> OutboxMessage | None:
    """Claim one due row (the given one, or the next due); None when there is none (already claimed, sent,
    not yet due)."""
    rows = claim_batch(limit=1, message_id=message_id, now=now)
    return rows[0] if rows else None


@cache
def senders() -> dict[str, Sender]:
    """Every kind's sender, from the installed apps' `outbox_senders`."""
    found: dict[str, Sender] = {}
    for config in apps.get_app_configs():
        for kind, path in getattr(config, "outbox_senders", {}).items():
            found[kind] = import_string(path)
    return found


def error_kind(exc: BaseException) -> str:
    """What went wrong, without message bodies, addresses or secrets."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.smtp_code}"[:200]
    if isinstance(exc, SendError | NotSendable):
        return str(exc)[:200]
    return type(exc).__name__[:200]


def send_claimed(message: OutboxMessage, *, mail_connection: BaseEmailBackend | None = None) -> str:
    """Send a row this worker claimed and record the outcome. Returns sent/failed/gave_up/cancelled."""
    return attempt(message, mail_connection or get_connection())[0]


def attempt(message: OutboxMessage, mail_connection: BaseEmailBackend) -> tuple[str, bool]:
    """Send a claimed row and record the outcome; also says whether the failure may have come from the mail
    connection (anything but a sender's own refusal), which is then not reused."""
    try:
        senders()[message.kind](message, mail_connection)
    except Cancelled:
        OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.CANCELLED, last_error="recipient gone")
        return str(OutboxStatus.CANCELLED), False
    except NotSendable as exc:
        logger.warning("outbox %s (%s) not sendable: %s", message.public_id, message.kind, exc)
        # Nothing will make it sendable: it is final, and the context (maybe a private link) is not kept.
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxStatus.GAVE_UP,
            attempts=message.attempts + 1,
            last_error=error_kind(exc),
            context="",
            pgp_key="",
        )
        return str(OutboxStatus.GAVE_UP), False
    except Exception as exc:
        return record_failure(message, exc), not isinstance(exc, SendError)
    # The context may hold a private link: it is not kept once the message is out.
    OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING, claim_token=message.claim_token).update(
        status=OutboxStatus.SENT, sent_at=timezone.now(), last_error="", context="", pgp_key=""
    )
    logger.info("outbox %s (%s %s) sent", message.public_id, message.kind, message.reference or message.template)
    return str(OutboxStatus.SENT), False


def record_failure(message: OutboxMessage, exc: BaseException) -> str:
    now = timezone.now()
    attempts = message.attempts + 1
    error = error_kind(exc)
    give_up_at = message.give_up_at or (message.created_at + give_up_after())
    if now >= give_up_at:
        status, next_at = OutboxStatus.GAVE_UP, now
        logger.error("outbox %s (%s) gave up after %d attempts (%s)", message.public_id, message.kind, attempts, error)
    else:
        status, next_at = OutboxStatus.FAILED, now + backoff(attempts)
        logger.warning(
            "outbox %s (%s) not sent (%s); retry at %s", message.public_id, message.kind, error, next_at.isoformat()
        )
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=status, attempts=attempts, last_error=error, next_attempt_at=next_at, claimed_at=None
    )
    return str(status)


def send_one(message_id: int, *, now: dt.datetime | None = None) -> str:
    """Send one row if it is due and nobody else has it. Idempotent: a duplicate call returns "not due" and
    sends nothing."""
    message = claim(message_id=message_id, now=now)
    if message is None:
        return "not due"
    return send_claimed(message)


def open_connection() -> BaseEmailBackend:
    """A mail connection kept open across sends (Django's backend closes connections it opened itself,
    which would mean one SMTP handshake per mail). If the server is down now, each send fails and is
    retried like any other."""
    connection: BaseEmailBackend = get_connection()
    try:
        connection.open()
    except Exception:
        logger.warning("mail server not reachable; each message will try and be retried")
    return connection


def drain(*, limit: int = 10_000, now: dt.datetime | None = None) -> int:
    """Send due rows one by one (each claimed first) until none is due or `limit` is reached; several
    workers may drain at once. One SMTP connection is reused for the whole run."""
    mail_connection = open_connection()
    count = 0
    try:
        while count < limit:
            batch = claim_batch(limit=min(CLAIM_BATCH, limit - count), now=now)
            if not batch:
                break
            for message in batch:
                outcome, suspect = attempt(message, mail_connection)
                if outcome == OutboxStatus.SENT:
                    count += 1
                elif suspect:
                    # A failed SMTP conversation may leave the connection unusable: start a fresh one.
                    mail_connection.close()
                    mail_connection = open_connection()
    finally:
        mail_connection.close()
    if count:
        logger.info("drain: %d messages sent", count)
    if count >= limit:
        # A long fan-out is handed on in slices, so one task never holds a worker for hours and other
        # queued work (and a SIGTERM) gets its turn between slices.
        enqueue_drains(1)
    return count


def release_stale_claims(*, now: dt.datetime | None = None) -> int:
    """Rows claimed by a worker that died mid-send go back to the queue."""
    now = now or timezone.now()
    return OutboxMessage.objects.filter(status=OutboxStatus.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=OutboxStatus.QUEUED, claimed_at=None
    )


def sweep(*, now: dt.datetime | None = None) -> int:
    """Periodic: release dead workers' claims and start drains for what is due. Returns the due count."""
    now = now or timezone.now()
    release_stale_claims(now=now)
    due = OutboxMessage.objects.filter(status__in=DUE, next_attempt_at__lte=now).count()
    if due:
        enqueue_drains(due)
    return due


# --- the sender of single mails -----------------------------------------------------------------------


def send_single(message: OutboxMessage, connection: BaseEmailBackend) -> None:
    """Render and send one queued templated mail. Raises NotSendable when the recipient's key cannot
    encrypt (the clear text is never sent instead); transport errors propagate (the outbox retries)."""
    subject, text, html = render_bilingual(message.template, json.loads(message.context or "{}"), message.language)
    alternatives: list[Any] = [(html, "text/html")]
    if message.pgp_key:
        try:
            text = pgp.encrypt_to(text, message.pgp_key)
            alternatives = []
        except pgp.PgpError as exc:
            raise NotSendable("not sendable (key cannot encrypt)") from exc
    mail = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=json.loads(message.to),
        reply_to=json.loads(message.reply_to) if message.reply_to else None,
        alternatives=alternatives,
        connection=connection,
    )
    mail.send(fail_silently=False)
