"""The append-only, hash-chained audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One recorded action. `hash` = HMAC-SHA256, under the audit key named by `key_id` (kept outside the
    database, `PSIRT_AUDIT_KEYS`), of the previous event's hash and this event's canonical content, so editing or
    deleting any row breaks every later link, and without the key no one can recompute them (`psirt audit verify`).

    Holds who, what, when and from where; never report bodies, passwords or tokens."""

    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    at = models.DateTimeField(editable=False)
    # PROTECT, not SET_NULL: the actor's id is part of the hash, so nulling it would break the chain. People
    # with a history are deactivated, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True, editable=False)
    action = models.CharField(max_length=80, db_index=True, editable=False)
    target_type = models.CharField(max_length=80, blank=True, editable=False)
    target_id = models.CharField(max_length=80, blank=True, db_index=True, editable=False)
    ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    data = models.JSONField(default=dict, blank=True, editable=False)
    # Which audit key made `hash` (a hash of the key, not the key): after a rotation older events still verify.
    key_id = models.CharField(max_length=16, editable=False, default="")
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label or '-'}"


class AuditHead(models.Model):
    """A single row locked while appending, so concurrent writers (several processes, PostgreSQL) chain
    one after another instead of forking the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"
