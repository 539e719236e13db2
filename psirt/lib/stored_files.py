"""Which database columns name files of the encrypted file store (`psirt.lib.crypto.file_store`).

Every app that keeps files in the store registers its columns here from its `AppConfig.ready`
(`register("intake.Attachment", "storage_name")`). The rest reads this one list: the sweep of abandoned files keeps
every file a registered column names and removes only the others, and key rotation re-encrypts every registered
file. A column that is not registered is a file the sweep would delete and rotation would leave behind.

A column is registered as transient when its files may expire on their own (a stash kept for a day): the sweep and
rotation treat it like the others, but a backup does not require its files to be present.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.db import models

__all__ = ["columns", "kept_tables", "referenced", "register"]

_COLUMNS: dict[tuple[str, str], bool] = {}
BATCH = 500


def register(model: str, field: str, *, transient: bool = False) -> None:
    """Declare that `field` of `model` ("app_label.Model") holds the storage name of a stored file; `transient`
    when its rows expire on their own."""
    _COLUMNS[(model, field)] = transient


def columns(*, transient: bool = True) -> list[tuple[type[models.Model], str]]:
    """The registered (model, field) pairs, in registration order; without the transient ones when `transient`
    is false."""
    return [
        (apps.get_model(label), field)
        for (label, field), is_transient in _COLUMNS.items()
        if transient or not is_transient
    ]


def kept_tables() -> list[tuple[str, str]]:
    """(table, column) of every column whose files must outlive their rows' creator: what a backup must carry."""
    kept: list[tuple[str, str]] = []
    for model, name in columns(transient=False):
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field) and field.column
        kept.append((model._meta.db_table, field.column))
    return kept


def referenced(names: Iterable[str]) -> set[str]:
    """Those of `names` that a registered column names."""
    wanted = list(dict.fromkeys(names))
    found: set[str] = set()
    for model, field in columns():
        for start in range(0, len(wanted), BATCH):
            batch = wanted[start : start + BATCH]
            found.update(model._default_manager.filter(**{f"{field}__in": batch}).values_list(field, flat=True))
    return found
