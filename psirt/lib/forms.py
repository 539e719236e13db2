"""Form fields and form handling shared by the desk forms of several apps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError

from psirt.lib.errors import DomainError
from psirt.lib.validators import validate_http_url

T = TypeVar("T")


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


def call_service(
    form: forms.BaseForm,
    service: Callable[..., T],
    *,
    refused: tuple[type[DomainError], ...] = (),
    **arguments: Any,
) -> T | None:
    """Call `service` with `arguments` and what `form` cleaned; its result, or None when the service said no. Its
    validation errors go on the form (next to their field) and a refusal of one of the `refused` types above the
    form, so the page is shown again with what was typed."""
    try:
        return service(**arguments, **form.cleaned_data)
    except ValidationError as exc:
        add_service_errors(form, exc)
    except refused as exc:
        form.add_error(None, str(exc.message))
    return None
