"""Ways out that are down: the mail server, or one webhook receiver, that fails every send.

A row's way out (its transport) is the mail server for every kind sent over the worker's mail sessions, and what
the kind's app names otherwise (`outbox_transports` in its AppConfig: {kind: dotted path of a function of the row},
e.g. one webhook receiver, by its scheme, host and port). A send that fails because of the way out (refused or
timed-out connection, TLS failure, a greeting, HELO or login refused, the connection dropped, a receiver answering
5xx or 429) is not the row's fault. After `TRIP_AFTER` such failures in a row a drain stops trying that way: the
rows it held and the rest of its claimed rows for it go back to the queue without an attempt counted, and the way is
paused (`TransportPause`) for a growing time (`pause_length`), which every worker reads before sending. After the
pause one send tries it again: it goes through and the pause ends, or it fails and the next pause is longer.

A failure of the row's own (a recipient, sender or message refused, a receiver answering 4xx to that payload) keeps
the row's attempts, backoff and give-up. A failure of the way out that is not part of a run (the next send over it
goes through, or the batch ends first) is charged to its row as before: one failure says nothing of an outage.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

from django.db import IntegrityError, transaction

from psirt.mail.exceptions import Unreachable
from psirt.mail.models import TransportPause

logger = logging.getLogger(__name__)

# The way out of every kind sent over the worker's mail sessions.
MAIL = "mail"
# Failures of a way out in a row after which a drain stops trying it.
TRIP_AFTER = 3
PAUSE_FIRST = dt.timedelta(seconds=30)
PAUSE_CAP = dt.timedelta(minutes=15)
# Refusals after which the SMTP session is still usable (the transaction was reset): the mail's own failures,
# unless the server says it is closing (421), which is the mail server's.
SESSION_KEPT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)
SERVICE_CLOSING = 421


def doubling(first: dt.timedelta, count: int, cap: dt.timedelta) -> dt.timedelta:
    """`first` after the first time, twice as long after each next one, at most `cap`: the retries' backoff and the
    ways' pauses. (The power is bounded first: a long run would overflow a timedelta, not merely reach the cap.)"""
    factor: int = 2 ** min(max(0, count - 1), 40)  # typeshed types int ** int as Any (a negative power is a float)
    return min(first * factor, cap)


def pause_length(pauses: int) -> dt.timedelta:
    """30 s after the first pause in a row, then 1, 2, 4, 8 minutes …, at most 15 minutes."""
    return doubling(PAUSE_FIRST, pauses, PAUSE_CAP)


def unreachable(exc: BaseException) -> bool:
    """True when `exc` is the way out's failure, not the row's: a sender's `Unreachable`, or any error of the mail
    session (smtplib's errors and socket errors are OSErrors) other than a refusal of this one mail."""
    if isinstance(exc, Unreachable):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code == SERVICE_CLOSING for code, _text in exc.recipients.values())
    if isinstance(exc, SESSION_KEPT):
        return getattr(exc, "smtp_code", None) == SERVICE_CLOSING
    return isinstance(exc, OSError)


def describe(transport: str) -> str:
    """The way out as the log and the doctor say it: never an address."""
    if transport == MAIL:
        return "the mail server"
    kind, _sep, name = transport.partition(":")
    return f"{kind} receiver {name}" if name else transport


class Guard:
    """One drain's knowledge of the ways out: the pauses every worker wrote (read again before each batch), and the
    failures in a row this drain saw on each way. A way that was paused and whose pause is over is tried once: one
    failure pauses it again."""

    def __init__(self) -> None:
        self.failures: dict[str, int] = {}
        self.paused: dict[str, dt.datetime] = {}
        self.known: set[str] = set()

    def look(self, now: dt.datetime) -> None:
        """Read the pauses (a handful of rows at most, none while every way out works)."""
        rows = list(TransportPause.objects.values_list("transport", "retry_at"))
        self.paused = {transport: retry_at for transport, retry_at in rows if retry_at > now}
        self.known = {transport for transport, _retry_at in rows}

    def paused_until(self, transport: str) -> dt.datetime | None:
        return self.paused.get(transport)

    def went_through(self, transport: str) -> None:
        """A send over this way reached the other end: its failures in a row are over, and so is its pause."""
        self.failures.pop(transport, None)
        if transport in self.known:
            self.known.discard(transport)
            ended = TransportPause.objects.filter(transport=transport).delete()[0]
            if ended:
                logger.info("outbox: %s is reachable again; its messages go out", describe(transport))

    def failed(self, transport: str, error: str, now: dt.datetime) -> tuple[dt.datetime, bool] | None:
        """Count a failure of this way; when it makes the way one to stop trying, pause it and return the end of the
        pause and whether the way was working until now (False: it was paused before)."""
        count = self.failures[transport] = self.failures.get(transport, 0) + 1
        if count < TRIP_AFTER and transport not in self.known:
            return None
        self.failures.pop(transport, None)
        retry_at, first = pause(transport, error, now)
        self.paused[transport] = retry_at
        self.known.add(transport)
        return retry_at, first


def pause(transport: str, error: str, now: dt.datetime) -> tuple[dt.datetime, bool]:
    """Pause a way out for every worker: the end of the pause, and whether it is the first in a row. A pause another
    worker wrote meanwhile (still running) is kept as it is, so two workers seeing one outage do not lengthen it
    twice."""
    for _ in range(2):
        try:
            with transaction.atomic():
                found = TransportPause.objects.select_for_update().filter(transport=transport).first()
                if found is None:
                    retry_at = now + pause_length(1)
                    TransportPause.objects.create(
                        transport=transport, down_since=now, retry_at=retry_at, last_error=error
                    )
                    return retry_at, True
                if found.retry_at > now:
                    return found.retry_at, False
                found.pauses += 1
                found.retry_at = now + pause_length(found.pauses)
                found.last_error = error
                found.save(update_fields=["pauses", "retry_at", "last_error"])
                return found.retry_at, False
        except IntegrityError:  # another worker created it first: read theirs
            continue
    raise RuntimeError("the pause of a way out could not be written")  # pragma: no cover (two races in a row)


def pauses() -> list[TransportPause]:
    """The ways out paused now or before, the mail server first."""
    return sorted(TransportPause.objects.all(), key=lambda row: (row.transport != MAIL, row.down_since))
