"""The pages as raw data for leads. Changes are audited."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from psirt.audit.admin import AuditedAdmin
from psirt.pages.models import Page


@admin.register(Page)
class PageAdmin(AuditedAdmin):
    audit_prefix = "pages.page"
    list_display = ["slug", "title_en", "title_zh", "updated_at"]
    readonly_fields = ["slug"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The set of pages is fixed; missing ones are recreated from the defaults when shown.
        return False
