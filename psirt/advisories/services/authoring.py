"""Writing and editing an advisory: a draft started from confirmed cases (its ID assigned then, its facts
prefilled from the cases), later changes, and the open revision an edit of a published advisory starts (kept
apart from the published version until it is reviewed and published).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.advisories.access import can_author_from
from psirt.advisories.exceptions import (
    InvalidInput,
    NotAllowed,
    TransitionNotAllowed,
)
from psirt.advisories.models import (
    SEQUENCE_SCOPE,
    Advisory,
    AdvisoryCase,
    AdvisoryState,
    PendingRevision,
)
from psirt.advisories.services.case_facts import (
    AUTHORABLE_STATES,
    EXPLOITATION_RANK,
    affected_rows,
    combine,
    facts_for_case,
)
from psirt.advisories.services.inputs import (
    MAX_SUMMARY,
    MAX_TITLE,
    AffectedInput,
    affected_to_json,
    apply_scores,
    clean_changes,
    clean_line,
    clean_vector,
    current_affected,
    require_editor,
    storable_changes,
    validate_affected,
)
from psirt.advisories.services.publication import replace_affected
from psirt.audit.services import record
from psirt.cases.models import Case
from psirt.counters.services.sequences import next_in_year
from psirt.organization.models import OrganizationProfile

__all__ = ["EXPLOITATION_RANK", "create_advisory", "discard_revision", "format_advisory_id", "update_advisory"]


def format_advisory_id(prefix: str, year: int, number: int) -> str:
    """`VT-SA-2026-004`: the organisation's prefix, "SA", the year and a three-digit (or longer) number."""
    return f"{prefix}-SA-{year}-{number:03d}"


def _next_number(year: int) -> int:
    """Next advisory number of `year` (see psirt.counters.services.sequences)."""
    return next_in_year(SEQUENCE_SCOPE, year)


def _prefix() -> str:
    return (OrganizationProfile.get().advisory_prefix or "PSIRT").strip() or "PSIRT"


def create_advisory(*, cases: Iterable[Case], actor: User, request: HttpRequest | None = None) -> Advisory:
    """Start a draft from one or more confirmed cases; it takes the first case's title, the cases' credits and
    mitigations, and every fact derived from them (`case_facts.combine`: exploitation and awareness time,
    vectors, CWE, identifiers, references, the affected table). The ID is assigned now."""
    case_list = list(dict.fromkeys(cases))
    if not case_list:
        raise InvalidInput(_("Choose at least one case to write the advisory from."))
    for case in case_list:
        if not can_author_from(actor, case):
            raise NotAllowed(_("Only a lead or a handler assigned to the case can write its advisory."))
        if case.state not in AUTHORABLE_STATES:
            raise InvalidInput(
                _("Case %(case)s is not confirmed yet; confirm it before writing its advisory.") % {"case": case.key}
            )
    facts = [facts_for_case(c) for c in case_list]
    # The facts about the vulnerability: one derivation for the draft and for every later comparison.
    derived = combine(facts)
    credits = list(dict.fromkeys(c for f in facts for c in f.credits))
    with transaction.atomic():
        now = timezone.now()
        year = timezone.localtime(now).year
        number = _next_number(year)
        advisory = Advisory(
            advisory_id=format_advisory_id(_prefix(), year, number),
            year=year,
            number=number,
            title_en=case_list[0].title[:MAX_TITLE],
            exploitation=derived.exploitation,
            exploitation_aware_at=derived.exploitation_aware_at,
            cwe_id=derived.cwe_id,
            identifiers="\n".join(derived.identifiers),
            reference_urls="\n".join(derived.reference_urls or ()),
            credits_en="\n".join(credits),
            workarounds_en="\n\n".join(f.workarounds_en for f in facts if f.workarounds_en),
            workarounds_zh="\n\n".join(f.workarounds_zh for f in facts if f.workarounds_zh),
            mitigation_sufficient=all(f.has_sufficient_mitigation for f in facts),
            created_by=actor,
        )
        advisory.cvss31_vector, advisory.cvss31_base = clean_vector(derived.cvss31_vector, "3.1")
        advisory.cvss40_vector, advisory.cvss40_base = clean_vector(derived.cvss40_vector, "4.0")
        apply_scores(advisory)
        advisory.save()
        for case in case_list:
            AdvisoryCase.objects.create(advisory=advisory, case=case)
        replace_affected(advisory, affected_rows(derived))
        record(
            action="advisory.created",
            actor=actor,
            request=request,
            target=advisory,
            data={"advisory": advisory.advisory_id, "cases": [c.key for c in case_list]},
        )
    return advisory


