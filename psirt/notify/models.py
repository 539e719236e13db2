"""Outgoing mail (the outbox): a mail is stored in the same transaction as the change it reports, and a
background worker renders and sends it. A report never waits for the mail server, and a mail about a change
that rolled back is never sent."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from psirt.lib.crypto import EncryptedTextField


class MailStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMail(models.Model):
    """One mail to send. Recipients, context and key are encrypted at rest; once sent, the context (which
    may hold a private link) and the key are wiped, keeping only who/what/when."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    template = models.CharField(max_length=200)
    language = models.CharField(max_length=10, default="en")
    to = EncryptedTextField()  # JSON list of addresses
    reply_to = EncryptedTextField(blank=True)  # JSON list
    context = EncryptedTextField(blank=True)  # JSON object of plain values
    pgp_key = EncryptedTextField(blank=True)
    status = models.CharField(max_length=10, choices=MailStatus.choices, default=MailStatus.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    send_after = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("outgoing mail")

    def __str__(self) -> str:
        return f"{self.template} ({self.status})"
