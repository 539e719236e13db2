"""The one place where the advisories read the case desk (`psirt.cases`).

Everything the advisories need from a case — what to prefill an advisory with, what the publication policy
checks, how it moves to "published" — goes through the functions here (who may see a case and author from it:
`psirt.advisories.access`), so a change of the case model touches these two modules only.

Case fields relied on: `key`, `title`, `state`, `product_id`, `cvss31_vector`, `cvss40_vector`, `cwe_id`,
`exploitation` ("active" = actively exploited), `exploitation_aware_at`, `disclosure_date` (the agreed date),
`references` (kind/value rows), `case_reports` (`credited`) → `report.credit` / `credit_anonymous`. Remediation
data: `affected` ranges (`product_id`, `variant`, `introduced_id`, `fixed_id`), `fixed_releases`, `mitigations`
(`text_en`/`text_zh`) and `has_sufficient_mitigation`; the advisory's own affected table, mitigation flag and
public-concern flag also count (see `psirt.advisories.services.policy`).

The facts an advisory states about its vulnerability are derived here, by `derived_facts`, from its cases (see
`combine` for the rules that merge several cases); `differences` lists the facts where the stored advisory
differs from its cases without a recorded override (`psirt.advisories.models.FactOverride`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from psirt.accounts.models import User
from psirt.advisories.models import Advisory, AdvisoryState
from psirt.advisories.services.inputs import AffectedInput
from psirt.cases.models import Assignment, Case, Exploitation
from psirt.cases.services.cases import format_case_key, next_case_number, transition
from psirt.catalog.models import FirmwareRelease, Product
from psirt.lib.cvss import CvssError, decisive_rating, normalise_vector
from psirt.lib.references import ID_KINDS, InvalidReference, classify_identifier

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
    exploitation_aware_at: dt.datetime | None = None
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
    identifiers = tuple(r.value for r in references if r.kind in ID_KINDS)
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
        exploitation_aware_at=case.exploitation_aware_at,
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


# --- Facts derived from the cases -------------------------------------------------------------------------------

# How severe an exploitation status is: the combination of several cases takes the highest.
EXPLOITATION_RANK: dict[str, int] = {"none": 0, "poc": 1, "active": 2}

# The facts an advisory takes from its cases, in the order the desk shows them, with their labels.
FACTS: dict[str, Promise] = {
    "exploitation": gettext_lazy("Exploitation"),
    "exploitation_aware_at": gettext_lazy("Team aware of exploitation"),
    "cvss31_vector": gettext_lazy("CVSS v3.1 vector"),
    "cvss40_vector": gettext_lazy("CVSS v4.0 vector"),
    "cwe_id": gettext_lazy("CWE"),
    "identifiers": gettext_lazy("CVE, CNVD, CNNVD and EUVD IDs"),
    "reference_urls": gettext_lazy("References"),
    "affected": gettext_lazy("Affected and fixed releases"),
}

# One affected range: (product id, variant, first affected release id or None, fixing release id or None).
Range = tuple[int, str, int | None, int | None]


@dataclass(frozen=True)
class DerivedFacts:
    """What the cases of an advisory say about its vulnerability (see `combine` for the rules).

    `reference_urls` and `affected` are None when no case records any: the cases then say nothing about them,
    and the advisory's own references and affected table stand (`products` prefills the table of a new draft)."""

    exploitation: str = "none"
    exploitation_aware_at: dt.datetime | None = None
    cvss31_vector: str = ""
    cvss40_vector: str = ""
    cwe_id: int | None = None
    identifiers: tuple[str, ...] = ()
    reference_urls: tuple[str, ...] | None = None
    affected: tuple[Range, ...] | None = None
    products: tuple[int, ...] = ()


@dataclass(frozen=True)
class Difference:
    """One fact where the advisory says something other than its cases, as the desk shows it."""

    fact: str
    label: str
    advisory_value: str
    cases_value: str


def _rating_score(facts: CaseFacts) -> float:
    """The decisive score of a case (`psirt.lib.cvss.decisive_rating`); -1 without a (valid) vector."""
    try:
        rating = decisive_rating(facts.cvss31_vector, facts.cvss40_vector)
    except CvssError:
        return -1.0
    return float(rating.score) if rating is not None else -1.0


def _canonical_identifier(value: str) -> str:
    try:
        return classify_identifier(value)[1]
    except InvalidReference:
        return value.strip()


def _normal_vector(value: str) -> str:
    if not value.strip():
        return ""
    try:
        return normalise_vector(value.strip())
    except CvssError:
        return value.strip()


