"""The outbox in Django's admin, read-only for leads: addresses, context and keys are never shown (the
workers, the queueing services and a lead's retry are the only writers)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from psirt.mail.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("kind", "reference", "template", "status", "attempts", "last_error", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("reference", "template")
    exclude = ("to", "reply_to", "context", "pgp_key")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
