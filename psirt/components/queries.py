"""Read side: what matched, what is decided, what is still open — for the desk (within what a user may see)
and for customers (public products and releases only)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery

from psirt.catalog.models import FirmwareRelease
from psirt.components.models import (
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
class VexAnswer:
    """The public answer for (release, vulnerability)."""

    status: str
    justification: str
    impact_statement: str
    action_statement: str
    update_to: FirmwareRelease | None
    decided: bool


def public_answer(release: FirmwareRelease, vulnerability: Vulnerability) -> VexAnswer:
    """What a customer is told: the current decision. Without one the answer is under investigation — except
    when the product line publishes its SBOMs and the release's SBOM contains no matching component: then
    "not affected, component not present" tells nothing that the public SBOM does not already say. A match is
    never revealed before a handler decided. `update_to`, for affected and undecided answers, is the oldest newer
    public release of the same product and variant whose current decision is fixed or not affected."""
    decision = current_decision(release, vulnerability)
    if decision is not None:
        status, justification = decision.status, decision.justification
        impact, action, decided = decision.impact_statement, decision.action_statement, True
    else:
        status, justification, impact, action, decided = VexStatus.UNDER_INVESTIGATION, "", "", "", False
        if release.product.line.sboms_public and SbomDocument.objects.filter(release=release).exists():
            one = FirmwareRelease.objects.filter(pk=release.pk)
            if not affected_releases(vulnerability, one).exists():
                status, justification = VexStatus.NOT_AFFECTED, "component_not_present"
    return VexAnswer(status, justification, impact, action, update_to(release, vulnerability, status), decided)


def update_to(release: FirmwareRelease, vulnerability: Vulnerability, status: str) -> FirmwareRelease | None:
    """The release a customer with an `status` answer should install: for affected and under investigation,
    `update_target`; for fixed and not affected, none (they are where they should be)."""
    if status in {VexStatus.AFFECTED, VexStatus.UNDER_INVESTIGATION}:
        return update_target(release, vulnerability)
    return None


def update_target(release: FirmwareRelease, vulnerability: Vulnerability) -> FirmwareRelease | None:
    good = current_decisions().filter(vulnerability=vulnerability, status__in=[VexStatus.FIXED, VexStatus.NOT_AFFECTED])
    return (
        FirmwareRelease.objects.filter(
            product_id=release.product_id,
            variant=release.variant,
            position__gt=release.position,
            is_public=True,
            pk__in=good.values("release"),
        )
        .order_by("position")
        .first()
    )
