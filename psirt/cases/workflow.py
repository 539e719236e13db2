"""The case workflow: states, the only allowed transitions, and what the reporter sees.

Pure data and functions, no database: the transition table is tested pair by pair, and the services consult
it before any change. Main path: new → acknowledged → triage → confirmed → remediation → awaiting disclosure →
published → closed. Exits before a fix is under way: rejected, duplicate, not a vulnerability, out of scope.
Reopening (from closed or an exit) goes back to triage and, like every exit, needs a reason.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseState(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    TRIAGE = "triage", _("Triage")
    CONFIRMED = "confirmed", _("Confirmed")
    REMEDIATION = "remediation", _("Remediation")
    AWAITING_DISCLOSURE = "awaiting_disclosure", _("Awaiting disclosure")
    PUBLISHED = "published", _("Published")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Duplicate")
    NOT_VULNERABILITY = "not_vulnerability", _("Not a vulnerability")
    OUT_OF_SCOPE = "out_of_scope", _("Out of scope")


S = CaseState

MAIN_PATH: tuple[str, ...] = (
    S.NEW,
    S.ACKNOWLEDGED,
    S.TRIAGE,
    S.CONFIRMED,
    S.REMEDIATION,
    S.AWAITING_DISCLOSURE,
    S.PUBLISHED,
    S.CLOSED,
)
EXITS: frozenset[str] = frozenset({S.REJECTED, S.DUPLICATE, S.NOT_VULNERABILITY, S.OUT_OF_SCOPE})
# States in which nothing more is expected: the case is finished until someone reopens it.
FINISHED: frozenset[str] = frozenset({S.CLOSED, *EXITS})
OPEN_STATES: frozenset[str] = frozenset(set(S.values) - FINISHED - {S.PUBLISHED})

_EARLY_EXITS = {S.REJECTED, S.DUPLICATE, S.NOT_VULNERABILITY, S.OUT_OF_SCOPE}

TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ACKNOWLEDGED, *_EARLY_EXITS}),
    S.ACKNOWLEDGED: frozenset({S.TRIAGE, *_EARLY_EXITS}),
    S.TRIAGE: frozenset({S.CONFIRMED, *_EARLY_EXITS}),
    # Confirmed means it is a vulnerability in scope; it may still turn out to duplicate another case, or be
    # dropped (rejected) with a reason.
    S.CONFIRMED: frozenset({S.REMEDIATION, S.DUPLICATE, S.REJECTED}),
    S.REMEDIATION: frozenset({S.AWAITING_DISCLOSURE, S.REJECTED}),
    # A fix that fails validation before publication sends the case back to remediation.
    S.AWAITING_DISCLOSURE: frozenset({S.PUBLISHED, S.REMEDIATION}),
    S.PUBLISHED: frozenset({S.CLOSED}),
    # Reopening.
    S.CLOSED: frozenset({S.TRIAGE}),
    S.REJECTED: frozenset({S.TRIAGE}),
    S.DUPLICATE: frozenset({S.TRIAGE}),
    S.NOT_VULNERABILITY: frozenset({S.TRIAGE}),
    S.OUT_OF_SCOPE: frozenset({S.TRIAGE}),
}


def allowed_targets(state: str) -> frozenset[str]:
    """The states a case in `state` may move to."""
    return TRANSITIONS.get(state, frozenset())


def is_allowed(source: str, target: str) -> bool:
    return target in allowed_targets(source)


def is_reopening(source: str, target: str) -> bool:
    return source in FINISHED and target == S.TRIAGE


def needs_reason(source: str, target: str) -> bool:
    """Exits, going back and reopening must say why; moving forward on the main path need not."""
    if target in EXITS or is_reopening(source, target):
        return True
    return source == S.AWAITING_DISCLOSURE and target == S.REMEDIATION


# What the reporter's portal shows for each case state (psirt.intake.models.Stage values).
REPORTER_STAGE: dict[str, str] = {
    S.NEW: "received",
    S.ACKNOWLEDGED: "acknowledged",
    S.TRIAGE: "validating",
    S.CONFIRMED: "fixing",
    S.REMEDIATION: "fixing",
    S.AWAITING_DISCLOSURE: "fixing",
    S.PUBLISHED: "published",
    S.CLOSED: "closed",
    S.REJECTED: "rejected",
    S.DUPLICATE: "duplicate",
    S.NOT_VULNERABILITY: "not_vulnerability",
    S.OUT_OF_SCOPE: "out_of_scope",
}
