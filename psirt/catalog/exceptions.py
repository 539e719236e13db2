"""The refusals of catalog changes; each carries a message for the person who asked."""

from __future__ import annotations

from typing import Any


class CatalogError(Exception):
    """A refused catalog change; `message` is shown to the person who asked."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


class CatalogInUse(CatalogError):
    """The row is still needed (it has products, or cases and advisories refer to it)."""


class CatalogConflict(CatalogError):
    """Someone else saved a clashing row at the same moment (caught by the database, not the form)."""
