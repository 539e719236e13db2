"""The organization profile as raw data for leads. Changes are audited."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from psirt.audit.admin import AuditedAdmin
from psirt.organization.models import OrganizationProfile


@admin.register(OrganizationProfile)
class OrganizationProfileAdmin(AuditedAdmin):
    audit_prefix = "pages.organization"
    list_display = ["name_en", "name_zh", "advisory_prefix", "security_email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One profile per deployment (OrganizationProfile.get() creates it).
        return not OrganizationProfile.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: OrganizationProfile | None = None) -> bool:
        return False