def merge_ranges(ranges: Iterable[Range]) -> tuple[Range, ...]:
    """One range per product and variant, in the order first seen. First affected: the earliest of the ranges'
    (an open start — affected since the first release — wins). Fixing release: the latest of the ranges'
    fixing releases, since only it fixes every case; none when any range has no fix yet."""
    grouped: dict[tuple[int, str], list[Range]] = {}
    for item in ranges:
        grouped.setdefault((item[0], item[1]), []).append(item)
    release_ids = {x for group in grouped.values() for r in group for x in (r[2], r[3]) if x is not None}
    position = dict(FirmwareRelease.objects.filter(pk__in=release_ids).values_list("pk", "position"))
    merged: list[Range] = []
    for (product_id, variant), group in grouped.items():
        starts = [r[2] for r in group if r[2] is not None]
        introduced = min(starts, key=lambda pk: position.get(pk, 0)) if len(starts) == len(group) else None
        fixes = [r[3] for r in group if r[3] is not None]
        fixed = max(fixes, key=lambda pk: position.get(pk, 0)) if len(fixes) == len(group) else None
        merged.append((product_id, variant, introduced, fixed))
    return tuple(merged)


def combine(facts: Sequence[CaseFacts]) -> DerivedFacts:
    """The facts of an advisory written from the cases `facts` (in the advisory's case order):

    * exploitation: the most severe of the cases' (actively exploited > proof of concept > none known), and the
      awareness time the earliest at which the team became aware of that status in any of the cases stating it;
    * CVSS v3.1 and v4.0 vectors (so the scores and the severity): those of the case with the highest decisive
      rating (`psirt.lib.cvss.decisive_rating`, the one severity rule); on a tie, the first case;
    * CWE: that case's, or when it records none, the first CWE of the other cases;
    * CVE, CNVD, CNNVD and EUVD IDs: every ID of every case, in case order, each once;
    * references: every web address of every case, in case order, each once (none recorded: not derived);
    * affected and fixed releases: the cases' affected ranges merged per product and variant (`merge_ranges`;
      no range recorded: not derived)."""
    if not facts:
        return DerivedFacts()
    exploitation = max((f.exploitation for f in facts), key=lambda e: EXPLOITATION_RANK.get(e, 0))
    aware = [f.exploitation_aware_at for f in facts if f.exploitation == exploitation and f.exploitation_aware_at]
    decisive = max(facts, key=_rating_score)  # max() keeps the first of equal scores
    if _rating_score(decisive) < 0:
        decisive = facts[0]
    cwe_id = decisive.cwe_id or next((f.cwe_id for f in facts if f.cwe_id), None)
    urls = tuple(dict.fromkeys(u for f in facts for u in f.reference_urls))
    ranges = [r for f in facts for r in f.ranges]
    return DerivedFacts(
        exploitation=exploitation,
        exploitation_aware_at=min(aware) if exploitation != "none" and aware else None,
        cvss31_vector=_normal_vector(decisive.cvss31_vector),
        cvss40_vector=_normal_vector(decisive.cvss40_vector),
        cwe_id=cwe_id,
        identifiers=tuple(dict.fromkeys(_canonical_identifier(i) for f in facts for i in f.identifiers)),
        reference_urls=urls or None,
        affected=merge_ranges(ranges) if ranges else None,
        products=tuple(dict.fromkeys(f.product_id for f in facts if f.product_id is not None)),
    )


def cases_of(advisory: Advisory) -> list[Case]:
    """The advisory's cases in the order they were added."""
    return [link.case for link in advisory.case_links.select_related("case").order_by("id")]


def derived_facts(advisory: Advisory) -> DerivedFacts:
    """The facts the advisory's cases state now: the one function every reader of derived facts calls."""
    return combine([facts_for_case(c) for c in cases_of(advisory)])


def overridden_facts(advisory: Advisory) -> set[str]:
    return set(advisory.fact_overrides.values_list("fact", flat=True))


def _stored_ranges(advisory: Advisory) -> tuple[Range, ...]:
    return tuple(advisory.affected.order_by("id").values_list("product_id", "variant", "introduced_id", "fixed_id"))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _show_ranges(ranges: Sequence[Range]) -> str:
    products = dict(Product.objects.filter(pk__in={r[0] for r in ranges}).values_list("pk", "name"))
    releases = dict(
        FirmwareRelease.objects.filter(pk__in={x for r in ranges for x in (r[2], r[3]) if x}).values_list(
            "pk", "version"
        )
    )
    rows = []
    for product_id, variant, introduced, fixed in ranges:
        name = products.get(product_id, "?") + (f" ({variant})" if variant else "")
        start = releases.get(introduced, "") if introduced else "…"
        end = releases.get(fixed, "") if fixed else "—"
        rows.append(f"{name}: {start} → {end}")
    return "; ".join(rows)


