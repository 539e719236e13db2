"""Refusals of the notification services, each with a message a person can act on."""

from __future__ import annotations

from django.utils.translation import gettext as _


class NotifyError(Exception):
    """A refusal a person can act on; `message` says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RateLimited(NotifyError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(_("Too many requests from your address. Please try again later."))
        self.retry_after = retry_after
