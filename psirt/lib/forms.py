"""Form fields shared by the desk forms of several apps."""

from __future__ import annotations

from typing import Any

from django import forms

from psirt.lib.validators import validate_http_url


class HttpURLField(forms.URLField):
    """An http(s) address with one clear message; typed without a scheme it becomes https://…"""

    default_validators = [validate_http_url]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("assume_scheme", "https")
        kwargs.setdefault("widget", forms.URLInput(attrs={"placeholder": "https://"}))
        super().__init__(**kwargs)
