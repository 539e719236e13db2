"""The outbox in Django's admin, read-only for leads: addresses, context and keys are never shown (the
workers, the queueing services and a lead's retry are the only writers)."""

from __future__ import annotations

from django.contrib import admin

from psirt.lib.admin import ViewOnlyAdmin
from psirt.mail.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ViewOnlyAdmin):
    list_display = ("kind", "reference", "template", "status", "attempts", "last_error", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("reference", "template")
    exclude = ("to", "reply_to", "context", "pgp_key")
