"""Domain exceptions of the organization settings; views and the API map them to responses in one place each."""

from __future__ import annotations

from psirt.lib.errors import DomainError


class OrganizationError(DomainError):
    """Base of every refusal. `message` is safe to show to the person who asked; `status` is the HTTP one."""


class NotAllowed(OrganizationError):
    """The actor may not change the organization's settings (only leads may)."""

    status = 403


class InvalidInput(OrganizationError):
    """A value is malformed (a date out of range, an unknown kind of day); the message says what is expected."""

    status = 422


class KeysDoNotMatch(OrganizationError):
    """PSIRT_ENCRYPTION_KEYS cannot decrypt the data already stored (the key canary or an encrypted column)."""

    status = 503
