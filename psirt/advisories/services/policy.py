"""The publication policy (docs/advisories.md): the vendor's configuration (`PublicationPolicy`, newest version
in force) evaluated by one function the publish service calls.

* **Normal**: a lead approved the advisory; its severity is at least the policy's minimum; every included case
  has what the policy requires (a fix, a sufficient mitigation, either, or both); and, when the policy says so,
  the agreed disclosure date of every included case has come.
* **Expedited**: one of the policy's triggers holds (an included case actively exploited, the vulnerability of
  public concern, or another reason the vendor names, judged by the approving lead from the written
  justification); a justification is recorded and a lead approved the expedited publication; a fix exists for
  every case when the policy asks for one.

Anything else raises a `PublicationRefused` subclass whose message names the rule of the vendor's policy that
is not met. No database writes here; the facts of the cases come from `psirt.advisories.services.case_facts`.
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
    ExploitationContradictsScores,
    LeadApprovalRequired,
    NoFixOrMitigation,
    SeverityBelowPolicy,
    TransitionNotAllowed,
)
from psirt.advisories.models import (
    Advisory,
    AdvisoryState,
    PublicationPolicy,
    RequiredRemedy,
)
from psirt.advisories.services.case_facts import PUBLISHABLE_STATES, CaseFacts
from psirt.cases.exploitation import differences as exploit_differences
from psirt.cases.models import Exploitation
from psirt.lib.severity import MinimumSeverity, meets_minimum


def current_policy() -> PublicationPolicy:
    """The policy in force: the newest version (a data migration writes version 1, so there always is one)."""
    policy = PublicationPolicy.objects.order_by("-version").first()
    if policy is None:
        # Only when the versions were deleted by hand: the defaults are the original policy.
        return PublicationPolicy(version=0)
    return policy


def case_has_fix(facts: CaseFacts, rows: Sequence[tuple[int, bool]]) -> bool:
    """A fix exists for the case: the case desk records a fixed release, or every affected product of the
    case in the advisory's table (`rows`: (product id, has fixed release)) names the release that fixes it."""
    if facts.has_fix:
        return True
    relevant = [fixed for product_id, fixed in rows if facts.product_id is None or product_id == facts.product_id]
    return bool(relevant) and all(relevant)


def case_has_mitigation(advisory: Advisory, facts: CaseFacts) -> bool:
    """A sufficient mitigation exists: recorded on the case, or the advisory's workarounds are marked as one."""
    return facts.has_sufficient_mitigation or (advisory.mitigation_sufficient and bool(advisory.workarounds_en.strip()))


def is_expedite_warranted(advisory: Advisory, facts: Sequence[CaseFacts], policy: PublicationPolicy) -> bool:
    """One of the policy's fixed triggers holds (the vendor's other reasons are judged by the lead)."""
    exploited = policy.expedite_when_exploited and any(f.actively_exploited for f in facts)
    concern = policy.expedite_when_public_concern and (advisory.public_concern or any(f.public_concern for f in facts))
    return exploited or concern


def severity_label(severity: str) -> str:
    """A severity as the refusals and the policy page write it: upper case, "not rated" when empty."""
    return severity.upper() if severity else _("not rated")


def expedite_triggers(policy: PublicationPolicy) -> list[str]:
    """The reasons this policy accepts for expedited publication, in words."""
    triggers = []
    if policy.expedite_when_exploited and policy.expedite_when_public_concern:
        triggers.append(_("the vulnerability is actively exploited or of public concern"))
    elif policy.expedite_when_exploited:
        triggers.append(_("the vulnerability is actively exploited"))
    elif policy.expedite_when_public_concern:
        triggers.append(_("the vulnerability is of public concern"))
    return triggers + policy.other_trigger_list


def join_alternatives(items: Sequence[str]) -> str:
    """The items joined as alternatives ("a or b or c") in the active language."""
    separator = _("or")
    return f" {separator} ".join(items)


