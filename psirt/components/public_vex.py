"""The public VEX documents about one third-party vulnerability, at stable addresses that do not change with
revisions: `/vex/<vulnerability ID>/csaf.json` (CSAF 2.0 `csaf_vex`, the document the CSAF provider tree also
lists), `openvex.json` (OpenVEX 0.2.0) and `cyclonedx.json` (CycloneDX 1.6 VEX). Each is built from
`psirt.components.publication` and checked there before it is served; a vulnerability without a decision about a
public release of a public product answers 404, like an unknown one."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from psirt.components.models import Vulnerability
from psirt.components.publication import (
    VexNotPublishable,
    csaf_vex_document,
    cyclonedx_vex_document,
    openvex_document,
)

logger = logging.getLogger(__name__)

Builder = Callable[[Vulnerability], dict[str, Any] | None]

# OpenVEX registers no media type of its own; CycloneDX and CSAF documents are JSON of their kind.
MEDIA_TYPES = {"csaf": "application/json", "openvex": "application/json", "cyclonedx": "application/vnd.cyclonedx+json"}


def _serve(vuln_id: str, fmt: str, build: Builder) -> HttpResponse:
    vulnerability = Vulnerability.objects.filter(vuln_id=vuln_id[:100]).first()
    if vulnerability is None:
        raise Http404
    try:
        doc = build(vulnerability)
    except VexNotPublishable:
        # Never serve a document that fails its checks; the same failure keeps it out of the CSAF tree.
        logger.exception("VEX document %s of %s not served: it fails its checks", fmt, vulnerability.vuln_id)
        raise Http404 from None
    if doc is None:
        raise Http404
    body = json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    response = HttpResponse(body.encode(), content_type=f"{MEDIA_TYPES[fmt]}; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def csaf(request: HttpRequest, vuln_id: str) -> HttpResponse:
    return _serve(vuln_id, "csaf", csaf_vex_document)


@require_GET
def openvex(request: HttpRequest, vuln_id: str) -> HttpResponse:
    return _serve(vuln_id, "openvex", openvex_document)


@require_GET
def cyclonedx(request: HttpRequest, vuln_id: str) -> HttpResponse:
    return _serve(vuln_id, "cyclonedx", cyclonedx_vex_document)
