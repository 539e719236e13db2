"""Domain exceptions of the intake. The HTML views and the API map them to responses in one place each
(`psirt.intake.views.error_response`, `psirt.api.errors`)."""

from __future__ import annotations

import math

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from psirt.lib.errors import DomainError


class IntakeError(DomainError):
    """Base of every intake refusal. `message` is safe to show to the person who asked."""


class RateLimited(IntakeError):
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


class InvalidReport(IntakeError):
    """The submission has field errors: `errors` maps field name → list of messages."""

    status = 422

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(str(_("Please correct the fields marked below.")))
        self.errors = errors


class AttachmentRejected(IntakeError):
    """A file is over the size limits or cannot be read."""

    status = 413


class ReportClosed(IntakeError):
    """The action is not possible on a report in this stage (e.g. proposing a date after publication)."""

    status = 409
