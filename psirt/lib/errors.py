"""The one base of every app's domain exceptions.

A service refuses by raising a `DomainError` subclass: `message` is safe to show to the person who asked,
`status` is the HTTP status the refusal answers with, `errors` maps fields to their messages when fields are
at fault, and `retry_after` (seconds) is set by rate limits. The HTML views and the API map this one base to
their answers, so a new app's exceptions need no registration."""

from __future__ import annotations

import errno
from typing import Any


class DomainError(Exception):
    """A refusal a person can act on: `message` says what is wrong and what to do."""

    status: int = 400
    retry_after: int | None = None

    def __init__(self, message: Any = "", *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: dict[str, list[str]] = errors or {}


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
DISK_FULL_SQLSTATE = "53100"  # PostgreSQL's disk_full
DISK_FULL_RETRY_AFTER = 300  # seconds: an operator has to free space; clients should not hammer meanwhile


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` (or what it was raised from) says the disk or quota is full: an OSError with ENOSPC/EDQUOT,
    SQLite's "database or disk is full", PostgreSQL's SQLSTATE 53100. The answer to those is 503 with
    Retry-After (the request was fine; the server cannot keep it now), never a 500."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in DISK_FULL_ERRNOS:
            return True
        if getattr(current, "sqlstate", None) == DISK_FULL_SQLSTATE or getattr(current, "pgcode", None) == (
            DISK_FULL_SQLSTATE
        ):
            return True
        text = str(current).lower()
        if type(current).__name__ in {"OperationalError", "DiskFull"} and (
            "disk is full" in text or "no space left on device" in text
        ):
            return True
        current = current.__cause__ or current.__context__
    return False
