"""Facts that differ on purpose, and bringing the others back in line with the cases.

The facts an advisory states about its vulnerability come from its cases (`case_facts.derived_facts`). An author
may make one differ only by recording why (`override_fact`); removing the override (`remove_override`) returns the
fact to the cases' value. `revise_to_match` applies the cases' values of every fact that differs without an
override, through `update_advisory`: in place for an advisory not yet published, as a revision with a bilingual
summary naming the facts for a published one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.advisories.exceptions import InvalidInput, TransitionNotAllowed
from psirt.advisories.models import Advisory, AdvisoryState, FactOverride
from psirt.advisories.services.authoring import update_advisory
from psirt.advisories.services.case_facts import FACTS, DerivedFacts, affected_rows, derived_facts, differences
from psirt.advisories.services.inputs import MAX_REASON, AffectedInput, clean_line, require_editor
from psirt.audit.services import record


def _require_fact(fact: object) -> str:
    name = str(fact or "")[:40]
    if name not in FACTS:
        raise InvalidInput(_("There is no fact %(fact)s to override.") % {"fact": repr(name[:40])})
    return name


def _require_changeable(advisory: Advisory) -> None:
    if advisory.state == AdvisoryState.WITHDRAWN:
        raise TransitionNotAllowed(_("A withdrawn advisory cannot be changed."))


def override_fact(
    *, advisory: Advisory, fact: str, reason: str, actor: User, request: HttpRequest | None = None
) -> FactOverride:
    """Record that `fact` of the advisory differs from its cases on purpose, and why (required; a new reason
    replaces the old one). The fact is then edited like any text of the advisory and no longer reported as a
    difference. Exploitation may still never be stated lower than the cases' (the publication gate refuses)."""
    require_editor(actor, advisory)
    _require_changeable(advisory)
    name = _require_fact(fact)
    text = clean_line(reason, label=_("The reason"), limit=MAX_REASON, required=True)
    with transaction.atomic():
        override, created = FactOverride.objects.update_or_create(
            advisory=advisory, fact=name, defaults={"reason": text, "actor": actor}
        )
        record(
            action="advisory.fact_overridden",
            actor=actor,
            request=request,
            target=advisory,
            data={"advisory": advisory.advisory_id, "fact": name, "new": created},
        )
    return override


def remove_override(*, advisory: Advisory, fact: str, actor: User, request: HttpRequest | None = None) -> Advisory:
    """Drop the override of `fact`: the fact is the cases' again, and their value is applied now (for a published
    advisory, as a revision naming the fact)."""
    require_editor(actor, advisory)
    _require_changeable(advisory)
    name = _require_fact(fact)
    with transaction.atomic():
        deleted, _rows = FactOverride.objects.filter(advisory=advisory, fact=name).delete()
        if not deleted:
            raise InvalidInput(_("%(fact)s is not overridden.") % {"fact": FACTS[name]})
        record(
            action="advisory.fact_override_removed",
            actor=actor,
            request=request,
            target=advisory,
            data={"advisory": advisory.advisory_id, "fact": name},
        )
        return revise_to_match(advisory=advisory, actor=actor, request=request, facts=[name])


def changes_to_match(derived: DerivedFacts, facts: Iterable[str]) -> tuple[dict[str, Any], list[AffectedInput] | None]:
    """The `update_advisory` arguments (changes, affected rows or None) that give `facts` the derived values."""
    changes: dict[str, Any] = {}
    affected: list[AffectedInput] | None = None
    for fact in facts:
        if fact == "affected":
            affected = affected_rows(derived)
        elif fact in ("identifiers", "reference_urls"):
            changes[fact] = list(getattr(derived, fact) or ())
        else:
            changes[fact] = getattr(derived, fact)
    return changes, affected


def _labels(facts: list[str], language: str) -> str:
    with translation.override(language):
        return ", ".join(str(FACTS[f]) for f in facts)


def revise_to_match(
    *,
    advisory: Advisory,
    actor: User,
    request: HttpRequest | None = None,
    facts: Iterable[str] | None = None,
) -> Advisory:
    """Give every fact that differs from the cases without an override (or only those of `facts`) the cases'
    value, through `update_advisory`. A published advisory is revised with a summary naming the facts in both
    languages. Nothing differs: nothing changes."""
    require_editor(actor, advisory)
    _require_changeable(advisory)
    derived = derived_facts(advisory)
    wanted = set(facts) if facts is not None else None
    names = [d.fact for d in differences(advisory, derived) if wanted is None or d.fact in wanted]
    # References are "contained" rather than equal: the cases' addresses are added to the advisory's own.
    if not names:
        return advisory
    changes, affected = changes_to_match(derived, names)
    if "reference_urls" in changes:
        own = [line.strip() for line in advisory.reference_urls.splitlines() if line.strip()]
        changes["reference_urls"] = list(dict.fromkeys([*own, *changes["reference_urls"]]))
    summary_en = summary_zh = ""
    if advisory.state == AdvisoryState.PUBLISHED:
        summary_en = "Revised to match the cases: " + _labels(names, "en") + "."
        summary_zh = "已按工单更正：" + _labels(names, "zh-hans") + "。"
    with transaction.atomic():
        advisory = update_advisory(
            advisory=advisory,
            actor=actor,
            changes=changes,
            affected=affected,
            revision_summary_en=summary_en,
            revision_summary_zh=summary_zh,
            notify=bool({"exploitation", "cvss31_vector", "cvss40_vector", "affected"} & set(names)),
            request=request,
        )
        record(
            action="advisory.revised_to_match",
            actor=actor,
            request=request,
            target=advisory,
            data={"advisory": advisory.advisory_id, "facts": names},
        )
    return advisory
