"""Raw data for leads in Django's admin. Addresses and secrets are not listed (the desk pages show what a
lead needs); deliveries are read-only (the outbox is changed by the workers and the retry service only)."""

from __future__ import annotations

from django.contrib import admin

from psirt.lib.admin import ViewOnlyAdmin
from psirt.notify.models import CustomerOrganization, Delivery, Webhook


@admin.register(Delivery)
class DeliveryAdmin(ViewOnlyAdmin):
    list_display = ("reference", "revision", "kind", "status", "attempts", "last_error", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("reference",)
    exclude = ("to", "reply_to", "context", "pgp_key", "template", "language")


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "url", "active", "all_products")
    exclude = ("secret",)


@admin.register(CustomerOrganization)
class CustomerOrganizationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name",)
    filter_horizontal = ("products",)