def update_advisory(
    *,
    advisory: Advisory,
    actor: User,
    changes: dict[str, Any],
    affected: Sequence[AffectedInput] | None = None,
    revision_summary_en: str = "",
    revision_summary_zh: str = "",
    notify: bool = False,
    request: HttpRequest | None = None,
) -> Advisory:
    """Change texts, scores, identifiers and (when given) the affected table.

    A draft or an advisory in review changes in place. An approved advisory goes back to draft (the lead
    approved other words). A published advisory does not change here: the edit starts (or continues) its open
    revision (`PendingRevision`), which needs a summary of what changed, goes through review like a first
    publication and changes the advisory only when a lead publishes it (`publish_revision`); with `notify`,
    subscribers are told then. A withdrawn advisory no longer changes."""
    require_editor(actor, advisory)
    clean = clean_changes(changes)
    rows = validate_affected(affected) if affected is not None else None
    summary_en = clean_line(revision_summary_en, label=_("The revision summary"), limit=MAX_SUMMARY)
    summary_zh = clean_line(revision_summary_zh, label=_("The Chinese revision summary"), limit=MAX_SUMMARY)
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.state == AdvisoryState.WITHDRAWN:
            raise TransitionNotAllowed(_("A withdrawn advisory cannot be changed."))
        if advisory.state == AdvisoryState.PUBLISHED:
            _draft_revision(
                advisory,
                actor=actor,
                clean=clean,
                rows=rows,
                summary_en=summary_en,
                summary_zh=summary_zh,
                notify=notify,
                request=request,
            )
            return advisory
        for name, value in clean.items():
            setattr(advisory, name, value)
        apply_scores(advisory)
        data: dict[str, Any] = {"fields": sorted(changes)}
        if advisory.state == AdvisoryState.APPROVED:
            advisory.state = AdvisoryState.DRAFT
            advisory.approved_by = None
            advisory.approved_at = None
            advisory.scheduled_for = None
            data["approval_withdrawn"] = True
        if rows is not None:
            replace_affected(advisory, rows)
            data["affected"] = len(rows)
        advisory.save()
        record(action="advisory.updated", actor=actor, request=request, target=advisory, data=data)
    return advisory


def _draft_revision(
    advisory: Advisory,
    *,
    actor: User,
    clean: dict[str, Any],
    rows: list[AffectedInput] | None,
    summary_en: str,
    summary_zh: str,
    notify: bool,
    request: HttpRequest | None,
) -> PendingRevision:
    """Start or continue the open revision of the (locked) published advisory. Only fields that differ from the
    published version are kept; a changed revision under review or approved goes back to draft."""
    pending = PendingRevision.objects.select_for_update().filter(advisory=advisory).first()
    if pending is None:
        if not summary_en:
            raise InvalidInput(_("Say what changed: a published advisory gets a revision with a summary."))
        pending = PendingRevision(advisory=advisory, created_by=actor)
    merged = {**pending.changes, **storable_changes(clean)}
    # Compared as cleaned values: a kept moment is its ISO text, the advisory's a datetime.
    pending.changes = {
        name: value for name, value in merged.items() if clean_changes({name: value})[name] != getattr(advisory, name)
    }
    if rows is not None:
        new_rows = affected_to_json(rows)
        pending.affected = None if new_rows == affected_to_json(current_affected(advisory)) else new_rows
    if summary_en:
        pending.summary_en = summary_en
        pending.summary_zh = summary_zh
    pending.notify = notify
    data: dict[str, Any] = {"fields": sorted(clean), "revision_started": pending.pk is None}
    if pending.state != AdvisoryState.DRAFT:
        data["approval_withdrawn"] = True
    pending.state = AdvisoryState.DRAFT
    pending.approved_by = None
    pending.approved_at = None
    pending.save()
    record(action="advisory.revision_drafted", actor=actor, request=request, target=advisory, data=data)
    return pending


def discard_revision(*, advisory: Advisory, actor: User, request: HttpRequest | None = None) -> Advisory:
    """Drop the open revision of a published advisory; the published version stays exactly as it was."""
    require_editor(actor, advisory)
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        deleted, _rows = PendingRevision.objects.filter(advisory=advisory).delete()
        if not deleted:
            raise TransitionNotAllowed(_("This advisory has no open revision."))
        record(action="advisory.revision_discarded", actor=actor, request=request, target=advisory)
    return advisory
