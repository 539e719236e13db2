"""The audit log in the Django admin: read-only. Nothing can be added, changed or deleted here (a change
would also break the hash chain that `psirt audit verify` checks)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from psirt.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["seq", "at", "actor_label", "action", "target_type", "target_id", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_label", "action", "target_id"]
    ordering = ["-seq"]
    fields = ("seq", "at", "actor_label", "action", "target_type", "target_id", "ip", "data", "prev_hash", "hash")
    readonly_fields = fields
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
