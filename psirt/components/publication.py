"""Publishing VEX decisions: for one vulnerability, the current decision of every public release of a public
product, as CSAF 2.0 `csaf_vex` (checked with every mandatory test, the VEX profile's included, before anything
is returned), OpenVEX 0.2.0 (checked against its schema) and CycloneDX 1.6 VEX.

The document's revisions are the moments decisions were recorded (to the second): decisions are append-only, so
every change adds one, and the same decisions always give the same document."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from django.urls import reverse

from psirt.components.exceptions import ComponentsError
from psirt.components.models import VexDecision, Vulnerability
from psirt.components.queries import published_decisions
from psirt.formats.csaf import csaf_document_url, csaf_translation_url
from psirt.formats.csaf_validate import is_publishable, validate_csaf
from psirt.formats.vex import VexInput, VexProduct, csaf_vex, csaf_vex_translation, cyclonedx_vex, openvex
from psirt.lib.http import absolute_url
from psirt.organization.models import OrganizationProfile

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

JSON = dict[str, Any]


class VexNotPublishable(ComponentsError):
    status = 500


def published_vulnerabilities() -> list[Vulnerability]:
    """Vulnerabilities with a decision about a public release of a public product: each has a VEX document."""
    return list(
        Vulnerability.objects.filter(
            decisions__release__is_public=True, decisions__release__product__is_public=True
        ).distinct()
    )


def document_id(vulnerability: Vulnerability) -> str:
    return "VEX-" + re.sub(r"[^A-Za-z0-9+\-_.]", "_", vulnerability.vuln_id)


# The public address of each format's document about one vulnerability (`psirt.components.urls`), stable across
# revisions: /vex/<vulnerability ID>/csaf.json, openvex.json, cyclonedx.json.
DOCUMENT_FORMATS = ("csaf", "openvex", "cyclonedx")


def document_path(vulnerability: Vulnerability, fmt: str) -> str:
    return reverse(f"vex_{fmt}", kwargs={"vuln_id": vulnerability.vuln_id})


def document_urls(vulnerability: Vulnerability) -> dict[str, str]:
    """The absolute public URLs of the three documents about `vulnerability` (they exist once a public release
    has a decision)."""
    return {fmt: absolute_url(document_path(vulnerability, fmt)) for fmt in DOCUMENT_FORMATS}


def public_decisions(vulnerability: Vulnerability) -> list[VexDecision]:
    return list(
        published_decisions()
        .filter(vulnerability=vulnerability)
        .select_related("release__product")
        .order_by("release__product__slug", "release__variant", "release__position")
    )


def vex_input(vulnerability: Vulnerability) -> VexInput | None:
    """The frozen input of the three formats; None when no public release has a decision."""
    decisions = public_decisions(vulnerability)
    if not decisions:
        return None
    # Each decide() call is one revision: its rows share the second they were recorded in.
    moments = sorted(
        {
            moment.replace(microsecond=0)
            for moment in VexDecision.objects.filter(
                vulnerability=vulnerability, release__is_public=True, release__product__is_public=True
            ).values_list("decided_at", flat=True)
        }
    )
    profile = OrganizationProfile.get()
    vendor = profile.name_en.strip() or "psirt"
    cve = next((i.upper() for i in vulnerability.cve_ids), "")
    doc_id = document_id(vulnerability)
    # Where the provider tree serves it (white/<year of the first decision>/<file>), on https as CSAF requires.
    base = absolute_url("/.well-known/csaf")
    base = "https://" + base[len("http://") :] if base.startswith("http://") else base
    url = csaf_document_url(base, doc_id, moments[0])
    products = tuple(
        VexProduct(
            product_id=f"{d.release.product.slug}:{d.release.version}"
            + (f":{d.release.variant}" if d.release.variant else ""),
            vendor=vendor,
            product_name=d.release.product.name,
            version=d.release.version + (f" ({d.release.variant})" if d.release.variant else ""),
            status=d.status,
            justification=d.justification,
            impact_statement=d.impact_statement,
            action_statement=d.action_statement,
            impact_statement_zh=d.impact_statement_zh,
            action_statement_zh=d.action_statement_zh,
        )
        for d in decisions
    )
    return VexInput(
        openvex_url=absolute_url(document_path(vulnerability, "openvex")),
        cyclonedx_url=absolute_url(document_path(vulnerability, "cyclonedx")),
        vuln_id=vulnerability.vuln_id,
        cve=cve,
        title=vulnerability.summary,
        publisher_name=vendor,
        publisher_namespace=(profile.website or "").strip() or absolute_url(""),
        document_id=doc_id,
        document_url=url,
        translation_url=csaf_translation_url(base, doc_id, moments[0]),
        revision_dates=tuple(moments),
        products=products,
    )


def csaf_vex_document(vulnerability: Vulnerability) -> JSON | None:
    """The validated CSAF VEX document; VexNotPublishable (naming the failed tests) rather than a bad one."""
    data = vex_input(vulnerability)
    return _checked(csaf_vex(data)) if data is not None else None


def csaf_vex_documents(vulnerability: Vulnerability) -> list[JSON]:
    """The validated CSAF VEX document and, when a decision has a Chinese statement, its zh-Hans translation
    (the provider tree files it under `zh-hans/`, like an advisory's); VexNotPublishable rather than a bad one."""
    data = vex_input(vulnerability)
    if data is None:
        return []
    translation = csaf_vex_translation(data)
    return [_checked(csaf_vex(data)), *([_checked(translation)] if translation is not None else [])]


def _checked(doc: JSON) -> JSON:
    problems = validate_csaf(doc)
    if not is_publishable(problems):
        raise VexNotPublishable("; ".join(str(p) for p in problems[:5]))
    return doc


@lru_cache(maxsize=1)
def openvex_validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # imported here: saves every psirt process its start-up time

    schema = json.loads(files("psirt.components").joinpath("data/openvex.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def openvex_document(vulnerability: Vulnerability) -> JSON | None:
    data = vex_input(vulnerability)
    if data is None:
        return None
    doc = openvex(data)
    errors = [e.message for e in openvex_validator().iter_errors(doc)][:5]
    if errors:
        raise VexNotPublishable("; ".join(errors))
    return doc


def cyclonedx_vex_document(vulnerability: Vulnerability) -> JSON | None:
    data = vex_input(vulnerability)
    return cyclonedx_vex(data) if data is not None else None
