"""Which database columns name files of the encrypted file store (`psirt.lib.crypto.file_store`).

Every app that keeps files in the store registers its columns here from its `AppConfig.ready`
(`register("intake.Attachment", "storage_name")`). The rest reads this one list: the sweep of abandoned files keeps
every file a registered column names and removes only the others, and key rotation re-encrypts every registered
file. A column that is not registered is a file the sweep would delete and rotation would leave behind.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.db import models

__all__ = ["columns", "referenced", "register"]

_COLUMNS: dict[tuple[str, str], None] = {}
BATCH = 500


def register(model: str, field: str) -> None:
    """Declare that `field` of `model` ("app_label.Model") holds the storage name of a stored file."""
    _COLUMNS[(model, field)] = None


def columns() -> list[tuple[type[models.Model], str]]:
    """The registered (model, field) pairs, in registration order."""
    return [(apps.get_model(label), field) for label, field in _COLUMNS]


def referenced(names: Iterable[str]) -> set[str]:
    """Those of `names` that a registered column names."""
    wanted = list(dict.fromkeys(names))
    found: set[str] = set()
    for model, field in columns():
        for start in range(0, len(wanted), BATCH):
            batch = wanted[start : start + BATCH]
            found.update(model._default_manager.filter(**{f"{field}__in": batch}).values_list(field, flat=True))
    return found
