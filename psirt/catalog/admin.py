"""Raw catalog data for leads in Django's admin. Changes made here are audited like the desk's."""

from __future__ import annotations

from django.contrib import admin

from psirt.audit.admin import AuditedAdmin
from psirt.catalog.models import FirmwareRelease, Product, ProductLine


class ProductInline(admin.TabularInline):
    model = Product
    fields = ["name", "slug", "end_of_support", "is_public"]
    show_change_link = True
    extra = 0
    can_delete = False


@admin.register(ProductLine)
class ProductLineAdmin(AuditedAdmin):
    audit_prefix = "catalog.line"
    inline_audit_prefix = "catalog.product"
    list_display = ["name_en", "name_zh", "slug", "position"]
    search_fields = ["name_en", "name_zh", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [ProductInline]


class FirmwareReleaseInline(admin.TabularInline):
    model = FirmwareRelease
    fields = ["position", "version", "variant", "release_date", "download_url", "is_public"]
    ordering = ["variant", "-position"]
    extra = 1
    show_change_link = True


@admin.register(Product)
class ProductAdmin(AuditedAdmin):
    audit_prefix = "catalog.product"
    inline_audit_prefix = "catalog.release"
    list_display = ["name", "line", "slug", "end_of_support", "is_public"]
    list_filter = ["line", "is_public"]
    search_fields = ["name", "slug", "model_numbers"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [FirmwareReleaseInline]


@admin.register(FirmwareRelease)
class FirmwareReleaseAdmin(AuditedAdmin):
    audit_prefix = "catalog.release"
    list_display = ["product", "version", "variant", "position", "release_date", "is_public"]
    list_filter = ["product__line", "product", "variant", "is_public"]
    search_fields = ["version", "product__name"]
    readonly_fields = ["public_id"]
    date_hierarchy = "release_date"