def public_conditions(policy: PublicationPolicy | None = None) -> list[str]:
    """The rules of `policy` (default: the one in force) as sentences for the public policy page, in the active
    language: generated from the same settings the gate evaluates, so the page and the gate always agree."""
    if policy is None:
        policy = current_policy()
    minimum = policy.minimum_severity
    if minimum == MinimumSeverity.ANY:
        severity = _("Advisories of any severity are published.")
    elif minimum == MinimumSeverity.CRITICAL:
        severity = _("An advisory is published only when its severity is %(minimum)s.") % {"minimum": minimum.upper()}
    else:
        severity = _("An advisory is published only when its severity is %(minimum)s or higher.") % {
            "minimum": minimum.upper()
        }
    conditions = [
        _("A lead of the security team approves every advisory before it is published."),
        severity,
        _("An advisory is published only when %(remedy)s is available for every vulnerability it covers.")
        % {"remedy": RequiredRemedy(policy.required_remedy).label},
    ]
    if policy.require_disclosure_date:
        conditions.append(_("An advisory is published on or after the disclosure date agreed with the reporter."))
    else:
        conditions.append(_("An advisory may be published before the disclosure date agreed with the reporter."))
    triggers = expedite_triggers(policy)
    if not triggers:
        conditions.append(_("An advisory is never published before these conditions are met."))
    elif policy.expedite_requires_fix:
        conditions.append(
            _(
                "An advisory may be published early, with a written justification approved by a lead, when "
                "%(triggers)s; a fix must be available."
            )
            % {"triggers": join_alternatives(triggers)}
        )
    else:
        conditions.append(
            _(
                "An advisory may be published early, with a written justification approved by a lead, when "
                "%(triggers)s, with or without a fix."
            )
            % {"triggers": join_alternatives(triggers)}
        )
    return conditions


def _check_cases(facts: Sequence[CaseFacts]) -> None:
    if not facts:
        raise CaseNotPublishable(_("An advisory is published from at least one case; this one has none."))
    for f in facts:
        if f.state not in PUBLISHABLE_STATES:
            raise CaseNotPublishable(
                _("Case %(case)s is not a confirmed vulnerability (state: %(state)s); remove it from the advisory.")
                % {"case": f.key, "state": f.state}
            )


def _check_exploit_maturity(advisory: Advisory) -> None:
    """A published statement must not contradict itself: the exploitation status (CSAF `threats`, the page) and
    the vectors' Exploit Maturity agree by the rule of `psirt.cases.exploitation`."""
    found = exploit_differences(advisory.exploitation, advisory.cvss31_vector, advisory.cvss40_vector)
    if not found:
        return
    d = found[0]
    raise ExploitationContradictsScores(
        _(
            "The advisory says “%(status)s”, but its CVSS v%(version)s vector has Exploit Maturity E:%(found)s "
            "(E:%(expected)s would agree): correct one of them before publishing."
        )
        % {
            "status": Exploitation(advisory.exploitation).label,
            "version": d.version,
            "found": d.found,
            "expected": d.expected[0],
        }
    )


def _check_severity(advisory: Advisory, policy: PublicationPolicy) -> None:
    minimum = policy.minimum_severity
    if meets_minimum(advisory.severity, minimum):
        return
    values = {"minimum": minimum.upper(), "severity": severity_label(advisory.severity)}
    if minimum == MinimumSeverity.CRITICAL:
        raise SeverityBelowPolicy(
            _("This policy publishes only %(minimum)s advisories; this one is %(severity)s.") % values
        )
    raise SeverityBelowPolicy(
        _("This policy publishes only advisories rated %(minimum)s or higher; this one is %(severity)s.") % values
    )


