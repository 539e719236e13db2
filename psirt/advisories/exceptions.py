"""Domain exceptions of the advisories; views and the API map them to answers in one place each.

Every refusal of the publication policy is a `PublicationRefused` whose message names the missing condition,
so the person at the desk (or the log of a scheduled run) knows what to do next."""

from __future__ import annotations

from psirt.lib.errors import DomainError


class AdvisoryError(DomainError):
    """Base of every refusal. `message` is safe to show to the person who asked; `status` is the HTTP one."""


class NotAllowed(AdvisoryError):
    """The actor may not do this."""

    status = 403


class InvalidInput(AdvisoryError):
    """A value is malformed; the message says what is expected."""

    status = 422


class TransitionNotAllowed(AdvisoryError):
    """The advisory is not in a state where this step exists (e.g. approving a draft)."""

    status = 409


class PublicationRefused(AdvisoryError):
    """The publication policy does not allow publishing now."""

    status = 409


class LeadApprovalRequired(PublicationRefused):
    """A lead has not approved the publication (or the expedited publication)."""


class NoFixOrMitigation(PublicationRefused):
    """An included case lacks the fix and/or sufficient mitigation the publication policy requires."""


class ExploitationContradictsScores(PublicationRefused):
    """The advisory's exploitation status and its vectors' Exploit Maturity (E) say different things."""


class SeverityBelowPolicy(PublicationRefused):
    """The advisory's severity is below the minimum the publication policy publishes."""


class EmbargoNotReached(PublicationRefused):
    """The agreed disclosure date of an included case has not come (or none was agreed)."""


class ExpediteNotWarranted(PublicationRefused):
    """Expedited publication asked for, but no included case is actively exploited or of public concern."""


class ExpediteNeedsJustification(PublicationRefused):
    """Expedited publication needs a written justification."""


class CaseNotPublishable(PublicationRefused):
    """An included case is in a state from which it cannot be published (e.g. rejected)."""


class InvalidCsafDocument(PublicationRefused):
    """The advisory's CSAF document cannot be written or fails the CSAF 2.0 validator (strict schema and the
    mandatory tests). `test` is the failing test's number ("6.1.9", "schema"; empty when no document could be
    made), `path` the JSON pointer of the problem: what the author needs to find the cause."""

    def __init__(self, message: str = "", *, test: str = "", path: str = "") -> None:
        super().__init__(message)
        self.test = test
        self.path = path


class FactsDiffer(PublicationRefused):
    """Facts of the advisory differ from its cases without a recorded override ("revise to match" first)."""


class ExploitationUnderstated(PublicationRefused):
    """The advisory states less exploitation than its cases know (never allowed, not even by an override)."""
