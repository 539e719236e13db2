"""Read side: what matched, what is decided, what is still open — for the desk (within what a user may see)
and for customers (public products and releases only)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery

from psirt.catalog.models import FirmwareRelease
from psirt.components.models import (
    BilingualStatements,
    ComponentVersion,
    ReleaseComponent,
    SbomDocument,
    VexDecision,
    VexStatus,
    Vulnerability,
    VulnerabilityMatch,
)


def current_decisions() -> QuerySet[VexDecision]:
    """The newest decision of every (release, vulnerability) pair."""
    newest = (
        VexDecision.objects.filter(release=OuterRef("release"), vulnerability=OuterRef("vulnerability"))
        .order_by("-pk")
        .values("pk")[:1]
    )
    return VexDecision.objects.filter(pk=Subquery(newest))


def published_decisions() -> QuerySet[VexDecision]:
    """The current decisions customers are told: those about a public release of a public product. The CSAF,
    OpenVEX and CycloneDX VEX documents and the public release page all read this one set."""
    return current_decisions().filter(release__is_public=True, release__product__is_public=True)


def current_decision(release: FirmwareRelease, vulnerability: Vulnerability) -> VexDecision | None:
    return VexDecision.objects.filter(release=release, vulnerability=vulnerability).order_by("-pk").first()


def decision_history(release: FirmwareRelease, vulnerability: Vulnerability) -> QuerySet[VexDecision]:
    return VexDecision.objects.filter(release=release, vulnerability=vulnerability).select_related(
        "decided_by", "fixed_in"
    )


def matched_vulnerabilities(release: FirmwareRelease) -> QuerySet[Vulnerability]:
    """Vulnerabilities that match a component version of `release`."""
    versions = ReleaseComponent.objects.filter(release=release).values("component_version")
    return Vulnerability.objects.filter(matches__component_version__in=versions).distinct()


def matching_components(release: FirmwareRelease, vulnerability: Vulnerability) -> QuerySet[ComponentVersion]:
    return ComponentVersion.objects.filter(
        release_links__release=release, matches__vulnerability=vulnerability
    ).select_related("component")


def open_questions(release: FirmwareRelease) -> QuerySet[Vulnerability]:
    """Matched vulnerabilities of `release` without any decision yet."""
    decided = VexDecision.objects.filter(release=release, vulnerability=OuterRef("pk"))
    return matched_vulnerabilities(release).exclude(Exists(decided))


def affected_releases(vulnerability: Vulnerability, releases: QuerySet[FirmwareRelease]) -> QuerySet[FirmwareRelease]:
    """Among `releases`, those containing a component version that matches `vulnerability`."""
    versions = VulnerabilityMatch.objects.filter(vulnerability=vulnerability).values("component_version")
    linked = ReleaseComponent.objects.filter(release=OuterRef("pk"), component_version__in=versions)
    return (
        releases.filter(Exists(linked))
        .select_related("product", "product__line")
        .order_by("product__name", "variant", "-position")
    )


def vulnerabilities_with_counts(releases: QuerySet[FirmwareRelease]) -> QuerySet[Vulnerability]:
    """Vulnerabilities matching any of `releases`, with how many of them they match."""
    links = ReleaseComponent.objects.filter(release__in=releases.values("pk"))
    return (
        Vulnerability.objects.filter(matches__component_version__release_links__in=links)
        .annotate(release_count=Count("matches__component_version__release_links__release", distinct=True))
        .order_by("-release_count", "vuln_id")
    )


def releases_without_sbom(releases: QuerySet[FirmwareRelease]) -> QuerySet[FirmwareRelease]:
    """The CRA to-do: releases with no SBOM stored."""
    return (
        releases.exclude(Exists(SbomDocument.objects.filter(release=OuterRef("pk"))))
        .select_related("product")
        .order_by("product__name", "variant", "-position")
    )


def current_sbom(release: FirmwareRelease) -> SbomDocument | None:
    return SbomDocument.objects.filter(release=release).defer("content").first()


def find_vulnerability(identifier: str) -> Vulnerability | None:
    """By its own ID or any alias (CVE-…, GHSA-…), case-insensitive."""
    return Vulnerability.objects.filter(alias_rows__alias=identifier.strip().upper()[:100]).first()


@dataclass(frozen=True)
class VexAnswer(BilingualStatements):
    """The public answer for (release, vulnerability)."""

    status: str
    justification: str
    impact_statement: str
    action_statement: str
    update_to: FirmwareRelease | None
    decided: bool
    impact_statement_zh: str = ""
    action_statement_zh: str = ""


def public_answer(release: FirmwareRelease, vulnerability: Vulnerability) -> VexAnswer:
    """What a customer is told: the current decision. Without one the answer is under investigation — except
    when the product line publishes its SBOMs and the release's SBOM contains no matching component: then
    "not affected, component not present" tells nothing that the public SBOM does not already say. A match is
    never revealed before a handler decided. `update_to`, for affected and undecided answers, is the oldest newer
    public release of the same product and variant whose current decision is fixed or not affected."""
    current = _current_in_product(release, [vulnerability.pk]).get(vulnerability.pk, {})
    decision = current.get(release.pk)
    statements_zh = ("", "")
    if decision is not None:
        status, justification = decision.status, decision.justification
        impact, action, decided = decision.impact_statement, decision.action_statement, True
        statements_zh = (decision.impact_statement_zh, decision.action_statement_zh)
    else:
        status, justification, impact, action, decided = VexStatus.UNDER_INVESTIGATION, "", "", "", False
        if release.product.line.sboms_public and SbomDocument.objects.filter(release=release).exists():
            one = FirmwareRelease.objects.filter(pk=release.pk)
            if not affected_releases(vulnerability, one).exists():
                status, justification = VexStatus.NOT_AFFECTED, "component_not_present"
    update = _update_target(release, current) if status in _UPDATE_STATUSES else None
    return VexAnswer(status, justification, impact, action, update, decided, *statements_zh)


# Answers that send the customer to a newer release; fixed and not affected are where they should be.
_UPDATE_STATUSES = frozenset({VexStatus.AFFECTED, VexStatus.UNDER_INVESTIGATION})


def update_to(release: FirmwareRelease, vulnerability: Vulnerability, status: str) -> FirmwareRelease | None:
    """The release a customer with an `status` answer should install: for affected and under investigation,
    `update_target`; for fixed and not affected, none (they are where they should be)."""
    return update_targets(release, {vulnerability.pk: status})[vulnerability.pk]


def update_targets(release: FirmwareRelease, statuses: Mapping[int, str]) -> dict[int, FirmwareRelease | None]:
    """`update_to` for many vulnerabilities of one release at once (by vulnerability id, each with the status the
    customer is told), in one query whatever their number."""
    wanted = [pk for pk, status in statuses.items() if status in _UPDATE_STATUSES]
    current = _current_in_product(release, wanted) if wanted else {}
    return {pk: _update_target(release, current.get(pk, {})) if pk in wanted else None for pk in statuses}


def update_target(release: FirmwareRelease, vulnerability: Vulnerability) -> FirmwareRelease | None:
    """The oldest newer public release of the same product and variant whose current decision about
    `vulnerability` is fixed or not affected."""
    return _update_target(release, _current_in_product(release, [vulnerability.pk]).get(vulnerability.pk, {}))


def _current_in_product(
    release: FirmwareRelease, vulnerability_ids: Collection[int]
) -> dict[int, dict[int, VexDecision]]:
    """The current decision about each of `vulnerability_ids` of each release of `release`'s product and variant,
    by vulnerability id and then release id, in one query (a product has tens of releases, a pair a few
    decisions): the public answer reads its own decision and its update target from it, the release page the
    targets of all its decisions."""
    current: dict[int, dict[int, VexDecision]] = defaultdict(dict)
    for decision in (
        VexDecision.objects.filter(
            vulnerability_id__in=list(vulnerability_ids),
            release__product_id=release.product_id,
            release__variant=release.variant,
        )
        .select_related("release")
        .order_by("-pk")
    ):
        current[decision.vulnerability_id].setdefault(decision.release_id, decision)
    return current


def _update_target(release: FirmwareRelease, current: Mapping[int, VexDecision]) -> FirmwareRelease | None:
    good = [
        d.release
        for d in current.values()
        if d.status in {VexStatus.FIXED, VexStatus.NOT_AFFECTED}
        and d.release.is_public
        and d.release.position > release.position
    ]
    return min(good, key=lambda r: (r.position, r.pk), default=None)
