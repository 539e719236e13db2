"""Raw advisory data for leads in Django's admin. Changes of state go through the desk (the services enforce
the publication policy and audit), so the admin shows advisories read-only."""

from __future__ import annotations

from django.contrib import admin

from psirt.advisories.models import Advisory, AffectedProduct, Revision
from psirt.lib.admin import ReadOnlyAdmin


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
class AdvisoryAdmin(ReadOnlyAdmin):
    list_display = ("advisory_id", "title_en", "state", "severity", "published_at", "updated_at")
    list_filter = ("state", "severity", "exploitation")
    search_fields = ("advisory_id", "title_en", "identifiers")
    inlines = (AffectedInline, RevisionInline)