def _check_remedy(
    advisory: Advisory, facts: Sequence[CaseFacts], rows: Sequence[tuple[int, bool]], policy: PublicationPolicy
) -> None:
    remedy = policy.required_remedy
    for f in facts:
        fix = case_has_fix(f, rows)
        mitigation = case_has_mitigation(advisory, f)
        if remedy == RequiredRemedy.EITHER and not fix and not mitigation:
            raise NoFixOrMitigation(
                _(
                    "Case %(case)s has no fix and no sufficient mitigation: name the release that fixes each "
                    "affected product, or mark the workarounds as a sufficient mitigation. (Actively exploited "
                    "or of public concern? Then ask for expedited publication.)"
                )
                % {"case": f.key}
            )
        if remedy in (RequiredRemedy.FIX, RequiredRemedy.BOTH) and not fix:
            raise NoFixOrMitigation(
                _(
                    "This policy publishes only when a fix exists; case %(case)s has none: name the release "
                    "that fixes each affected product."
                )
                % {"case": f.key}
            )
        if remedy in (RequiredRemedy.MITIGATION, RequiredRemedy.BOTH) and not mitigation:
            raise NoFixOrMitigation(
                _(
                    "This policy publishes only when a sufficient mitigation exists; case %(case)s has none: "
                    "mark the workarounds as a sufficient mitigation."
                )
                % {"case": f.key}
            )


def _check_expedite(
    advisory: Advisory, facts: Sequence[CaseFacts], rows: Sequence[tuple[int, bool]], policy: PublicationPolicy
) -> None:
    triggers = expedite_triggers(policy)
    if not triggers:
        raise ExpediteNotWarranted(_("This policy does not allow expedited publication."))
    warranted = is_expedite_warranted(advisory, facts, policy)
    if not warranted and not policy.other_trigger_list:
        raise ExpediteNotWarranted(
            _(
                "This policy expedites publication only when %(triggers)s; none holds for this advisory. "
                "Publish normally once the policy's conditions are met."
            )
            % {"triggers": join_alternatives(triggers)}
        )
    if not advisory.expedite_justification.strip():
        if warranted:
            raise ExpediteNeedsJustification(
                _("Expedited publication needs a written justification: say why customers must be told now.")
            )
        raise ExpediteNeedsJustification(
            _(
                "This policy expedites publication only when %(triggers)s; none of the first holds, so the "
                "written justification must say which of the others applies."
            )
            % {"triggers": join_alternatives(triggers)}
        )
    if advisory.expedite_approved_by_id is None:
        raise LeadApprovalRequired(_("Expedited publication needs a lead's approval; ask a lead to approve it."))
    _check_cases(facts)
    if policy.expedite_requires_fix:
        for f in facts:
            if not case_has_fix(f, rows):
                raise NoFixOrMitigation(
                    _(
                        "This policy expedites publication only with a fix; case %(case)s has none: name the "
                        "release that fixes each affected product."
                    )
                    % {"case": f.key}
                )


def check_publication(
    advisory: Advisory,
    facts: Sequence[CaseFacts],
    rows: Sequence[tuple[int, bool]],
    *,
    expedite: bool,
    today: dt.date,
    check_date: bool = True,
    policy: PublicationPolicy | None = None,
) -> None:
    """Raise the refusal for the first rule of `policy` (default: the one in force) that is not met; return
    None when publication may go ahead.

    `check_date=False` checks everything but the disclosure date (used when scheduling for that date)."""
    if policy is None:
        policy = current_policy()
    if advisory.state in (AdvisoryState.PUBLISHED, AdvisoryState.WITHDRAWN):
        raise TransitionNotAllowed(_("This advisory has already been published."))
    _check_exploit_maturity(advisory)
    if expedite:
        _check_expedite(advisory, facts, rows, policy)
        return
    if advisory.state != AdvisoryState.APPROVED or advisory.approved_by_id is None:
        raise LeadApprovalRequired(
            _("A lead must approve this advisory before it is published (it is “%(state)s”).")
            % {"state": AdvisoryState(advisory.state).label}
        )
    _check_cases(facts)
    _check_severity(advisory, policy)
    _check_remedy(advisory, facts, rows, policy)
    if not check_date or not policy.require_disclosure_date:
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
