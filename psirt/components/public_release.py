"""The components' part of the public release page (registered with `psirt.catalog.release_panel` at start-up):
the published third-party vulnerability decisions of the release and, when its product line publishes SBOMs,
its components and its SBOM as uploaded.

Decisions come from `queries.published_decisions`, the set the CSAF, OpenVEX and CycloneDX VEX documents
publish: the page never tells a customer more, or other, than the VEX documents do. The page shows no match
without a decision (a match is never revealed before a handler decided)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from psirt.catalog.models import FirmwareRelease
from psirt.catalog.queries import public_release
from psirt.components import queries, services
from psirt.components.models import ComponentVersion, SbomDocument, SbomFormat, VexDecision

# The registered media types of the two formats (CycloneDX 1.6 §"Media types", SPDX 2.3 annex "JSON").
MEDIA_TYPES = {SbomFormat.CYCLONEDX: "application/vnd.cyclonedx+json", SbomFormat.SPDX: "application/spdx+json"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class PublicDecision:
    """One line of the page: the current published decision and the release to update to (if any)."""

    decision: VexDecision
    update_to: FirmwareRelease | None


def release_decisions(release: FirmwareRelease) -> list[PublicDecision]:
    """The published current decisions about `release` (none unless it is a public release of a public
    product), by vulnerability ID, each with the release to update to by the rule of the public answer: two queries
    whatever the number of decisions."""
    decisions = list(
        queries.published_decisions()
        .filter(release=release)
        .select_related("vulnerability", "fixed_in")
        .order_by("vulnerability__vuln_id")
    )
    targets = queries.update_targets(release, {d.vulnerability_id: d.status for d in decisions})
    return [PublicDecision(d, targets[d.vulnerability_id]) for d in decisions]


def public_sbom(release: FirmwareRelease) -> SbomDocument | None:
    """The SBOM customers may download: the current one, only when the product line publishes SBOMs."""
    if not release.product.line.sboms_public:
        return None
    return queries.current_sbom(release)


# An SBOM may list 100,000 components: the page lists the first ones by name, the download has them all.
MAX_LISTED = 500


def public_components(release: FirmwareRelease) -> tuple[list[ComponentVersion], int]:
    """The first `MAX_LISTED` component versions of `release` by name, and how many it has."""
    versions = ComponentVersion.objects.filter(release_links__release=release)
    listed = list(versions.select_related("component").order_by("component__name", "version")[:MAX_LISTED])
    total = len(listed) if len(listed) < MAX_LISTED else versions.count()
    return listed, total


# The file name endings each format's specification recommends.
EXTENSIONS = {SbomFormat.CYCLONEDX: ".cdx.json", SbomFormat.SPDX: ".spdx.json"}


def sbom_filename(release: FirmwareRelease, document: SbomDocument) -> str:
    """A file name that is safe in a header and on any file system: product slug, version and variant with
    everything outside letters, digits, dot, dash and underscore replaced, then the format's ending."""
    parts = [release.product.slug, release.version, release.variant]
    stem = "_".join(cleaned for cleaned in (_UNSAFE.sub("-", p).strip(".-") for p in parts) if cleaned)[:150]
    return (stem or "sbom") + EXTENSIONS.get(SbomFormat(document.format), ".json")


def section(request: HttpRequest, release: FirmwareRelease) -> SafeString:
    sbom = public_sbom(release)
    components, total = public_components(release) if sbom is not None else ([], 0)
    context = {
        "release": release,
        "decisions": release_decisions(release),
        "sbom": sbom,
        "components": components,
        "component_total": total,
    }
    return mark_safe(render_to_string("components/public_release.html", context, request=request))  # noqa: S308 — a rendered template, escaped


@require_GET
def sbom_download(request: HttpRequest, slug: str, public_id: str) -> HttpResponse:
    """The release's SBOM as uploaded (byte-identical), for a public release whose product line publishes its
    SBOMs; 404 otherwise, like an unknown release."""
    release = public_release(slug, public_id)
    document = public_sbom(release) if release is not None else None
    if release is None or document is None:
        raise Http404
    data = services.sbom_bytes(SbomDocument.objects.get(pk=document.pk))
    response = HttpResponse(data, content_type=MEDIA_TYPES.get(SbomFormat(document.format), "application/json"))
    response["Content-Disposition"] = f'attachment; filename="{sbom_filename(release, document)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
