"""The audit log in the Django admin: read-only. Nothing can be added, changed or deleted here (a change
would also break the hash chain that `psirt audit verify` checks).

`AuditedAdmin` is the base of every other app's admin: changes made there are audited like the desk's."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from psirt.audit.models import AuditEvent
from psirt.audit.services import record
from psirt.lib.admin import ReadOnlyAdmin


def admin_target_id(obj: models.Model) -> str:
    """The identifier an audit event names a row by: its public identifier where it has one."""
    return str(getattr(obj, "public_id", None) or obj.pk)


class AuditedAdmin(admin.ModelAdmin):
    """Writes an audit event in the same transaction as every admin save and delete.

    Events are named `<audit_prefix>.create|update|delete`; rows saved through an inline are named with
    `inline_audit_prefix`."""

    audit_prefix = ""
    inline_audit_prefix = ""

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
        target_type, target_id = obj._meta.label_lower, admin_target_id(obj)
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
        prefix = self.inline_audit_prefix
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            for obj in formset.new_objects:
                record(action=f"{prefix}.create", request=request, target=obj, data={"via": "admin"})
            for obj, fields in formset.changed_objects:
                record(
                    action=f"{prefix}.update",
                    request=request,
                    target=obj,
                    data={"via": "admin", "fields": sorted(fields)},
                )
            for obj in formset.deleted_objects:
                record(
                    action=f"{prefix}.delete",
                    request=request,
                    target_type=obj._meta.label_lower,
                    target_id=admin_target_id(obj),
                    data={"via": "admin"},
                )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "at", "actor_label", "action", "target_type", "target_id", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_label", "action", "target_id"]
    ordering = ["-seq"]
    fields = ("seq", "at", "actor_label", "action", "target_type", "target_id", "ip", "data", "prev_hash", "hash")
    readonly_fields = fields
    actions = None
