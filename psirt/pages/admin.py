"""The organization profile and the pages as raw data for leads. Changes are audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from psirt.audit.admin import AuditedAdmin
from psirt.pages.models import OrganizationProfile, Page


@admin.register(OrganizationProfile)
class OrganizationProfileAdmin(AuditedAdmin):
    audit_prefix = "pages.organization"
    list_display = ["name_en", "name_zh", "advisory_prefix", "security_email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One profile per deployment (OrganizationProfile.get() creates it).
        return not OrganizationProfile.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Page)
class PageAdmin(AuditedAdmin):
    audit_prefix = "pages.page"
    list_display = ["slug", "title_en", "title_zh", "updated_at"]
    readonly_fields = ["slug"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The set of pages is fixed; missing ones are recreated from the defaults when shown.
        return False
