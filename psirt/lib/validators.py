"""Validators shared by models and forms of several apps."""

from __future__ import annotations

from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

validate_http_url = URLValidator(
    schemes=["http", "https"], message=_("Enter a full web address starting with https:// (or http://).")
)
