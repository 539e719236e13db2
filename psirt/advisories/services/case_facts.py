"""The one place where the advisories read the case desk (`psirt.cases`).

Everything the advisories need from a case — what to prefill an advisory with, what the publication policy
checks, how it moves to "published" — goes through the functions here (who may see a case and author from it:
`psirt.advisories.access`), so a change of the case model touches these two modules only.

Case fields relied on: `key`, `title`, `state`, `product_id`, `cvss31_vector`, `cvss40_vector`, `cwe_id`,
`exploitation` ("active" = actively exploited), `disclosure_date` (the agreed date), `references`
(kind/value rows), `case_reports` (`credited`) → `report.credit` /
`credit_anonymous`. Remediation data: `affected` ranges (`product_id`, `variant`, `introduced_id`,
`fixed_id`), `fixed_releases`, `mitigations` (`text_en`/`text_zh`) and `has_sufficient_mitigation`; the advisory's
own affected table, mitigation flag and public-concern flag also count (see `psirt.advisories.services.policy`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.utils import timezone

from psirt.accounts.models import User
from psirt.cases.models import Assignment, Case
from psirt.cases.services.cases import format_case_key, next_case_number, transition
from psirt.catalog.models import Product

# Case states from which an advisory may be written: the vulnerability is confirmed and not dropped.
AUTHORABLE_STATES = frozenset({"confirmed", "remediation", "awaiting_disclosure", "published", "closed"})
# States from which publication can move the case forward to "published" (or it is there already).
PUBLISHABLE_STATES = AUTHORABLE_STATES
_FORWARD = ("confirmed", "remediation", "awaiting_disclosure", "published")


@dataclass(frozen=True)
class CaseFacts:
    """What the advisories know about one case, independent of how the case desk stores it."""

    key: str
    title: str
    state: str
    product_id: int | None
    has_fix: bool
    has_sufficient_mitigation: bool
    actively_exploited: bool
    public_concern: bool
    agreed_disclosure_date: dt.date | None
    cvss31_vector: str = ""
    cvss40_vector: str = ""
    cwe_id: int | None = None
    exploitation: str = "none"
    identifiers: tuple[str, ...] = ()
    reference_urls: tuple[str, ...] = ()
    credits: tuple[str, ...] = ()
    fixed_release_ids: tuple[int, ...] = field(default_factory=tuple)
    # (product id, variant, introduced release id or None, fixed release id or None) per affected range.
    ranges: tuple[tuple[int, str, int | None, int | None], ...] = ()
    workarounds_en: str = ""
    workarounds_zh: str = ""


def facts_for_case(case: Case) -> CaseFacts:
    """The facts of `case` the advisories use (see the module docstring for the fields read)."""
    references = list(case.references.all())
    identifiers = tuple(r.value for r in references if r.kind in ("cve", "cnvd", "cnnvd"))
    urls = tuple(r.value for r in references if r.kind == "url")
    credits: list[str] = []
    # The case desk decides who is credited (its own reports, and a duplicate's reporter who was first).
    for link in case.case_reports.filter(credited=True).select_related("report"):
        report = link.report
        line = (report.credit or "").strip()
        if line and not report.credit_anonymous and line not in credits:
            credits.append(line)
    fixed_ids = tuple(case.fixed_releases.values_list("pk", flat=True))
    ranges: tuple[tuple[int, str, int | None, int | None], ...] = tuple(
        case.affected.values_list("product_id", "variant", "introduced_id", "fixed_id")
    )
    # A fix exists when every affected range names its fixing release (a case without ranges: any fix).
    has_fix = all(r[3] is not None for r in ranges) if ranges else bool(fixed_ids)
    mitigations = list(case.mitigations.all())
    return CaseFacts(
        key=case.key,
        title=case.title,
        state=case.state,
        product_id=case.product_id,
        has_fix=has_fix,
        has_sufficient_mitigation=case.has_sufficient_mitigation,
        actively_exploited=case.exploitation == "active",
        # The case desk records no public concern: only the advisory's own flag counts.
        public_concern=False,
        agreed_disclosure_date=case.disclosure_date,
        cvss31_vector=case.cvss31_vector or "",
        cvss40_vector=case.cvss40_vector or "",
        cwe_id=case.cwe_id,
        exploitation=case.exploitation or "none",
        identifiers=identifiers,
        reference_urls=urls,
        credits=tuple(credits),
        fixed_release_ids=fixed_ids,
        ranges=ranges,
        workarounds_en="\n\n".join(m.text_en for m in mitigations if m.text_en.strip()),
        workarounds_zh="\n\n".join(m.text_zh for m in mitigations if m.text_zh.strip()),
    )


def mark_case_published(*, case: Case, actor: User, request: HttpRequest | None = None) -> None:
    """Move a case forward along the main path to "published" through the case desk's `transition` service
    (which records each step and updates the reporters' timelines). Already published or closed: nothing."""
    case = Case.objects.get(pk=case.pk)
    if case.state in ("published", "closed"):
        return
    if case.state not in _FORWARD:
        return
    for step in _FORWARD[_FORWARD.index(case.state) + 1 :]:
        case = transition(case=case, to_state=step, actor=actor, request=request)


def create_demo_case(*, product: Product, title: str, disclosure_date: dt.date, exploitation: str, actor: User) -> Case:
    """A demo case awaiting disclosure (for `psirt.demo.advisories` only), numbered by the case desk's own
    sequence so it never collides with the cases the case desk's demo or people create."""
    year = timezone.localtime().year
    number = next_case_number(year)
    case = Case.objects.create(
        key=format_case_key(year, number),
        year=year,
        number=number,
        title=title[:200],
        state="awaiting_disclosure",
        product=product,
        product_line=product.line,
        disclosure_date=disclosure_date,
        exploitation=exploitation,
        created_by=actor,
    )
    Assignment.objects.create(case=case, user=actor, assigned_by=actor)
    return case
