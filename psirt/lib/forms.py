"""Form fields shared by the desk forms of several apps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from psirt.lib.validators import validate_http_url


class HttpURLField(forms.URLField):
    """An http(s) address with one clear message; typed without a scheme it becomes https://…"""

    default_validators = [validate_http_url]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("assume_scheme", "https")
        kwargs.setdefault("widget", forms.URLInput(attrs={"placeholder": "https://"}))
        super().__init__(**kwargs)


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's validation errors on the form (next to the field when the form has it)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
