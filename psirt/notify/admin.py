"""Raw data for leads in Django's admin. Addresses and secrets are not listed (the desk pages show what a
lead needs); deliveries are read-only (the outbox is changed by the workers and the retry service only)."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from psirt.lib.admin import ViewOnlyAdmin
from psirt.notify.models import CustomerOrganization, Delivery, Webhook
from psirt.notify.services.webhooks import check_url


@admin.register(Delivery)
class DeliveryAdmin(ViewOnlyAdmin):
    list_display = ("reference", "revision", "kind", "status", "attempts", "last_error", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("reference",)
    exclude = ("to", "reply_to", "context", "pgp_key", "template", "language")


class WebhookAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """The admin changes a webhook's address under the same rule as the desk's registration (`check_url`)."""

    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = Webhook
        fields = ("name", "url", "all_products", "products", "active")

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"])
        try:
            return check_url(url)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = WebhookAdminForm
    list_display = ("name", "url", "active", "all_products")
    exclude = ("secret",)


@admin.register(CustomerOrganization)
class CustomerOrganizationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name",)
    filter_horizontal = ("products",)
