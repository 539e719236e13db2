"""Refusals of the notification services, each with a message a person can act on."""

from __future__ import annotations

from psirt.lib.errors import DomainError


class NotifyError(DomainError):
    """A refusal a person can act on; `message` says what to do."""
