"""Raw catalog data for leads in Django's admin. Changes made here are audited like the desk's."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from psirt.audit.services import record
from psirt.catalog.models import FirmwareRelease, Product, ProductLine


class AuditedAdmin(admin.ModelAdmin):
    """Writes an audit event in the same transaction as every admin save and delete."""

    audit_prefix = ""

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            action = "update" if change else "create"
            record(
                action=f"{self.audit_prefix}.{action}",
                request=request,
                target=obj,
                data={"via": "admin", "fields": sorted(form.changed_data)},
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        target_type, target_id = obj._meta.label_lower, str(getattr(obj, "public_id", None) or obj.pk)
        with transaction.atomic():
            super().delete_model(request, obj)
            record(
                action=f"{self.audit_prefix}.delete",
                request=request,
                target_type=target_type,
                target_id=target_id,
                data={"via": "admin"},
            )

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool) -> None:
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            for obj in formset.new_objects:
                record(action="catalog.release.create", request=request, target=obj, data={"via": "admin"})
            for obj, fields in formset.changed_objects:
                record(
                    action="catalog.release.update",
                    request=request,
                    target=obj,
                    data={"via": "admin", "fields": sorted(fields)},
                )
            for obj in formset.deleted_objects:
                record(
                    action="catalog.release.delete",
                    request=request,
                    target_type="catalog.firmwarerelease",
                    target_id=str(obj.public_id),
                    data={"via": "admin"},
                )


class ProductInline(admin.TabularInline):
    model = Product
    fields = ["name", "slug", "end_of_support", "is_public"]
    show_change_link = True
    extra = 0
    can_delete = False


@admin.register(ProductLine)
class ProductLineAdmin(AuditedAdmin):
    audit_prefix = "catalog.line"
    list_display = ["name_en", "name_zh", "slug", "position"]
    search_fields = ["name_en", "name_zh", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [ProductInline]

    def save_formset(self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool) -> None:
        # The product inline audits as products, not releases.
        with transaction.atomic():
            admin.ModelAdmin.save_formset(self, request, form, formset, change)
            for obj in formset.new_objects:
                record(action="catalog.product.create", request=request, target=obj, data={"via": "admin"})
            for obj, fields in formset.changed_objects:
                record(
                    action="catalog.product.update",
                    request=request,
                    target=obj,
                    data={"via": "admin", "fields": sorted(fields)},
                )


class FirmwareReleaseInline(admin.TabularInline):
    model = FirmwareRelease
    fields = ["position", "version", "variant", "release_date", "download_url", "is_public"]
    ordering = ["variant", "-position"]
    extra = 1
    show_change_link = True


@admin.register(Product)
class ProductAdmin(AuditedAdmin):
    audit_prefix = "catalog.product"
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
