"""Domain exceptions of the intake. The HTML views and the API map them to responses in one place each
(`psirt.intake.views.common.error_response`, `psirt.api.errors`). Rate limits raise
`psirt.counters.exceptions.RateLimited`, shared with every limited door."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from psirt.lib.errors import DomainError


class IntakeError(DomainError):
    """Base of every intake refusal. `message` is safe to show to the person who asked."""


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
