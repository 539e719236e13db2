"""The outbox: queue in the caller's transaction, claim a row, send it, mark it — so nothing is sent twice.

`send_mail_bilingual` (one templated mail) and `queue_batch` (a fan-out: many rows at once) store rows in
the caller's transaction; after the commit a task sends them. A row goes queued → sending → sent. A worker
claims rows before sending (PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent workers pass each
other; SQLite: one conditional UPDATE, which the database serialises), sends outside any transaction (no SMTP
or HTTP conversation holds a lock), then marks them sent. A second task for the same row finds it claimed or
sent and does nothing.

A failure goes to `failed` with `next_attempt_at` growing exponentially; after `give_up_at` it is `gave_up`
(a lead can retry it). A worker killed mid-send leaves its row `sending`: the periodic sweep releases claims
older than `STALE_CLAIM`, so another worker sends the row.

A worker sends its claimed batch over one SMTP connection, opened when the first mail needs it and kept for
the batch (a drain keeps it for the whole run). Each mail is handed over in two steps (`OutboxMailConnection`):
everything up to the end of the message data, then the row is marked sent (committed), then the final "."
that tells the server to deliver. A worker killed before that commit leaves an unfinished transaction, which
the server discards when the connection drops, and a row still `sending`, which is sent again later: once. A
worker killed after it has a row marked sent whose "." is on its way. So a kill never causes a second copy;
the one loss left is a kill in the microseconds between the commit and writing the ".". A server that refuses
the message at the "." (or drops the connection before answering) makes the row `failed` again and it is
retried. A recipient the server refuses fails that row only and the connection is kept; a connection that
drops before the hand-over is opened again and the mail retried at once, once.

What a row of each kind means is up to its sender: kind "mail" is a bilingual templated mail (`send_single`);
other apps name the senders of their kinds in their AppConfig's `outbox_senders` ({kind: dotted path}).
A single mail is rendered from three templates — `<name>.subject.txt`, `<name>.txt`, `<name>.html` — first
in the recipient's language, then in the other site language below it, so a reporter who picked the wrong
language can still read it. With an OpenPGP key the text is encrypted to it and sent without an HTML part
(HTML would carry the same text in clear).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import secrets
import smtplib
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.db import connection as db_connection
from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from psirt.lib import pgp
from psirt.lib.bulk import column_name, insert_rows
from psirt.lib.crypto import seal
from psirt.lib.prepared import PreparedInsert
from psirt.mail import tasks
from psirt.mail.exceptions import Cancelled, NotSendable, SendError
from psirt.mail.models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

Sender = Callable[[OutboxMessage, BaseEmailBackend], None]
Preparer = Callable[[Sequence[OutboxMessage]], None]

DUE = (OutboxStatus.QUEUED, OutboxStatus.FAILED)
STALE_CLAIM = dt.timedelta(minutes=10)
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=6)
# Rows a worker claims at once. A worker killed mid-batch leaves at most this many rows to the sweep.
CLAIM_BATCH = 20
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
    mail = PreparedMail(
        to=to, template=template, language=language, pgp_key=pgp_key, reply_to=reply_to, languages=languages
    )
    return mail.queue(context)


class PreparedMail:
    """A mail of `send_mail_bilingual` whose outbox row is built, its addresses and key encrypted and its INSERT
    compiled when it is made (`psirt.lib.prepared.PreparedInsert`), so a caller can do that before it opens its
    transaction; `queue(context)` stores the row in the caller's transaction — only the context, which may
    name things decided inside it, is encrypted there — and wakes a drain, as `send_mail_bilingual` does."""

    def __init__(
        self,
        *,
        to: Sequence[str],
        template: str,
        language: str = "en",
        pgp_key: str = "",
        reply_to: Sequence[str] = (),
        languages: Sequence[str] = (),
    ) -> None:
        now = timezone.now()
        self.languages = list(languages)
        self.message = OutboxMessage(
            kind="mail",
            template=template,
            language=language,
            to=json.dumps(list(to)),
            reply_to=json.dumps(list(reply_to)) if reply_to else "",
            pgp_key=pgp_key,
            created_at=now,
            next_attempt_at=now,
            give_up_at=now + give_up_after(),
        )
        self._insert = PreparedInsert(self.message, late=("context",))

    def queue(self, context: Mapping[str, Any]) -> OutboxMessage:
        """Store the row with `context` in the current transaction; sent after the commit. Once only."""
        message = self.message
        if not message._state.adding:
            raise ValueError("this mail is already queued")
        if self.languages:
            context = {**context, "mail_languages": self.languages}
        message.context = json.dumps(dict(context), default=str)
        self._insert.run()
        pk = message.pk
        if transactional_queue():
            # The wake-up is decided in the same transaction as the mail: the row and a drain that will see it
            # exist, or neither.
            wake_drain()
        else:
            transaction.on_commit(lambda: enqueue_send(pk))
        return message


@dataclass(frozen=True)
class FanOut:
    """One message of a fan-out to many recipients: the outbox stores one row per recipient key, all with the
    same kind, event, reference, revision and context (a JSON object of plain values)."""

    kind: str
    event: str
    reference: str
    revision: int
    context: str
    recipient_keys: Sequence[str]


# The columns a fan-out row sets; the others keep their NULL or have no use before the row is claimed.
_FANOUT_FIELDS = (
    "public_id",
    "created_at",
    "kind",
    "event",
    "reference",
    "revision",
    "recipient_key",
    "template",
    "language",
    "to",
    "reply_to",
    "context",
    "pgp_key",
    "status",
    "attempts",
    "next_attempt_at",
    "give_up_at",
    "claim_token",
    "last_error",
)


def queue_batch(fanouts: Iterable[FanOut]) -> int:
    """Store the rows of these fan-outs (one per recipient key) in the caller's transaction and start drains
    after the commit. A row whose (kind, reference, revision, recipient_key) is already queued is skipped.
    Returns the rows given.

    Rows are written with plain multi-row INSERTs, not model instances, and each fan-out's context is
    encrypted once for all its rows: it is the same text for every recipient, which the rows' plain
    reference and revision already show."""
    now = timezone.now()
    give_up_at = now + give_up_after()
    groups = [(fanout, seal(fanout.context)) for fanout in fanouts]
    rows = (
        (
            uuid.uuid4(),
            now,
            fanout.kind,
            fanout.event,
            fanout.reference,
            fanout.revision,
            str(key),
            "",
            "en",
            "",
            "",
            context,
            "",
            OutboxStatus.QUEUED.value,
            0,
            now,
            give_up_at,
            "",
            "",
        )
        for fanout, context in groups
        for key in fanout.recipient_keys
    )
    with transaction.atomic():
        count = insert_rows(OutboxMessage, _FANOUT_FIELDS, rows)
        if count:
            transaction.on_commit(lambda: enqueue_drains(count))
    return count


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


def wake_drain() -> None:
    """In the caller's transaction, after it has stored a due row: make sure a drain task runs after the
    commit and sees the row. A burst of mails then costs the worker one task, not one task per mail.

    A drain task that is queued and not yet started will see the row, provided it cannot start before this
    transaction commits; then no new task is needed. One that has started may already have looked for due
    rows, so it does not count. SQLite: this transaction holds the database's write lock (IMMEDIATE), and a
    worker takes that lock to start a task, so the task seen queued here starts after the commit.
    PostgreSQL: the queued task's row is locked FOR SHARE until the commit, and a worker locks the row FOR
    UPDATE to start it, so it waits (it skips the row and comes back); a task row a worker is starting
    right now is locked and skipped here (SKIP LOCKED), so a new task is queued. Any other database: always
    a new task."""
    if not _pending_drain():
        enqueue_drains(1)


def _pending_drain() -> bool:
    """True when a drain task is queued, not started, and cannot start before the current transaction
    commits (see `wake_drain`). Plain SQL: it runs with every mail, and building the ORM query cost more than
    the INSERT of a task row it replaces."""
    backend = tasks.drain_outbox.get_backend()
    alias = router.db_for_write(DBTaskResult)
    db = connections[alias]
    if db.vendor not in ("sqlite", "postgresql"):
        return False
    # The conditions of django-tasks' own `ready()` (a worker starts only such a row), for the drain task.
    table = db.ops.quote_name(DBTaskResult._meta.db_table)
    sql = (
        f"SELECT 1 FROM {table} WHERE status = %s AND task_path = %s AND backend_name = %s AND queue_name = %s"  # noqa: S608 — a quoted table name, no input
        " AND (run_after = %s OR run_after <= %s) LIMIT 1"
    )
    if db.vendor == "postgresql":
        sql += " FOR SHARE SKIP LOCKED"  # the ORM has no FOR SHARE
    params = [
        TaskResultStatus.READY.value,
        _DRAIN_TASK,
        backend.alias,
        tasks.drain_outbox.queue_name,
        db.ops.adapt_datetimefield_value(get_date_max()),
        db.ops.adapt_datetimefield_value(timezone.now()),
    ]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


_DRAIN_TASK = "psirt.mail.tasks.drain_outbox"


# --- claiming and sending -----------------------------------------------------------------------------


def skip_locked() -> bool:
    return bool(db_connection.features.has_select_for_update_skip_locked)


def claim_batch(
    *,
    limit: int = CLAIM_BATCH,
    message_id: int | None = None,
    first: int | None = None,
    now: dt.datetime | None = None,
) -> list[OutboxMessage]:
    """Claim up to `limit` due rows for this worker, in one short transaction: only the row `message_id` when
    given; with `first`, that row (nothing at all when it is not due) and other due rows after it.

    PostgreSQL: the candidate rows are locked with SKIP LOCKED, so concurrent workers take different rows.
    SQLite: the transaction takes the write lock at BEGIN (IMMEDIATE), and the UPDATE re-checks that each
    row is still due. Either way a row is claimed by one worker only; the claim token says which rows this
    worker won. The rows come back in claim order (`first` first)."""
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
        ids: list[int] = []
        if first is not None:
            ids = list(due.filter(pk=first).values_list("pk", flat=True)[:1])
            if not ids:
                return []
        if limit > len(ids):
            ids += list(due.exclude(pk__in=ids).values_list("pk", flat=True)[: limit - len(ids)])
        if not ids:
            return []
        OutboxMessage.objects.filter(pk__in=ids, status__in=DUE).update(
            status=OutboxStatus.SENDING, claimed_at=now, claim_token=token
        )
    won = {m.pk: m for m in OutboxMessage.objects.filter(pk__in=ids, claim_token=token, status=OutboxStatus.SENDING)}
    return [won[pk] for pk in ids if pk in won]


def claim(*, message_id: int | None = None, now: dt.datetime | None = None) -> OutboxMessage | None:
    """Claim one due row (the given one, or the next due); None when there is none (already claimed, sent,
    not yet due)."""
    rows = claim_batch(limit=1, message_id=message_id, now=now)
    return rows[0] if rows else None


def _named_by_apps(attribute: str) -> dict[str, Any]:
    """{kind: the object at its dotted path} from every installed app's AppConfig `attribute`."""
    found: dict[str, Any] = {}
    for config in apps.get_app_configs():
        for kind, path in getattr(config, attribute, {}).items():
            found[kind] = import_string(path)
    return found


