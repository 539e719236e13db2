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

A worker sends its claimed batch over up to `PSIRT_SMTP_SESSIONS` SMTP sessions, each opened when a mail first needs
it and kept for the batch (a drain keeps them for the whole run). Each mail is handed over in two steps: everything
up to the end of the message data, then the row is marked sent (committed), then the final "." that tells the
server to deliver. The mails of a group, one per session, each wait at their end of data, and the group's rows
are marked sent in one commit (`hand_over`). A worker killed before that commit leaves unfinished transactions,
which the server discards when the connections drop, and rows still `sending`, which are sent again later:
once. A worker killed after it has rows marked sent whose "." is on its way. So a kill never causes a second
copy; the one loss left is a kill in the microseconds between the commit and writing the group's ".". A server
that refuses the message at the "." (or drops the connection before answering) makes the row `failed` again and
it is retried. A recipient the server refuses fails that row only and the session is kept; a connection that
drops before the data is out is opened again and the mail retried at once, once. A session whose mail must not
be delivered (its row is no longer this worker's, the commit failed) is dropped without QUIT.

A way out that is down (the mail server, one webhook receiver) is not tried send after send: after a few failures
in a row the drain puts that way's rows back without charging them an attempt and pauses it for every worker,
for a growing time (`psirt.mail.transports`); a row refused for itself keeps its attempts, backoff and give-up.

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
import smtplib
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.policy import compat32
from functools import cache, lru_cache
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
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from psirt.lib import pgp
from psirt.lib.bulk import column_name, insert_rows
from psirt.lib.crypto import seal
from psirt.lib.prepared import PreparedInsert
from psirt.mail import rendering, tasks
from psirt.mail.exceptions import Cancelled, NotSendable, SendError
from psirt.mail.models import OutboxMessage, OutboxStatus
from psirt.mail.transports import MAIL, SESSION_KEPT, Guard, describe, doubling, unreachable
from psirt.mail.writing import KEPT_FOLDING, set_boundaries, written

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
    return doubling(BACKOFF_BASE, attempts, BACKOFF_CAP)


# --- rendering ----------------------------------------------------------------------------------------


def site_languages(primary: str) -> list[str]:
    """The site languages, `primary` first (the default language when `primary` is not one of them)."""
    codes = [code for code, _name in settings.LANGUAGES]
    first = primary if primary in codes else settings.LANGUAGE_CODE
    return [first] + [c for c in codes if c != first]


def render_one(template: str, context: Mapping[str, Any], language: str) -> tuple[str, str, str]:
    """(subject, text, html) of `<template>.subject.txt/.txt/.html` in one language; the subject on one line. Each is
    Django's rendering, kept per shape of the context with slots for its texts (`psirt.mail.rendering`)."""
    values = {**context, "mail_language": language}
    with translation.override(language):
        subject = " ".join(rendering.render(f"{template}.subject.txt", values).split())
        text = rendering.render(f"{template}.txt", values).strip()
        html = rendering.render(f"{template}.html", values).strip()
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
        if transactional_queue():
            # The wake-up is decided in the same transaction as the mail: the row and a drain that will see it
            # exist, or neither (see `insert_waking_drain`).
            insert_waking_drain(self._insert)
        else:
            self._insert.run()
            pk = message.pk
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


def insert_waking_drain(insert: PreparedInsert) -> None:
    """Insert a due outbox row (`insert`, in the caller's transaction) and make sure a drain task runs after the
    commit and sees the row. A burst of mails then costs the worker one task, not one task per mail.

    A drain task that is queued and not yet started will see the row, provided it cannot start before this
    transaction commits; then no new task is needed. One that has started may already have looked for due
    rows, so it does not count. SQLite: this transaction holds the database's write lock (IMMEDIATE), and a
    worker takes that lock to start a task, so the task seen queued here starts after the commit.
    PostgreSQL: the queued task's row is locked FOR SHARE until the commit, and a worker locks the row FOR
    UPDATE to start it, so it waits (it skips the row and comes back); a task row a worker is starting
    right now is locked and skipped here (SKIP LOCKED), so a new task is queued. Any other database: always
    a new task.

    On PostgreSQL the row and the question are one statement: the look for a pending drain is a WITH query read
    by the INSERT's RETURNING (it runs with every mail, and a statement of its own cost a round trip). SQLite has
    no round trips to save, and there the two statements cost less than the one."""
    database = insert.database
    query = _pending_drain_query()
    if query is None or query[2] != database.alias or database.vendor != "postgresql" or not insert.returns:
        insert.run()
        pending = query is not None and _pending_drain(query)
    else:
        sql, params, _alias = query
        # A locking SELECT cannot stand in RETURNING; as a WITH query it runs when RETURNING reads it.
        statement = f"WITH pending AS ({sql}) {insert.sql}, EXISTS (SELECT 1 FROM pending)"  # noqa: S608 — statements of ours, no input
        values = [*params, *insert.params()]
        with database.cursor() as cursor:
            cursor.execute(statement, values)
            *returned, found = cursor.fetchone()
            insert.inserted(cursor, returned)
        pending = bool(found)
    if not pending:
        enqueue_drains(1)


def _pending_drain_query() -> tuple[str, list[Any], str] | None:
    """The SELECT that finds a drain task queued, not started, and unable to start before the current
    transaction commits (see `insert_waking_drain`), its values and its database; None where that cannot be
    told (databases other than SQLite and PostgreSQL). Plain SQL: it runs with every mail, and building the ORM
    query cost more than the INSERT of a task row it replaces."""
    backend = tasks.drain_outbox.get_backend()
    alias = router.db_for_write(DBTaskResult)
    db = connections[alias]
    if db.vendor not in ("sqlite", "postgresql"):
        return None
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
    return sql, params, alias


def _pending_drain(query: tuple[str, list[Any], str]) -> bool:
    """Whether `query` (`_pending_drain_query`) finds a pending drain task, asked on its own."""
    sql, params, alias = query
    with connections[alias].cursor() as cursor:
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
def transports() -> dict[str, Callable[[OutboxMessage], str | None]]:
    """Each kind's way out, from the installed apps' `outbox_transports` ({kind: dotted path of a function of a
    claimed row, after its batch was prepared}): a name for the receiver its sender will reach (None: none to
    guard). A kind not named there is sent over the worker's mail sessions: its way out is the mail server."""
    return _named_by_apps("outbox_transports")


def transport_of(message: OutboxMessage) -> str | None:
    """The way out a row will take (see `psirt.mail.transports`)."""
    named = transports().get(message.kind)
    return MAIL if named is None else named(message)


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


# --- the mail connections of a worker -----------------------------------------------------------------

_LEADING_DOT = re.compile(rb"(?m)^\.")
# Connections senders keep open per receiver (webhooks' HTTP connections) at most; the least recently used
# one is closed to make room.
KEPT_LIMIT = 32


class KeptConnections:
    """Connections a sender keeps open for the rest of a worker's batch or drain, by a key of its choosing
    (webhooks: one HTTP connection per receiver), at most `KEPT_LIMIT`: the least recently used is closed to
    make room. Closed with the worker's connections."""

    def __init__(self) -> None:
        self._open: dict[Any, Any] = {}

    def get(self, key: Any) -> Any:
        """The connection kept under `key` (now the most recently used), or None."""
        found = self._open.pop(key, None)
        if found is not None:
            self._open[key] = found
        return found

    def put(self, key: Any, connection: Any) -> None:
        """Keep `connection` (anything with a `close()`) under `key`, closing the one it replaces and, past the
        limit, the least recently used."""
        if self._open.get(key) is not connection:
            self.discard(key)
        self._open.pop(key, None)
        self._open[key] = connection
        while len(self._open) > KEPT_LIMIT:
            self.discard(next(iter(self._open)))

    def discard(self, key: Any) -> None:
        connection = self._open.pop(key, None)
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    def close(self) -> None:
        while self._open:
            self.discard(next(iter(self._open)))

    def __len__(self) -> int:
        return len(self._open)


class OutboxMailConnection(BaseEmailBackend):
    """One mail session a worker keeps: Django's configured backend, opened when a mail first needs it. Over
    SMTP a mail is sent in two steps (see the module): `send_data` stops after the message data, with the mail
    `waiting`; the outbox marks the row sent, then `end_data` and `end_reply` finish it (or `abandon` drops
    the session, and the server discards the mail). Other backends (the tests' memory backend, the console)
    send as they are; the row is marked after the send. `kept` holds what senders keep open per receiver."""

    def __init__(self, backend: BaseEmailBackend, *, kept: KeptConnections | None = None) -> None:
        super().__init__(fail_silently=False)
        self.backend = backend
        self.kept = kept if kept is not None else KeptConnections()
        self.waiting = False

    @property
    def smtp(self) -> bool:
        return isinstance(self.backend, SMTPBackend)

    @property
    def opened(self) -> bool:
        """An SMTP connection is open (kept from an earlier mail)."""
        return getattr(self.backend, "connection", None) is not None

    def open(self) -> bool | None:
        return self.backend.open()

    def close(self) -> None:
        """End the session; with a mail waiting at its end of data, drop it without a word (`abandon`). Closing
        a connection that already failed may fail again; nothing to report. Django's SMTP backend forgets the
        connection either way, so the next mail opens a new one."""
        if self.waiting:
            self.abandon()
            return
        with contextlib.suppress(Exception):
            self.backend.close()

    def abandon(self) -> None:
        """Close the socket at once, without QUIT: the server discards a mail whose end of data never came. (A
        QUIT written after the data would be read as more data, and its answer waited for until the timeout.)"""
        self.waiting = False
        backend: Any = self.backend
        smtp = getattr(backend, "connection", None)
        if smtp is not None:
            with contextlib.suppress(Exception):
                smtp.close()
            backend.connection = None

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if not self.smtp:
            return int(self.backend.send_messages(email_messages) or 0)
        for message in email_messages:
            self.send_smtp(message)
        return len(email_messages)

    def send_smtp(self, message: EmailMessage) -> None:
        encoding = message.encoding or settings.DEFAULT_CHARSET
        sender = envelope_sender(message.from_email, encoding)
        recipients = [envelope_recipient(address, encoding) for address in message.recipients()]
        if not recipients:
            return
        data = written(message)  # a mail of the usual shape, without building its tree
        if data is None:
            mime = message.message()
            set_boundaries(mime)
            if mime.policy is compat32:  # as Django writes every message; any other policy is left as it is
                mime.policy = KEPT_FOLDING
            data = mime.as_bytes(linesep="\r\n")
        self.send_data(sender, recipients, data)

    def send_data(self, sender: str, recipients: Sequence[str], data: bytes) -> None:
        """The first step of sending one mail already written out (`data`: the whole message with CRLF line
        ends) from the envelope `sender` to the envelope `recipients` (sanitized addresses): everything up to
        the end of the message data. The mail is then `waiting` for `end_data` (one mail per outbox row)."""
        if self.waiting:
            raise RuntimeError("one mail per outbox row: the previous one waits for its end of data")
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
        code, reply = envelope_command(smtp, "mail from", sender, options)
        if code != 250:
            smtp.rset()
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for recipient in recipients:
            code, reply = envelope_command(smtp, "rcpt to", recipient)
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
        self.waiting = True
        smtp.send(body if body.endswith(b"\r\n") else body + b"\r\n")

    def end_data(self) -> None:
        """Write the waiting mail's end of data: from here the server may deliver it."""
        smtp: smtplib.SMTP = self.backend.connection  # type: ignore[attr-defined]
        smtp.send(b".\r\n")

    def end_reply(self) -> None:
        """Read the server's answer to the end of data; raises SMTPDataError unless it took the mail."""
        self.waiting = False
        smtp: smtplib.SMTP = self.backend.connection  # type: ignore[attr-defined]
        code, reply = smtp.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)


