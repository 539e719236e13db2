"""`POST /api/v1/releases/{id}/sbom` (token scope `catalog:write`): store an SBOM for a release, the same service
as the desk; `GET /api/v1/vex?cve=…&product=…&version=…`: the public VEX answer for one firmware release and one
third-party vulnerability."""

from __future__ import annotations

import re
import uuid

from django.http import HttpRequest
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from psirt.accounts.access import TokenAuth
from psirt.catalog.models import FirmwareRelease
from psirt.components import queries
from psirt.components.access import can_view_release
from psirt.components.exceptions import SbomTooLarge
from psirt.components.models import Vulnerability
from psirt.components.publication import document_urls
from psirt.components.sbom import MAX_SBOM_BYTES
from psirt.components.services import import_sbom
from psirt.lib.api import Problem

releases_router = Router(tags=["components"])  # /v1/releases
vex_router = Router(tags=["components"])  # /v1/vex

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
VULN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{2,99}\Z")


class SbomOut(Schema):
    id: uuid.UUID
    release: uuid.UUID
    format: str
    spec_version: str
    sha256: str
    size: int
    components: int


@releases_router.post(
    "/{release_id}/sbom",
    response={201: SbomOut, 400: Problem, 404: Problem, 413: Problem, 422: Problem},
    auth=TokenAuth(scopes=["catalog:write"]),
    summary="Store an SBOM for a firmware release",
)
def upload_sbom(request: HttpRequest, release_id: str, file: File[UploadedFile]) -> Status:
    """Multipart field `file`: a CycloneDX 1.4–1.6 JSON or SPDX 2.3 JSON document, at most 32 MB. It becomes the
    release's current SBOM; a refused file stores nothing."""
    try:
        key = uuid.UUID(release_id)
    except ValueError:
        key = None
    release = FirmwareRelease.objects.select_related("product__line").filter(public_id=key).first() if key else None
    user = request.auth.user  # type: ignore[attr-defined]
    if release is None or not can_view_release(user, release):
        return Status(404, {"detail": "No release you may change has this id.", "errors": {}})
    if (file.size or 0) > MAX_SBOM_BYTES:
        raise SbomTooLarge(f"The SBOM is larger than {MAX_SBOM_BYTES // (1024 * 1024)} MB.")
    document = import_sbom(
        release=release, data=file.read(MAX_SBOM_BYTES + 1), actor=user, filename=file.name or "", request=request
    )
    return Status(
        201,
        {
            "id": document.public_id,
            "release": release.public_id,
            "format": document.format,
            "spec_version": document.spec_version,
            "sha256": document.sha256,
            "size": document.size,
            "components": document.component_count,
        },
    )


class VexIn(Schema):
    cve: str = Field(description="CVE ID or another ID of the vulnerability (GHSA-…, OSV-…)", max_length=100)
    product: str = Field(description="The product's slug", max_length=80)
    version: str = Field(description="The firmware version", max_length=100)
    variant: str = Field("", description="Region or operator variant; empty for the standard build", max_length=100)


class UpdateTo(Schema):
    version: str
    variant: str
    download_url: str


class VexDocuments(Schema):
    csaf: str = Field(description="CSAF 2.0 csaf_vex document about the vulnerability")
    openvex: str = Field(description="OpenVEX 0.2.0 document")
    cyclonedx: str = Field(description="CycloneDX 1.6 VEX document")


class VexOut(Schema):
    vulnerability: str
    aliases: list[str]
    product: str
    version: str
    status: str = Field(description="not_affected, affected, fixed or under_investigation")
    justification: str = Field(description="For not_affected: one of the five standard justifications")
    impact_statement: str
    action_statement: str
    impact_statement_zh: str = Field(
        description="The impact statement in Simplified Chinese; empty when not translated"
    )
    action_statement_zh: str = Field(
        description="The action statement in Simplified Chinese; empty when not translated"
    )
    decided: bool = Field(description="False when no handler has decided yet (the status is then derived)")
    update_to: UpdateTo | None = Field(description="The release to install, when there is one")
    documents: VexDocuments | None = Field(
        description="The published VEX documents stating this decision (when `decided`), at stable URLs"
    )


@vex_router.get(
    "",
    response={200: VexOut, 400: Problem, 404: Problem},
    auth=None,
    summary="VEX status of a firmware release for a third-party vulnerability",
    operation_id="vex",
)
def vex(request: HttpRequest, params: Query[VexIn]) -> Status:
    """Only public products and releases exist here; a vulnerability nobody imported answers 404."""
    errors: dict[str, list[str]] = {}
    if not VULN_ID.match(params.cve):
        errors["cve"] = ["Give a vulnerability ID, e.g. CVE-2024-5535."]
    if not SLUG.match(params.product):
        errors["product"] = ["Give the product's slug."]
    if not params.version.strip():
        errors["version"] = ["Give the firmware version."]
    if errors:
        return Status(400, {"detail": "Bad query: see `errors`.", "errors": errors})
    release = (
        FirmwareRelease.objects.select_related("product__line")
        .filter(
            product__slug=params.product,
            product__is_public=True,
            is_public=True,
            version=params.version.strip(),
            variant=params.variant.strip(),
        )
        .first()
    )
    if release is None:
        return Status(404, {"detail": "No public release of a public product has this version.", "errors": {}})
    vulnerability = queries.find_vulnerability(params.cve)
    if vulnerability is None:
        return Status(404, {"detail": "We hold no data about this vulnerability.", "errors": {}})
    return Status(200, vex_answer(release, vulnerability))


def vex_answer(release: FirmwareRelease, vulnerability: Vulnerability) -> dict[str, object]:
    """The body of a VEX answer (`VexOut`) for a public release: the one shape `/api/v1/vex` and the `vex` part
    of `/api/v1/affected` share."""
    answer = queries.public_answer(release, vulnerability)
    update = answer.update_to
    return {
        "vulnerability": vulnerability.vuln_id,
        "aliases": vulnerability.aliases,
        "product": release.product.slug,
        "version": release.version,
        "status": answer.status,
        "justification": answer.justification,
        "impact_statement": answer.impact_statement,
        "action_statement": answer.action_statement,
        "impact_statement_zh": answer.impact_statement_zh,
        "action_statement_zh": answer.action_statement_zh,
        "decided": answer.decided,
        "update_to": (
            {"version": update.version, "variant": update.variant, "download_url": update.download_url}
            if update
            else None
        ),
        "documents": document_urls(vulnerability) if answer.decided else None,
    }
