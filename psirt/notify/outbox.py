"""Queue mail in the caller's transaction; deliver it from a worker (at least once, normally exactly once).

`queue_mail` stores an `OutboxMail` row and, after the commit, enqueues `deliver_mail`. Delivery claims the
row (pending → sending) in a short transaction, renders and sends outside any transaction (an SMTP
conversation must never hold the database's write lock), then marks it sent and wipes its context. A failed
send goes back to pending with a growing delay; `retry_pending_mail` (run it periodically) picks up what is
due, including mail claimed by a worker that died mid-send.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from psirt.notify.models import MailStatus, OutboxMail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
STALE_CLAIM = dt.timedelta(minutes=15)


def queue_mail(
    *,
    to: Sequence[str],
    template: str,
    context: Mapping[str, Any],
    language: str = "en",
    pgp_key: str = "",
    reply_to: Sequence[str] = (),
) -> OutboxMail:
    """Store a mail to send after the current transaction commits. `context` must be JSON-serialisable
    (plain values: the worker renders the templates later, in `language` then the other site language)."""
    mail = OutboxMail.objects.create(
        template=template,
        language=language,
        to=json.dumps(list(to)),
        reply_to=json.dumps(list(reply_to)) if reply_to else "",
        context=json.dumps(dict(context), default=str),
        pgp_key=pgp_key,
    )
    if _transactional_queue():
        # The task row is written in the same transaction as the mail: both exist, or neither.
        _enqueue(mail)
    else:
        transaction.on_commit(lambda: _enqueue(mail))
    return mail


def _transactional_queue() -> bool:
    """True when enqueuing writes to our own database (django-tasks' database backend), so it can share the
    caller's transaction; other backends (the immediate one of the tests) run or send at once, so they wait
    for the commit."""
    from django_tasks_db.backend import DatabaseBackend

    from psirt.notify.tasks import deliver_mail

    return isinstance(deliver_mail.get_backend(), DatabaseBackend)


def _enqueue(mail: OutboxMail, *, delay: dt.timedelta | None = None) -> None:
    from psirt.notify.tasks import deliver_mail

    task = deliver_mail
    if delay is not None:
        if not task.get_backend().supports_defer:
            return  # picked up by retry_pending_mail
        task = task.using(run_after=timezone.now() + delay)
    try:
        task.enqueue(mail_id=str(mail.public_id))
    except Exception:
        # The row is stored; the periodic retry sends it. Never fail the request over the queue.
        logger.exception("could not enqueue mail %s", mail.public_id)


def deliver(mail_id: str, *, now: dt.datetime | None = None) -> str:
    """Send one queued mail. Returns what happened (for the task result and logs; no addresses)."""
    from psirt.notify.mail import send_rendered

    now = now or timezone.now()
    with transaction.atomic():
        claimed = OutboxMail.objects.filter(public_id=mail_id, status=MailStatus.PENDING, send_after__lte=now).update(
            status=MailStatus.SENDING, claimed_at=now
        )
    if not claimed:
        return "not pending"
    mail = OutboxMail.objects.get(public_id=mail_id)
    try:
        sent = send_rendered(
            to=json.loads(mail.to),
            template=mail.template,
            context=json.loads(mail.context or "{}"),
            language=mail.language,
            pgp_key=mail.pgp_key,
            reply_to=json.loads(mail.reply_to) if mail.reply_to else (),
        )
    except Exception as exc:
        mail.attempts += 1
        mail.last_error = type(exc).__name__[:200]
        if mail.attempts >= MAX_ATTEMPTS:
            mail.status = MailStatus.FAILED
            logger.error("mail %s (%s) failed %d times; giving up", mail.public_id, mail.template, mail.attempts)
        else:
            mail.status = MailStatus.PENDING
            delay = dt.timedelta(minutes=2**mail.attempts)
            mail.send_after = timezone.now() + delay
            logger.warning(
                "mail %s (%s) not sent (%s); retry in %s", mail.public_id, mail.template, mail.last_error, delay
            )
        mail.save(update_fields=["attempts", "last_error", "status", "send_after"])
        if mail.status == MailStatus.PENDING:
            _enqueue(mail, delay=delay)
        return "retry" if mail.status == MailStatus.PENDING else "failed"
    mail.status = MailStatus.SENT if sent else MailStatus.FAILED
    mail.sent_at = timezone.now()
    if not sent:
        mail.last_error = "not sendable (key cannot encrypt)"
    # The context may hold a private link: it is not kept once the mail is out.
    mail.context = ""
    mail.pgp_key = ""
    mail.save(update_fields=["status", "sent_at", "context", "pgp_key", "last_error"])
    return "sent" if sent else "not sendable"


def retry_pending(*, now: dt.datetime | None = None) -> int:
    """Deliver every due pending mail, and release claims of workers that died mid-send."""
    now = now or timezone.now()
    OutboxMail.objects.filter(status=MailStatus.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=MailStatus.PENDING
    )
    count = 0
    for mail_id in OutboxMail.objects.filter(status=MailStatus.PENDING, send_after__lte=now).values_list(
        "public_id", flat=True
    ):
        if deliver(str(mail_id), now=now) == "sent":
            count += 1
    return count