class OutboxConnections:
    """What a worker keeps open for a batch or a drain: `sessions` mail sessions (each opened when a mail
    first needs it, so a batch of one opens one, and a batch of webhooks none), what senders keep open per
    receiver, and what the drain knows of the ways out that are down (`guard`).

    The mails of a group, one per session, each wait at their end of data on a session of their own, and the
    group's rows are marked sent in one commit (see `hand_over`): `PSIRT_SMTP_SESSIONS` sessions unless told."""

    def __init__(self, sessions: int | None = None) -> None:
        self.kept = KeptConnections()
        self.guard = Guard()
        count = max(1, settings.PSIRT_SMTP_SESSIONS if sessions is None else sessions)
        self.sessions = [OutboxMailConnection(get_connection(), kept=self.kept) for _ in range(count)]

    def close(self) -> None:
        for session in self.sessions:
            session.close()
        self.kept.close()


@lru_cache(maxsize=16)
def envelope_sender(address: str, encoding: str) -> str:
    """The envelope sender for `address` (Django's `sanitize_address`, as its SMTP backend does for every mail),
    once per process for each address and encoding: the sender is the configured one in every mail."""
    return sanitize_address(address, encoding)


# An address `sanitize_address` gives back as it is: a dot-atom local part at a host name of letters, digits and
# hyphens whose labels are 1 to 63 characters long (nothing to parse out, quote, encode or punycode).
PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\Z"
)


