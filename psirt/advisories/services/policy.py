"""The publication policy (docs/advisories.md), as one function the publish service calls.

* **Normal**: a lead approved the advisory, every included case has a fix or a sufficient mitigation, and the
  agreed disclosure date of every included case has come.
* **Expedited**: an included case is actively exploited or the vulnerability is of public concern; a written
  justification is recorded and a lead approved the expedited publication. With or without a fix.

Anything else raises a `PublicationRefused` subclass whose message names the missing condition. No database
writes here; the facts of the cases come from `psirt.advisories.services.case_facts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils.translation import gettext as _

from psirt.advisories.exceptions import (
    CaseNotPublishable,
    EmbargoNotReached,
    ExpediteNeedsJustification,
    ExpediteNotWarranted,
    LeadApprovalRequired,
    NoFixOrMitigation,
    TransitionNotAllowed,
)
from psirt.advisories.models import Advisory, AdvisoryState
from psirt.advisories.services.case_facts import PUBLISHABLE_STATES, CaseFacts


def case_has_fix(advisory: Advisory, facts: CaseFacts, rows: Sequence[tuple[int, bool]]) -> bool:
    """A fix exists for the case: the case desk records a fixed release, or every affected product of the
    case in the advisory's table (`rows`: (product id, has fixed release)) names the release that fixes it."""
    if facts.has_fix:
        return True
    relevant = [fixed for product_id, fixed in rows if facts.product_id is None or product_id == facts.product_id]
    return bool(relevant) and all(relevant)


def case_has_mitigation(advisory: Advisory, facts: CaseFacts) -> bool:
    """A sufficient mitigation exists: recorded on the case, or the advisory's workarounds are marked as one."""
    return facts.has_sufficient_mitigation or (advisory.mitigation_sufficient and bool(advisory.workarounds_en.strip()))


def is_expedite_warranted(advisory: Advisory, facts: Sequence[CaseFacts]) -> bool:
    return advisory.public_concern or any(f.actively_exploited or f.public_concern for f in facts)


def _check_cases(facts: Sequence[CaseFacts]) -> None:
    if not facts:
        raise CaseNotPublishable(_("An advisory is published from at least one case; this one has none."))
    for f in facts:
        if f.state not in PUBLISHABLE_STATES:
            raise CaseNotPublishable(
                _("Case %(case)s is not a confirmed vulnerability (state: %(state)s); remove it from the advisory.")
                % {"case": f.key, "state": f.state}
            )


def check_publication(
    advisory: Advisory,
    facts: Sequence[CaseFacts],
    rows: Sequence[tuple[int, bool]],
    *,
    expedite: bool,
    today: dt.date,
    check_date: bool = True,
) -> None:
    """Raise the refusal for the first condition that is missing; return None when publication may go ahead.

    `check_date=False` checks everything but the disclosure date (used when scheduling for that date)."""
    if advisory.state in (AdvisoryState.PUBLISHED, AdvisoryState.WITHDRAWN):
        raise TransitionNotAllowed(_("This advisory has already been published."))
    if expedite:
        if not is_expedite_warranted(advisory, facts):
            raise ExpediteNotWarranted(
                _(
                    "Expedited publication is only for a vulnerability that is actively exploited or of public "
                    "concern; no included case is either. Publish normally once a fix or mitigation exists and "
                    "the disclosure date has come."
                )
            )
        if not advisory.expedite_justification.strip():
            raise ExpediteNeedsJustification(
                _("Expedited publication needs a written justification: say why customers must be told now.")
            )
        if advisory.expedite_approved_by_id is None:
            raise LeadApprovalRequired(_("Expedited publication needs a lead's approval; ask a lead to approve it."))
        _check_cases(facts)
        return
    if advisory.state != AdvisoryState.APPROVED or advisory.approved_by_id is None:
        raise LeadApprovalRequired(
            _("A lead must approve this advisory before it is published (it is “%(state)s”).")
            % {"state": AdvisoryState(advisory.state).label}
        )
    _check_cases(facts)
    for f in facts:
        if not case_has_fix(advisory, f, rows) and not case_has_mitigation(advisory, f):
            raise NoFixOrMitigation(
                _(
                    "Case %(case)s has no fix and no sufficient mitigation: name the release that fixes each "
                    "affected product, or mark the workarounds as a sufficient mitigation. (Actively exploited "
                    "or of public concern? Then ask for expedited publication.)"
                )
                % {"case": f.key}
            )
    if not check_date:
        return
    for f in facts:
        if f.agreed_disclosure_date is None:
            raise EmbargoNotReached(
                _("Case %(case)s has no agreed disclosure date: agree one with the reporter first.") % {"case": f.key}
            )
        if f.agreed_disclosure_date > today:
            raise EmbargoNotReached(
                _(
                    "The agreed disclosure date of case %(case)s is %(date)s and has not come yet: schedule the "
                    "publication for that date instead."
                )
                % {"case": f.key, "date": f.agreed_disclosure_date.isoformat()}
            )


def disclosure_date(facts: Sequence[CaseFacts]) -> dt.date | None:
    """The date a normal publication may happen: the latest agreed date of the included cases."""
    dates = [f.agreed_disclosure_date for f in facts]
    if not dates or any(d is None for d in dates):
        return None
    return max(d for d in dates if d is not None)
