"""Form fields and form handling shared by the desk forms of several apps."""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.forms.utils import pretty_name
from django.utils.functional import cached_property

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


class SharedFields(dict[str, forms.Field]):
    """A form class's `base_fields` when its instances do not change their fields: the copy Django makes for
    every instance (a deep copy, so that an instance may change its fields without touching the class's) then
    copies the mapping only, and every instance, in every thread, uses the same field objects. Validating and
    rendering only read a field, with one exception named in `per_form`: a field whose widget keeps something
    it read from a request (a file input keeps whether its "clear" box was ticked) is still copied per form, so
    nothing of one request reaches another. Copying the fields of a large form cost more than validating it."""

    def __init__(self, fields: dict[str, forms.Field], per_form: Collection[str]) -> None:
        super().__init__(fields)
        self.per_form = frozenset(per_form)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        return {name: copy.deepcopy(field, memo) if name in self.per_form else field for name, field in self.items()}


# Widgets that keep something of the request they read (`value_from_datadict`) on themselves.
_STATEFUL_WIDGETS = (forms.ClearableFileInput,)


def share_fields(form_class: type[forms.Form]) -> None:
    """Make `form_class`'s fields shared by its instances (see `SharedFields`), but those whose widget keeps
    state of a request; call it once, after the class and any set-up of its `base_fields`, which no instance
    may change afterwards (set them up on the class, not in `__init__`)."""
    fields = form_class.base_fields
    per_form = [name for name, field in fields.items() if isinstance(field.widget, _STATEFUL_WIDGETS)]
    form_class.base_fields = SharedFields(fields, per_form)


class LazyBoundField(BoundField):
    """Django's BoundField, with what only a rendering reads (its names, its id, its label and its help text) worked
    out when first read instead of for every field of every form: validating a form makes a bound field per field
    only to read its data, and working out the rest (the help text is translated to see whether there is one) cost
    more than cleaning the value. Each is the value Django's `__init__` gives it."""

    def __init__(self, form: forms.BaseForm, field: forms.Field, name: str) -> None:
        self.form = form
        self.field = field
        self.name = name
        self.renderer = form.renderer

    @cached_property
    def html_name(self) -> str:  # type: ignore[override]
        return self.form.add_prefix(self.name)

    @cached_property
    def html_initial_name(self) -> str:  # type: ignore[override]
        return self.form.add_initial_prefix(self.name)

    @cached_property
    def html_initial_id(self) -> str:  # type: ignore[override]
        return self.form.add_initial_prefix(self.auto_id)

    @cached_property
    def label(self) -> Any:  # type: ignore[override]
        return pretty_name(self.name) if self.field.label is None else self.field.label

    @cached_property
    def help_text(self) -> Any:  # type: ignore[override]
        return self.field.help_text or ""


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