def envelope_recipient(address: Any, encoding: str) -> str:
    """A recipient for the envelope, as Django's SMTP backend sanitizes it (`sanitize_address`): a plain address
    (`PLAIN_ADDRESS`, nearly every recipient) is that address, without the standard library's address parser."""
    if isinstance(address, str) and PLAIN_ADDRESS.match(address):
        return address
    return sanitize_address(address, encoding)


def quoted(address: str) -> str:
    """An envelope address as smtplib's `quoteaddr` writes it in MAIL FROM and RCPT TO: a plain address
    (`PLAIN_ADDRESS`) in angle brackets, without the standard library's address parser."""
    if PLAIN_ADDRESS.match(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def envelope_command(smtp: smtplib.SMTP, command: str, address: str, options: Sequence[str] = ()) -> tuple[int, bytes]:
    """`smtp.mail(address, options)` ("mail from") or `smtp.rcpt(address, options)` ("rcpt to"): the same command
    line (options only to an ESMTP server), the address quoted by `quoted`. The server's (code, reply)."""
    verb, _space, direction = command.partition(" ")
    direction = direction.upper()
    extra = " " + " ".join(options) if options and smtp.does_esmtp else ""
    smtp.putcmd(verb, f"{direction}:{quoted(address)}{extra}")
    return smtp.getreply()


def open_connection(sessions: int | None = None) -> OutboxConnections:
    """The connections of a batch or a drain (`PSIRT_SMTP_SESSIONS` mail sessions unless told), opened when
    needed."""
    return OutboxConnections(sessions)


def mark_sent(messages: Sequence[OutboxMessage]) -> set[int]:
    """Mark these claimed rows sent, in one commit: the context (it may hold a private link) and the key are
    not kept once the message is out. Returns the ids marked; a row left out is no longer this worker's claim.

    One UPDATE … RETURNING per claim token (a batch has one), in one transaction, committed when it returns
    (the worker runs in autocommit; inside a caller's transaction it is part of it). Written out once per
    database and size rather than built by the ORM: it runs between the data and its end.

    On PostgreSQL the commit does not wait for the disk (`synchronous_commit` off for this transaction, when it
    is the outermost): the mails' ends go out as soon as the marks are committed, so a worker killed meanwhile
    can lose only what is between the commit's answer and the writes of the ends, not a disk flush's worth of
    time. The price is a crash of the database server itself: marks committed in the moment before it (the
    WAL writer puts them on disk within about 0.6 s) may be undone, and those mails sent a second time."""
    if not messages:
        return set()
    alias = router.db_for_write(OutboxMessage)
    database = connections[alias]
    now = database.ops.adapt_datetimefield_value(timezone.now())
    by_token: dict[str, list[int]] = {}
    for message in messages:
        by_token.setdefault(message.claim_token, []).append(message.pk)
    won: set[int] = set()
    unflushed = database.vendor == "postgresql" and not database.in_atomic_block
    with transaction.atomic(using=alias, savepoint=False), database.cursor() as cursor:
        if unflushed:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        for token, ids in by_token.items():
            cursor.execute(
                _mark_sent_sql(database.vendor, len(ids)),
                [OutboxStatus.SENT.value, now, OutboxStatus.SENDING.value, token, *ids],
            )
            won.update(row[0] for row in cursor.fetchall())
    return won


@lru_cache(maxsize=64)
def _mark_sent_sql(vendor: str, count: int) -> str:
    """`UPDATE … SET status, sent_at, and last_error, context, pgp_key emptied WHERE status, claim_token, id IN
    (count ids) RETURNING id`: names from the model; values bound. (An empty encrypted text is stored empty.)"""
    database = connections[router.db_for_write(OutboxMessage)]
    quote = database.ops.quote_name
    column = {name: quote(column_name(OutboxMessage, name)) for name in _MARK_SENT_COLUMNS}
    table = quote(OutboxMessage._meta.db_table)
    ids = ", ".join(["%s"] * count)
    return (
        f"UPDATE {table} SET {column['status']} = %s, {column['sent_at']} = %s, "  # noqa: S608
        f"{column['last_error']} = '', {column['context']} = '', {column['pgp_key']} = '' "
        f"WHERE {column['status']} = %s AND {column['claim_token']} = %s AND {column['id']} IN ({ids}) "
        f"RETURNING {column['id']}"
    )


_MARK_SENT_COLUMNS = ("status", "sent_at", "last_error", "context", "pgp_key", "id", "claim_token")


AGAIN = "again"
WAITING = "waiting"
HELD = "held"
PUT_BACK = "put back"
DROPPED = (smtplib.SMTPServerDisconnected, ConnectionError)


def start(
    message: OutboxMessage,
    session: OutboxMailConnection,
    *,
    again: bool = False,
    held: list[BaseException] | None = None,
) -> tuple[str, bool]:
    """Send a claimed row as far as it goes alone: a mail over SMTP up to its end of data (WAITING: `hand_over`
    finishes it), anything else (webhooks, other mail backends) to the end, then marked sent. Records any other
    outcome, and says whether the session should be opened afresh (a failure of anything but a refusal that left
    the SMTP session usable). With `again`, a connection that dropped before the data was out records nothing
    and answers AGAIN. With `held`, a failure of the way out (`transports.unreachable`) records nothing either:
    it is appended there and the answer is HELD, for the caller to decide whether the row is charged."""
    try:
        try:
            senders()[message.kind](message, session)
        except BaseException:
            if session.waiting:  # the mail is not to be delivered: the server must discard it
                session.abandon()
            raise
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
    except Exception as exc:
        if again and isinstance(exc, DROPPED):
            return AGAIN, True
        if held is not None and unreachable(exc):
            held.append(exc)
            return HELD, True
        return record_failure(message, exc), not isinstance(exc, (SendError, *SESSION_KEPT))
    if session.waiting:
        return WAITING, False
    mark_sent_after(message)
    sent(message)
    return str(OutboxStatus.SENT), False


def hand_over(group: Sequence[tuple[OutboxMessage, OutboxMailConnection]]) -> list[tuple[str, bool]]:
    """Finish a group of mails, each waiting at its end of data on a session of its own: mark their rows sent
    in one commit, then write every end of data, then read the answers. The outcome of each, and whether its
    session should be opened afresh.

    Exactly once: before the commit the server holds each mail without its end, and discards it when the
    session drops (a worker killed there leaves its rows `sending`, and the sweep has them sent again, once).
    A row the commit did not mark is another worker's now: its session is dropped, and the mail discarded. If
    the commit fails, every mail of the group is discarded and its row failed. A mail refused at its end (or
    whose session broke there) is failed again, with what a retry needs put back."""
    try:
        won = mark_sent([message for message, _session in group])
    except Exception as exc:
        for _message, session in group:
            session.abandon()
        return [(record_failure(message, exc), True) for message, _session in group]
    outcomes: dict[int, tuple[str, bool]] = {}
    ending = []
    for message, session in group:
        if message.pk not in won:
            session.abandon()
            outcomes[message.pk] = (claim_lost(message), True)
            continue
        try:
            session.end_data()
        except OSError as exc:
            session.waiting = False
            outcomes[message.pk] = (record_failure(message, exc, restore=True), True)
            continue
        ending.append((message, session))
    for message, session in ending:
        try:
            session.end_reply()
        except OSError as exc:  # smtplib's errors are OSErrors
            outcomes[message.pk] = (record_failure(message, exc, restore=True), not isinstance(exc, SESSION_KEPT))
        else:
            sent(message)
            outcomes[message.pk] = (str(OutboxStatus.SENT), False)
    return [outcomes[message.pk] for message, _session in group]


def sent(message: OutboxMessage) -> None:
    logger.info("outbox %s (%s %s) sent", message.public_id, message.kind, message.reference or message.template)


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


def send_batch(
    batch: Sequence[OutboxMessage], connection: OutboxConnections, *, now: dt.datetime | None = None
) -> list[str]:
    """Send claimed rows over the worker's kept sessions; the outcome of each. Mails go in groups of one per
    session, each group's rows marked sent in one commit (`hand_over`). A session that failed is closed and
    opened again for the next row; a row whose kept connection dropped before its data was out (so the server
    cannot have it: the server closed it while idle, or went away) is tried once more at once over a new
    connection before it counts as a failure. (A new connection that fails is not tried again at once: that is
    the way out failing.)

    A row whose way out is paused goes back to the queue until the pause ends, not charged. A failure of the way
    out is held: when the next send over it goes through, or the batch ends, the row is charged as any failure;
    when it is one of `TRIP_AFTER` in a row, the way is paused and the held rows go back uncharged too. `now`
    (the clock unless given) says which pauses are over."""
    prepare(batch)
    guard = connection.guard
    guard.look(now or timezone.now())
    ways = {message.pk: transport_of(message) for message in batch}
    outcomes: dict[int, str] = {}
    group: list[tuple[OutboxMessage, OutboxMailConnection]] = []
    holding: dict[str, list[tuple[OutboxMessage, BaseException]]] = {}

    def went_through(message: OutboxMessage) -> None:
        way = ways[message.pk]
        if way is None:
            return
        guard.went_through(way)
        for row, exc in holding.pop(way, ()):  # one failure in a row is the row's, as any other
            outcomes[row.pk] = record_failure(row, exc)

    def wait_out(rows: list[OutboxMessage], way: str, rest: Sequence[OutboxMessage], until: dt.datetime) -> int:
        """Put `rows` and the rest of the batch's rows for `way` back until its pause ends, uncharged."""
        rows = rows + [row for row in rest if ways[row.pk] == way]
        outcomes.update((row.pk, PUT_BACK) for row in rows)
        return put_back(rows, until)

    def hold(message: OutboxMessage, way: str, exc: BaseException, rest: Sequence[OutboxMessage]) -> None:
        holding.setdefault(way, []).append((message, exc))
        paused = guard.failed(way, error_kind(exc), now or timezone.now())
        if paused is None:
            return
        until, first = paused
        count = wait_out([row for row, _exc in holding.pop(way)], way, rest, until) + defer(way, until)
        # Once per pause: which way, what failed, how many rows wait, until when. No address, no content.
        logger.log(
            logging.WARNING if first else logging.INFO,
            "outbox: %s %s (%s); %d messages wait, not charged an attempt, until %s",
            describe(way),
            "is unreachable" if first else "is still unreachable",
            error_kind(exc),
            count,
            until.isoformat(),
        )

    def finish_group() -> None:
        for (message, session), (outcome, fresh) in zip(group, hand_over(group), strict=True):
            outcomes[message.pk] = outcome
            if outcome == OutboxStatus.SENT:
                went_through(message)
            if fresh:
                session.close()
        group.clear()

    try:
        for index, message in enumerate(batch):
            if message.pk in outcomes:  # put back with its way out's held rows
                continue
            way = ways[message.pk]
            until = guard.paused_until(way) if way is not None else None
            if until is not None and way is not None:  # with the rest of the batch's rows for that way, at once
                wait_out([message], way, batch[index + 1 :], until)
                continue
            session = connection.sessions[len(group)]
            held: list[BaseException] = []
            outcome, fresh = start(message, session, again=session.opened, held=held if way is not None else None)
            if outcome == AGAIN:
                session.close()
                outcome, fresh = start(message, session, held=held if way is not None else None)
            if outcome == HELD and way is not None:  # a way out is held only when there is one
                session.close()
                hold(message, way, held[0], batch[index + 1 :])
                continue
            if outcome in (WAITING, OutboxStatus.SENT):
                went_through(message)
            if outcome == WAITING:
                group.append((message, session))
                if len(group) == len(connection.sessions):
                    finish_group()
                continue
            outcomes[message.pk] = outcome
            if fresh:
                session.close()
        if group:
            finish_group()
        for failures in holding.values():  # the batch ended before the way said more: charged as any failure
            for row, exc in failures:
                outcomes[row.pk] = record_failure(row, exc)
        holding.clear()
    finally:
        for _message, session in group:  # interrupted before the group's commit: the server discards them
            session.abandon()
    return [outcomes[message.pk] for message in batch]


def put_back(messages: Sequence[OutboxMessage], until: dt.datetime) -> int:
    """Return claimed rows to the queue, due at `until`, without charging them an attempt: their way out is down,
    not they. A row that is no longer this worker's claim is left alone. Returns the rows put back."""
    by_token: dict[str, list[int]] = {}
    for message in messages:
        by_token.setdefault(message.claim_token, []).append(message.pk)
    return sum(
        OutboxMessage.objects.filter(pk__in=ids, status=OutboxStatus.SENDING, claim_token=token).update(
            status=OutboxStatus.QUEUED, next_attempt_at=until, claimed_at=None
        )
        for token, ids in by_token.items()
    )


def defer(way: str, until: dt.datetime) -> int:
    """Make the due rows of a paused way out due when its pause ends, in one UPDATE, so no worker claims them
    only to put them back: the rows of every kind sent over the mail sessions when the way is the mail server.
    (Other ways, one webhook receiver among many, cannot be told from their rows; their few rows are put back
    as they are claimed.) Returns the rows deferred."""
    if way != MAIL:
        return 0
    kinds = [kind for kind in senders() if kind not in transports()]
    return OutboxMessage.objects.filter(status__in=DUE, next_attempt_at__lt=until, kind__in=kinds).update(
        next_attempt_at=until
    )


def send_one(message_id: int, *, now: dt.datetime | None = None) -> str:
    """Send one row if it is due and nobody else has it, with other due rows over the same sessions (a
    burst of acknowledgments goes out over the worker's kept sessions, not one connection per mail).
    Idempotent: a duplicate call returns "not due" and sends nothing. Returns the outcome of the given row."""
    batch = claim_batch(first=message_id, now=now)
    if not batch:
        return "not due"
    connection = open_connection()
    try:
        return send_batch(batch, connection, now=now)[0]
    finally:
        connection.close()


def drain(*, limit: int = 10_000, now: dt.datetime | None = None) -> int:
    """Send due rows batch by batch (each claimed first) until none is due or `limit` is reached; several
    workers may drain at once. The sessions are kept for the whole run."""
    connection = open_connection()
    count = 0
    try:
        while count < limit:
            batch = claim_batch(limit=min(CLAIM_BATCH, limit - count), now=now)
            if not batch:
                break
            count += sum(1 for outcome in send_batch(batch, connection, now=now) if outcome == OutboxStatus.SENT)
    finally:
        connection.close()
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
