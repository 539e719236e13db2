"""The project's template backend: Django's, with the project's `i18n` library (psirt.lib.i18n_tags) in place of
Django's own under the same name, so every `{% load i18n %}` (the project's templates and those of the apps it
uses) gets it. Not through the "libraries" option: that option names new libraries, and the system check reports
a second module under an existing name (templates.W003) even when the replacement is meant.

The project's builtins (psirt.lib.builtin_tags: `{% extends %}` and `{% url %}` that keep what they recompute from
fixed inputs) come after Django's, so their tags take the place of Django's in every template."""

from __future__ import annotations

from typing import Any

from django.template.backends.django import DjangoTemplates as DjangoBackend
from django.template.library import import_library

I18N_LIBRARY = "psirt.lib.i18n_tags"
BUILTIN_LIBRARY = "psirt.lib.builtin_tags"


class DjangoTemplates(DjangoBackend):
    def __init__(self, params: dict[str, Any]) -> None:
        options = params.get("OPTIONS", {})
        options = {**options, "builtins": [*options.get("builtins", []), BUILTIN_LIBRARY]}
        super().__init__({**params, "OPTIONS": options})
        self.engine.template_libraries["i18n"] = import_library(I18N_LIBRARY)
