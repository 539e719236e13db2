"""The refusals of account and token changes; each carries a message for the person who asked."""

from __future__ import annotations

from psirt.lib.errors import DomainError


class AccountError(DomainError):
    """A refused account or token change; `message` is shown to the person who asked."""


class EmailTaken(AccountError):
    """Another account already has the address."""

    status = 409


class InvalidEmail(AccountError):
    """The address is not one an account can have."""

    status = 422


class LastLeadError(AccountError):
    pass


class SelfChangeError(AccountError):
    pass


class ScopeNotAllowed(AccountError):
    pass


class TokenLimitReached(AccountError):
    pass
