"""Desk forms for the catalog. They only validate; saving goes through `psirt.catalog.services`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from psirt.catalog.models import (
    MAX_POSITION,
    FirmwareRelease,
    Product,
    ProductLine,
    validate_member_states,
    validate_position,
    validate_slug,
)
from psirt.catalog.services import release_conflicts
from psirt.lib.forms import HttpURLField

# Long texts are bounded: release notes and descriptions are a few screens at most.
MAX_TEXT = 20_000


class _Base(forms.ModelForm):
    """Shared touches: bounded texts, one clear slug rule, sane numbers, http(s)-only URLs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField) and isinstance(field.widget, forms.Textarea):
                field.max_length = MAX_TEXT
                field.widget.attrs.setdefault("maxlength", str(MAX_TEXT))
                field.validators.append(MaxLengthValidator(MAX_TEXT))
                field.widget.attrs.setdefault("rows", "6")
            if name == "slug":
                # One rule and one message (Django's own slug rule is looser and allows capitals).
                field.validators = [validate_slug]
                field.widget.attrs.update({"pattern": "[a-z0-9]+(-[a-z0-9]+)*", "autocapitalize": "none"})
            if name == "position":
                field.validators.append(validate_position)
                field.widget.attrs.update({"min": "0", "max": str(MAX_POSITION)})


class ProductLineForm(_Base):
    class Meta:
        model = ProductLine
        fields = ["name_en", "name_zh", "slug", "description_en", "description_zh", "position", "eu_member_states"]

    def clean_eu_member_states(self) -> str:
        raw = str(self.cleaned_data.get("eu_member_states", ""))
        codes = [c.strip().upper() for c in raw.replace(";", ",").split(",") if c.strip()]
        value = ",".join(dict.fromkeys(codes))
        validate_member_states(value)
        return value


class ProductForm(_Base):
    # Lines are chosen by slug: no integer keys in what the browser sends or shows.
    line = forms.ModelChoiceField(
        queryset=ProductLine.objects.order_by("position", "name_en"), to_field_name="slug", label=_("Product line")
    )

    class Meta:
        model = Product
        fields = [
            "line",
            "name",
            "slug",
            "model_numbers",
            "hardware_revisions",
            "description_en",
            "description_zh",
            "end_of_support",
            "is_public",
        ]
        widgets = {"end_of_support": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The model form's initial value is the line's primary key, but the field is keyed by slug: without this
        # the edit form shows no line selected and saving it fails with "choose a product line".
        if (
            self.instance.pk is not None
            and self.instance.line_id is not None
            and "line" not in (kwargs.get("initial") or {})
        ):
            self.initial["line"] = self.instance.line.slug


class FirmwareReleaseForm(_Base):
    """The product comes from the URL, not from the form; conflicts within the product are checked here
    (the model form would skip the unique constraints that involve the product)."""

    download_url = HttpURLField(label=_("Download URL"), required=False, max_length=500)

    class Meta:
        model = FirmwareRelease
        fields = [
            "version",
            "variant",
            "position",
            "release_date",
            "download_url",
            "notes_en",
            "notes_zh",
            "is_public",
        ]
        widgets = {"release_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, product: Product, **kwargs: Any) -> None:
        self.product = product
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors.get("version") or self.errors.get("position") or self.errors.get("variant"):
            return data
        errors = release_conflicts(
            product=self.product,
            version=data.get("version", ""),
            variant=data.get("variant", ""),
            position=data.get("position"),
            exclude=self.instance if self.instance.pk else None,
        )
        for field, message in errors.items():
            self.add_error(field, message)
        return data
