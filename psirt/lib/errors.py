"""The one base of every app's domain exceptions.

A service refuses by raising a `DomainError` subclass: `message` is safe to show to the person who asked,
`status` is the HTTP status the refusal answers with, `errors` maps fields to their messages when fields are
at fault, and `retry_after` (seconds) is set by rate limits. The HTML views and the API map this one base to
their answers, so a new app's exceptions need no registration."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal a person can act on: `message` says what is wrong and what to do."""

    status: int = 400
    retry_after: int | None = None

    def __init__(self, message: Any = "", *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: dict[str, list[str]] = errors or {}
