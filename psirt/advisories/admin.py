"""Raw advisory data for leads in Django's admin. Changes of state go through the desk (the services enforce
the publication policy and audit), so the admin shows advisories read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from psirt.advisories.models import Advisory, AffectedProduct, Revision


class AffectedInline(admin.TabularInline):
    model = AffectedProduct
    extra = 0
    fields = ("product", "variant", "introduced", "fixed")
    readonly_fields = fields
    can_delete = False


class RevisionInline(admin.TabularInline):
    model = Revision
    extra = 0
    fields = ("number", "date", "summary_en", "summary_zh")
    readonly_fields = fields
    can_delete = False


@admin.register(Advisory)
class AdvisoryAdmin(admin.ModelAdmin):
    list_display = ("advisory_id", "title_en", "state", "severity", "published_at", "updated_at")
    list_filter = ("state", "severity", "exploitation")
    search_fields = ("advisory_id", "title_en", "identifiers")
    inlines = (AffectedInline, RevisionInline)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
