"""Forms of the subscription pages and the notification desk."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from psirt.catalog.models import Product, ProductLine
from psirt.lib.severity import MinimumSeverity

LANGUAGE_CHOICES = [("en", "English"), ("zh-hans", "简体中文")]


class _ChoicesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language of the mails"), choices=LANGUAGE_CHOICES)
    min_severity = forms.ChoiceField(
        label=_("Minimum severity"), choices=MinimumSeverity.choices, initial=MinimumSeverity.ANY
    )
    all_products = forms.BooleanField(label=_("Every product"), required=False)
    product_lines = forms.ModelMultipleChoiceField(
        label=_("Product lines"),
        queryset=ProductLine.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        to_field_name="slug",
    )
    products = forms.ModelMultipleChoiceField(
        label=_("Products"),
        queryset=Product.objects.filter(is_public=True).select_related("line"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        to_field_name="slug",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("all_products") or data.get("products") or data.get("product_lines")):
            raise forms.ValidationError(_("Choose at least one product or product line, or every product."))
        return data


class SubscribeForm(_ChoicesForm):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)

    field_order = ["email", "language", "min_severity", "all_products", "product_lines", "products"]


class ManageForm(_ChoicesForm):
    pass


class WebhookForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    all_products = forms.BooleanField(label=_("Every product"), required=False, initial=True)
    products = forms.ModelMultipleChoiceField(
        label=_("Products"),
        queryset=Product.objects.select_related("line"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class CustomerImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8, with the header organization,name,email,language,products (product slugs separated by spaces)."
        ),
    )


class NotifyCustomersForm(forms.Form):
    advisory_id = forms.CharField(label=_("Advisory ID"), max_length=40)
