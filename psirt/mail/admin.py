"""The outbox in Django's admin, read-only for leads: addresses, context and keys are never shown (the
workers, the queueing services and a lead's retry are the only writers). The ways out the workers paused (the
mail server, webhook receivers) are shown as they are: only the workers write or end a pause."""

from __future__ import annotations

from django.contrib import admin

from psirt.lib.admin import ReadOnlyAdmin, ViewOnlyAdmin
from psirt.mail.models import OutboxMessage, TransportPause


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ViewOnlyAdmin):
    list_display = ("kind", "reference", "template", "status", "attempts", "last_error", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("reference", "template")
    exclude = ("to", "reply_to", "context", "pgp_key")


@admin.register(TransportPause)
class TransportPauseAdmin(ReadOnlyAdmin):
    list_display = ("transport", "down_since", "retry_at", "pauses", "last_error")
