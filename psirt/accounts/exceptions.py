"""The refusals of account and token changes; each carries a message for the person who asked."""

from __future__ import annotations

from typing import Any


class AccountError(Exception):
    """A refused account or token change; `message` is shown to the person who asked."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


class EmailTaken(AccountError):
    pass


class InvalidEmail(AccountError):
    pass


class LastLeadError(AccountError):
    pass


class SelfChangeError(AccountError):
    pass


class ScopeNotAllowed(AccountError):
    pass


class TokenLimitReached(AccountError):
    pass