def _show(fact: str, value: object) -> str:
    """A fact's value as the desk shows it in the list of differences."""
    if fact == "exploitation":
        return str(Exploitation(value).label) if value in Exploitation.values else str(value)
    if fact == "exploitation_aware_at":
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else "—"
    if fact == "cwe_id":
        return f"CWE-{value}" if value else "—"
    if fact in ("identifiers", "reference_urls"):
        return ", ".join(str(v) for v in value) if isinstance(value, list | tuple) and value else "—"
    if fact == "affected":
        return _show_ranges(value) if value else "—"  # type: ignore[arg-type]
    return str(value) if value else "—"


def differences(
    advisory: Advisory, derived: DerivedFacts | None = None, *, stored_ranges: Sequence[Range] | None = None
) -> list[Difference]:
    """Every fact, not overridden, whose stored value differs from the one derived from the cases. Identifiers
    and the affected table are compared as sets (order does not matter); the references must contain every
    web address of the cases (the advisory may cite more). A withdrawn advisory no longer changes, and one
    without cases (imported) has nothing to derive from: none. `stored_ranges` stands for the advisory's
    affected table (a revision's new table)."""
    if advisory.pk is None or advisory.state == AdvisoryState.WITHDRAWN or not advisory.case_links.exists():
        return []  # without a case (an imported advisory) there is nothing to derive from
    want = derived if derived is not None else derived_facts(advisory)
    skip = overridden_facts(advisory)
    out: list[Difference] = []

    def differ(fact: str, stored: object, cases: object) -> None:
        if fact not in skip:
            out.append(Difference(fact, str(FACTS[fact]), _show(fact, stored), _show(fact, cases)))

    if advisory.exploitation != want.exploitation:
        differ("exploitation", advisory.exploitation, want.exploitation)
    if advisory.exploitation_aware_at != want.exploitation_aware_at:
        differ("exploitation_aware_at", advisory.exploitation_aware_at, want.exploitation_aware_at)
    for fact in ("cvss31_vector", "cvss40_vector"):
        stored = _normal_vector(getattr(advisory, fact))
        if stored != getattr(want, fact):
            differ(fact, stored, getattr(want, fact))
    if advisory.cwe_id != want.cwe_id:
        differ("cwe_id", advisory.cwe_id, want.cwe_id)
    stored_ids = [_canonical_identifier(i) for i in _lines(advisory.identifiers)]
    if set(stored_ids) != set(want.identifiers):
        differ("identifiers", stored_ids, want.identifiers)
    stored_urls = _lines(advisory.reference_urls)
    if want.reference_urls is not None and not set(want.reference_urls) <= set(stored_urls):
        differ("reference_urls", stored_urls, want.reference_urls)
    if want.affected is not None:
        ranges = tuple(stored_ranges) if stored_ranges is not None else _stored_ranges(advisory)
        if set(ranges) != set(want.affected):
            differ("affected", ranges, want.affected)
    return out


def affected_rows(derived: DerivedFacts) -> list[AffectedInput]:
    """The affected table the cases state: their merged ranges, or their products with an open range when the
    case desk recorded none."""
    if derived.affected is None:
        products = Product.objects.in_bulk(derived.products)
        return [AffectedInput(product=products[pk]) for pk in derived.products if pk in products]
    products = Product.objects.in_bulk({r[0] for r in derived.affected})
    releases = FirmwareRelease.objects.in_bulk({x for r in derived.affected for x in (r[2], r[3]) if x is not None})
    return [
        AffectedInput(
            product=products[product_id],
            variant=variant,
            introduced=releases.get(introduced) if introduced else None,
            fixed=releases.get(fixed) if fixed else None,
        )
        for product_id, variant, introduced, fixed in derived.affected
    ]


def locked_facts(advisory: Advisory, derived: DerivedFacts | None = None) -> set[str]:
    """The facts the editor shows read-only, "from the case": every derived fact without an override. The
    references stay editable (the advisory may cite more than its cases; the cases' must stay in), and so does
    the affected table when no case records a range. An advisory without cases (imported): none."""
    if not advisory.case_links.exists():
        return set()
    want = derived if derived is not None else derived_facts(advisory)
    locked = set(FACTS) - overridden_facts(advisory) - {"reference_urls"}
    if want.affected is None:
        locked.discard("affected")
    return locked


def exploitation_understated(advisory: Advisory, derived: DerivedFacts | None = None) -> str | None:
    """The cases' exploitation status when the advisory states a less severe one (override or not), else None."""
    want = derived if derived is not None else derived_facts(advisory)
    if EXPLOITATION_RANK.get(advisory.exploitation, 0) < EXPLOITATION_RANK.get(want.exploitation, 0):
        return want.exploitation
    return None
