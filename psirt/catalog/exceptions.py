"""The refusals of catalog changes; each carries a message for the person who asked."""

from __future__ import annotations

from psirt.lib.errors import DomainError


class CatalogError(DomainError):
    """A refused catalog change; `message` is shown to the person who asked."""


class CatalogInUse(CatalogError):
    """The row is still needed (it has products, or cases and advisories refer to it)."""

    status = 409


class CatalogConflict(CatalogError):
    """Someone else saved a clashing row at the same moment (caught by the database, not the form)."""

    status = 409
