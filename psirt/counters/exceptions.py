"""Refusals of the shared counters."""

from __future__ import annotations

import math

from django.utils.translation import ngettext

from psirt.lib.errors import DomainError


class RateLimited(DomainError):
    """Too many requests of one kind from one address or for one e-mail; try again after `retry_after` s."""

    status = 429
    retry_after: int

    def __init__(self, *, retry_after: int) -> None:
        self.retry_after = retry_after
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            ngettext(
                "Too many requests. Please try again in %(n)d minute.",
                "Too many requests. Please try again in %(n)d minutes.",
                minutes,
            )
            % {"n": minutes}
        )
        self.minutes = minutes
