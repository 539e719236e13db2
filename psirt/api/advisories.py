"""`GET /api/v1/affected?product=<slug>&version=<v>`: the JSON twin of the public "Am I affected?" page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from psirt.advisories.queries import MAX_VERSION_CHARS, AffectedQuery, check_affected
from psirt.api.errors import Problem
from psirt.lib.http import absolute_url

router = Router(tags=["advisories"])


class AffectedIn(Schema):
    # No max_length here: an over-long value gets the same 400 Problem as any other bad one.
    product: str = Field("", description="The product's slug, as in /updates/<slug>/", examples=["ip-camera-x5"])
    version: str = Field("", description=f"The firmware version (at most {MAX_VERSION_CHARS} characters)")


class ReleaseOut(Schema):
    version: str
    variant: str
    download_url: str


class AdvisoryHit(Schema):
    id: str = Field(description="Advisory ID, e.g. VT-SA-2026-004")
    title: str
    severity: str = Field(description="Critical, High, Medium, Low, None, or empty when not rated")
    exploitation: str = Field(description="none, poc or active")
    url: str
    fixed_in: ReleaseOut | None = Field(description="The release that fixes it; null when there is no fix yet")


class AffectedOut(Schema):
    product: str
    version: str
    known_version: bool = Field(description="Whether the version is a release in the catalog")
    affected: bool | None = Field(description="null when the version is unknown: we cannot tell")
    advisories: list[AdvisoryHit]
    update_to: ReleaseOut | None = Field(description="The lowest release that fixes every listed advisory")
    nearest_known: list[ReleaseOut] = Field(description="For an unknown version: the nearest known releases")
    message: str


def _release(release: Any) -> dict[str, str] | None:
    if release is None:
        return None
    return {"version": release.version, "variant": release.variant, "download_url": release.download_url}


@router.get(
    "",
    response={200: AffectedOut, 400: Problem, 404: Problem},
    auth=None,
    summary="Am I affected?",
    operation_id="affected",
)
def affected(request: HttpRequest, params: Query[AffectedIn]) -> Status:
    """The published advisories that affect a firmware version of a product, and the release to update to."""
    query = AffectedQuery.from_params({"product": params.product, "version": params.version})
    if not params.product and "product" not in query.errors:
        query.errors["product"] = "Give the product's slug: ?product=<slug>."
    if not params.version and "version" not in query.errors:
        query.errors["version"] = "Give the firmware version: &version=<version>."
    if query.errors:
        errors = {name: [message] for name, message in query.errors.items()}
        return Status(400, {"detail": "Bad query: see `errors`.", "errors": errors})
    answer = check_affected(query)
    if answer.product is None:
        return Status(404, {"detail": "No public product has this slug.", "errors": {}})
    if not answer.known:
        message = (
            f"Version {answer.version!r} is not in our catalog for {answer.product.name}: we cannot tell whether "
            "it is affected."
        )
    elif answer.hits:
        message = f"Affected by {len(answer.hits)} published advisories."
    else:
        message = "No published advisory affects this version."
    body = {
        "product": answer.product.slug,
        "version": answer.version,
        "known_version": answer.known,
        "affected": bool(answer.hits) if answer.known else None,
        "advisories": [
            {
                "id": h.advisory.advisory_id,
                "title": h.advisory.title_en,
                "severity": h.advisory.severity,
                "exploitation": h.advisory.exploitation,
                "url": absolute_url(h.advisory.get_absolute_url()),
                "fixed_in": _release(h.fixed),
            }
            for h in answer.hits
        ],
        "update_to": _release(answer.update_to),
        "nearest_known": [r for r in (_release(answer.older), _release(answer.newer)) if r],
        "message": message,
    }
    return Status(200, body)