@cache
def senders() -> dict[str, Sender]:
    """Every kind's sender, from the installed apps' `outbox_senders`."""
    return _named_by_apps("outbox_senders")


@cache
def preparers() -> dict[str, Preparer]:
    """Each kind's batch preparer, from the installed apps' `outbox_preparers` ({kind: dotted path}): called
    with a claimed batch's rows of its kind before the first is sent, so a sender can load what they need
    (their recipients) in one query instead of one per row. It only reads: what a row's sending does stays
    the sender's."""
    return _named_by_apps("outbox_preparers")


def prepare(batch: Sequence[OutboxMessage]) -> None:
    """Run each kind's preparer on the batch's rows of that kind. A preparer that fails only costs its
    speed: the sender then loads what it needs row by row, and the batch is sent as before."""
    for kind, preparer in preparers().items():
        rows = [message for message in batch if message.kind == kind]
        if rows:
            try:
                preparer(rows)
            except Exception as exc:  # the rows are claimed: they must still be sent
                logger.warning("outbox: preparing %d %s rows failed (%s)", len(rows), kind, error_kind(exc))


def error_kind(exc: BaseException) -> str:
    """What went wrong, without message bodies, addresses or secrets."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _text in exc.recipients.values()})
        return f"SMTPRecipientsRefused {','.join(str(c) for c in codes)}"[:200]
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.smtp_code}"[:200]
    if isinstance(exc, SendError | NotSendable):
        return str(exc)[:200]
    return type(exc).__name__[:200]


# --- the mail connection of a batch -------------------------------------------------------------------

# Refusals after which the SMTP session is still usable (the transaction was reset).
SESSION_KEPT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)
_LEADING_DOT = re.compile(rb"(?m)^\.")


class ClaimLost(Exception):
    """The row is no longer this worker's (its claim was released as stale and another worker took it): the
    mail is abandoned before its end of data, so the server discards it."""


class HandedOver(Exception):
    """A mail failed after its row was marked sent (refused at the end of data, or the connection dropped
    while the server was answering): the row must be failed again. Carries the cause."""


class OutboxMailConnection(BaseEmailBackend):
    """The mail connection a worker keeps for a batch: Django's configured backend, opened when a mail first
    needs it. Over SMTP each mail is handed over in two steps (see the module): the data, then `hand_over()`
    (set by the outbox for the row being sent: marks it sent and commits), then the end of data. Other
    backends (the tests' memory backend, the console) send as they are; the row is marked after the send."""

    def __init__(self, backend: BaseEmailBackend) -> None:
        super().__init__(fail_silently=False)
        self.backend = backend
        self.hand_over: Callable[[], None] | None = None
        self.handed_over = False

    @property
    def smtp(self) -> bool:
        return isinstance(self.backend, SMTPBackend)

    def open(self) -> bool | None:
        return self.backend.open()

    def close(self) -> None:
        # Closing a connection that already failed may fail again; nothing to report. Django's SMTP backend
        # forgets the connection either way, so the next mail opens a new one.
        with contextlib.suppress(Exception):
            self.backend.close()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if not self.smtp:
            return int(self.backend.send_messages(email_messages) or 0)
        for message in email_messages:
            self.send_smtp(message)
        return len(email_messages)

    def send_smtp(self, message: EmailMessage) -> None:
        encoding = message.encoding or settings.DEFAULT_CHARSET
        sender = sanitize_address(message.from_email, encoding)
        recipients = [sanitize_address(address, encoding) for address in message.recipients()]
        if not recipients:
            return
        mime = message.message()
        set_boundaries(mime)
        self.send_data(sender, recipients, mime.as_bytes(linesep="\r\n"))

    def send_data(self, sender: str, recipients: Sequence[str], data: bytes) -> None:
        """Send one mail already written out (`data`: the whole message with CRLF line ends) from the envelope
        `sender` to the envelope `recipients` (sanitized addresses), in the two steps of the hand-over."""
        backend: Any = self.backend
        if backend.connection is None:
            backend.open()
            # The end of data goes out as a small write of its own after the hand-over's commit: without
            # TCP_NODELAY it would wait for the server's delayed acknowledgment of the data (~40 ms a mail).
            opened: Any = backend.connection
            with contextlib.suppress(OSError, AttributeError):
                opened.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        smtp: smtplib.SMTP = backend.connection
        smtp.ehlo_or_helo_if_needed()
        options = [f"SIZE={len(data)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
        code, reply = smtp.mail(sender, options)
        if code != 250:
            smtp.rset()
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
        if len(refused) == len(recipients):
            smtp.rset()
            raise smtplib.SMTPRecipientsRefused(refused)
        code, reply = smtp.docmd("data")
        if code != 354:
            smtp.rset()
            raise smtplib.SMTPDataError(code, reply)
        body = _LEADING_DOT.sub(b"..", data)
        smtp.send(body if body.endswith(b"\r\n") else body + b"\r\n")
        if self.hand_over is not None:
            # The row is marked sent before the server may deliver; a failure here (the claim is lost, the
            # database is gone) abandons the mail mid-data, and the server discards it.
            try:
                self.hand_over()
            except BaseException:
                self.close()
                raise
            self.handed_over = True
        try:
            smtp.send(b".\r\n")
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            if self.handed_over:
                raise HandedOver(exc) from exc
            raise
        if code != 250:
            error = smtplib.SMTPDataError(code, reply)
            raise HandedOver(error) if self.handed_over else error


BOUNDARY_PREFIX = "=_psirt_"


def set_boundaries(mime: Message) -> None:
    """Give each multipart part of `mime` its boundary before the message is written: 128 random bits from the
    system's secure generator, which no sender can guess and no text contains by chance. Left to itself, the
    standard library's generator draws a boundary and compiles a regular expression per part to check that no
    part contains it: the largest single cost of writing a fan-out mail (~15 % of a worker's time per mail)."""
    for part in mime.walk():
        if part.is_multipart() and not part.get_boundary():
            part.set_boundary(BOUNDARY_PREFIX + secrets.token_hex(16))


def open_connection() -> OutboxMailConnection:
    """The mail connection of a batch (opened when the first mail needs it: a batch of webhooks opens none)."""
    return OutboxMailConnection(get_connection())


def mark_sent(message: OutboxMessage) -> None:
    """The row is sent: the context (it may hold a private link) and the key are not kept once the message
    is out. Raises ClaimLost when the row is no longer this worker's claim.

    One UPDATE, committed when it returns (the worker runs in autocommit; inside a caller's transaction it is
    part of it). Written out once per database rather than built by the ORM: it runs once per mail, between
    the data and its end, and the query building cost more than the update."""
    database = connections[router.db_for_write(OutboxMessage)]
    with database.cursor() as cursor:
        cursor.execute(
            _mark_sent_sql(database.vendor),
            [
                OutboxStatus.SENT.value,
                database.ops.adapt_datetimefield_value(timezone.now()),
                message.pk,
                OutboxStatus.SENDING.value,
                message.claim_token,
            ],
        )
        changed = cursor.rowcount
    if changed != 1:
        raise ClaimLost


@cache
def _mark_sent_sql(vendor: str) -> str:
    """`UPDATE … SET status, sent_at, and last_error, context, pgp_key emptied WHERE id, status, claim_token`:
    names from the model; values bound. (An empty encrypted text is stored empty.)"""
    database = connections[router.db_for_write(OutboxMessage)]
    quote = database.ops.quote_name
    column = {name: quote(column_name(OutboxMessage, name)) for name in _MARK_SENT_COLUMNS}
    table = quote(OutboxMessage._meta.db_table)
    return (
        f"UPDATE {table} SET {column['status']} = %s, {column['sent_at']} = %s, "  # noqa: S608
        f"{column['last_error']} = '', {column['context']} = '', {column['pgp_key']} = '' "
        f"WHERE {column['id']} = %s AND {column['status']} = %s AND {column['claim_token']} = %s"
    )


_MARK_SENT_COLUMNS = ("status", "sent_at", "last_error", "context", "pgp_key", "id", "claim_token")


AGAIN = "again"
DROPPED = (smtplib.SMTPServerDisconnected, ConnectionError)


def attempt(message: OutboxMessage, mail_connection: OutboxMailConnection, *, again: bool = False) -> tuple[str, bool]:
    """Send a claimed row and record the outcome; also says whether the mail connection should be opened
    afresh (a failure of anything but a refusal that left the SMTP session usable). With `again`, a
    connection that dropped before the hand-over records nothing and answers AGAIN."""
    mail_connection.hand_over = lambda: mark_sent(message)
    mail_connection.handed_over = False
    try:
        senders()[message.kind](message, mail_connection)
    except ClaimLost:
        return claim_lost(message), True
    except Cancelled:
        if not still_claimed(message).update(status=OutboxStatus.CANCELLED, last_error="recipient gone"):
            return claim_lost(message), True
        return str(OutboxStatus.CANCELLED), False
    except NotSendable as exc:
        logger.warning("outbox %s (%s) not sendable: %s", message.public_id, message.kind, exc)
        # Nothing will make it sendable: it is final, and the context (maybe a private link) is not kept.
        given_up = still_claimed(message).update(
            status=OutboxStatus.GAVE_UP,
            attempts=message.attempts + 1,
            last_error=error_kind(exc),
            context="",
            pgp_key="",
        )
        if not given_up:
            return claim_lost(message), True
        return str(OutboxStatus.GAVE_UP), False
    except HandedOver as exc:
        # Marked sent, then refused or cut off at the end of data: failed again, with what it needs to be
        # sent later put back.
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
        return record_failure(message, cause, restore=True), not isinstance(cause, SESSION_KEPT)
    except Exception as exc:
        if again and isinstance(exc, DROPPED):
            return AGAIN, True
        return record_failure(message, exc), not isinstance(exc, (SendError, *SESSION_KEPT))
    finally:
        mail_connection.hand_over = None
    if not mail_connection.handed_over:
        mark_sent_after(message)
    logger.info("outbox %s (%s %s) sent", message.public_id, message.kind, message.reference or message.template)
    return str(OutboxStatus.SENT), False


def still_claimed(message: OutboxMessage, *, handed_over: bool = False) -> QuerySet[OutboxMessage]:
    """The row, as long as it is still this worker's claim: `sending` under its claim token (or `sent` by this
    worker's own hand-over). Every outcome a worker records goes through it, so a worker whose claim went stale
    and was released can never overwrite what the worker that took the row over recorded (a sent row set back to
    failed would be sent a second time)."""
    status = OutboxStatus.SENT if handed_over else OutboxStatus.SENDING
    return OutboxMessage.objects.filter(pk=message.pk, status=status, claim_token=message.claim_token)


def claim_lost(message: OutboxMessage) -> str:
    logger.warning("outbox %s (%s): claim lost to another worker, not recorded", message.public_id, message.kind)
    return "claim lost"


def mark_sent_after(message: OutboxMessage) -> None:
    """Mark a row sent after its sender returned (webhooks, mail backends other than SMTP)."""
    still_claimed(message).update(
        status=OutboxStatus.SENT, sent_at=timezone.now(), last_error="", context="", pgp_key=""
    )


def record_failure(message: OutboxMessage, exc: BaseException, *, restore: bool = False) -> str:
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
    values: dict[str, Any] = {}
    if restore:  # marked sent at the hand-over, which wiped these
        values = {"context": message.context, "pgp_key": message.pgp_key, "sent_at": None}
    recorded = still_claimed(message, handed_over=restore).update(
        status=status, attempts=attempts, last_error=error, next_attempt_at=next_at, claimed_at=None, **values
    )
    if not recorded:
        return claim_lost(message)
    return str(status)


def send_batch(batch: Sequence[OutboxMessage], mail_connection: OutboxMailConnection) -> list[str]:
    """Send claimed rows one after the other over one connection; the outcome of each. A connection that
    failed is closed and opened again for the next row; a row whose connection dropped before its hand-over
    (so the server cannot have it: a kept connection the server closed, a server that went away) is tried
    once more at once over a new connection before it counts as a failure."""
    prepare(batch)
    outcomes = []
    for message in batch:
        outcome, fresh = attempt(message, mail_connection, again=True)
        if outcome == AGAIN:
            mail_connection.close()
            outcome, fresh = attempt(message, mail_connection)
        if fresh:
            mail_connection.close()
        outcomes.append(outcome)
    return outcomes


def send_one(message_id: int, *, now: dt.datetime | None = None) -> str:
    """Send one row if it is due and nobody else has it, with other due rows over the same connection (a
    burst of acknowledgments goes out in one SMTP session per batch, not one per mail). Idempotent: a
    duplicate call returns "not due" and sends nothing. Returns the outcome of the given row."""
    batch = claim_batch(first=message_id, now=now)
    if not batch:
        return "not due"
    connection = open_connection()
    try:
        return send_batch(batch, connection)[0]
    finally:
        connection.close()


def drain(*, limit: int = 10_000, now: dt.datetime | None = None) -> int:
    """Send due rows batch by batch (each claimed first) until none is due or `limit` is reached; several
    workers may drain at once. One SMTP connection is kept for the whole run."""
    mail_connection = open_connection()
    count = 0
    try:
        while count < limit:
            batch = claim_batch(limit=min(CLAIM_BATCH, limit - count), now=now)
            if not batch:
                break
            count += sum(1 for outcome in send_batch(batch, mail_connection) if outcome == OutboxStatus.SENT)
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
