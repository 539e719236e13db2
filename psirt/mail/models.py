"""The outbox: everything sent later is one row here, written in the same transaction as the change it
reports, and sent by a worker that claims the row first. A report never waits for the mail server, a mail
about a change that rolled back is never sent, and a row is sent once however many tasks ask for it."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from psirt.lib.crypto import EncryptedTextField


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    GAVE_UP = "gave_up", _("Gave up")
    CANCELLED = "cancelled", _("Cancelled")


class OutboxMessage(models.Model):
    """One thing to send: a templated mail (kind "mail"), or a message another app knows how to send (its
    AppConfig's `outbox_senders` names the sender of each kind, e.g. notify's advisory mails and webhooks).

    A row goes queued → sending → sent. A failure goes to `failed` and is retried with a growing delay until
    `give_up_at`, then `gave_up`; a sender that finds its recipient gone makes it `cancelled`. Recipients,
    context and key are encrypted at rest; once sent, the context (which may hold a private link) and the
    key are wiped, keeping only who/what/when.

    `kind`, `reference`, `revision` and `recipient_key` identify a message of a fan-out: a second fan-out of
    the same reference, revision and recipient adds nothing (single mails leave `recipient_key` empty)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    kind = models.CharField(max_length=20, default="mail")
    # What the message is about: an event name and the public reference of its subject (no confidential id).
    event = models.CharField(max_length=40, blank=True)
    reference = models.CharField(max_length=40, blank=True)
    revision = models.PositiveIntegerField(default=0)  # 0 when the subject has no revisions
    # The recipient's public id for messages whose sender looks the recipient up when sending.
    recipient_key = models.CharField(max_length=64, blank=True)
    template = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=10, default="en")
    to = EncryptedTextField(blank=True)  # JSON list of addresses
    reply_to = EncryptedTextField(blank=True)  # JSON list
    context = EncryptedTextField(blank=True)  # JSON object of plain values
    pgp_key = EncryptedTextField(blank=True)
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # After this moment a failure is final (PSIRT_NOTIFY_GIVE_UP_HOURS from queueing or from a lead's retry).
    give_up_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Which claim (one worker's batch) holds the row while it is sending.
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The kind of error only (exception class, SMTP code, HTTP status): never a message body or a secret.
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "reference", "revision", "recipient_key"],
                condition=~models.Q(recipient_key=""),
                name="outbox_unique_recipient",
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference or self.template} ({self.status})"


class TransportPause(models.Model):
    """A way out that is down: the mail server, or one webhook receiver (`transport` names it, e.g. "mail" or
    "webhook:<hash of its scheme, host and port>", never an address). Written when a worker's sends over it failed
    several times in a row; until `retry_at` no worker tries it, and its rows wait without being charged an
    attempt. `pauses` counts the pauses in a row, each longer than the one before. Deleted when a send over it
    goes through again."""

    transport = models.CharField(max_length=80, unique=True)
    down_since = models.DateTimeField()
    retry_at = models.DateTimeField()
    pauses = models.PositiveIntegerField(default=1)
    # The kind of error only, as in OutboxMessage.last_error.
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("paused transport")
        verbose_name_plural = _("paused transports")

    def __str__(self) -> str:
        return f"{self.transport} (paused until {self.retry_at:%Y-%m-%d %H:%M})"
