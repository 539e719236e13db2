"""The "Am I affected?" page: a product and a firmware version → the published advisories that affect it and the
release to install (the answer is computed by `psirt.advisories.queries.check_affected`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from psirt.advisories.queries import AffectedQuery, check_affected, product_choices
from psirt.advisories.views.public import list_version, select_options
from psirt.catalog.models import FirmwareRelease, Product
from psirt.components.queries import find_vulnerability, public_answer
from psirt.pages import generation
from psirt.pages.pagecache import cached_page

VULN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{2,99}\Z")


@require_GET
def affected(request: HttpRequest) -> HttpResponse:
    """Am I affected? Product + firmware version → the advisories that affect it and the release to install;
    with a CVE of a third-party component, also the vendor's VEX answer for it."""
    if request.GET.get("cve"):
        # Decisions and SBOMs move the page cache's version (the site generation), but the VEX answer also
        # changes with imported vulnerability data (new matches), which it does not follow: never stored.
        return _render_affected(request)
    return cached_page(request, list_version(request), lambda: _render_affected(request), check=list_version)


def _render_affected(request: HttpRequest) -> HttpResponse:
    query = AffectedQuery.from_params(request.GET)
    answer = check_affected(query, version=list_version(request)) if query.ready else None
    cve = " ".join(str(request.GET.get("cve", "") or "").split())
    cve_error = ""
    if cve and not VULN_ID.match(cve):
        cve_error = _("Type a vulnerability ID such as CVE-2024-5535.")
    third_party = None
    vulnerability = None
    if cve and not cve_error and answer is not None and answer.release is not None:
        vulnerability = find_vulnerability(cve)
        third_party = public_answer(answer.release, vulnerability) if vulnerability is not None else None
    status = 400 if query.errors or cve_error else 200
    choices = product_choices(query, answer)
    context = {
        "query": query,
        "answer": answer,
        "product_options": select_options(choices["products"], query.product_slug) if choices["products"] else "",
        "version_options": _version_options(
            request,
            choices["chosen"],
            choices["versions"],
            str(answer.release.public_id) if answer is not None and answer.release is not None else "",
        ),
        "cve": cve[:100],
        "cve_error": cve_error,
        "third_party": third_party,
        "vulnerability": vulnerability,
        **choices,
    }
    return render(request, "advisories/affected.html", context, status=status)


def _version_options(
    request: HttpRequest, chosen: Product | None, versions: Sequence[FirmwareRelease], selected: str
) -> SafeString:
    """The chosen product's releases as <option> elements, `selected` (a release's public ID) selected: a function
    of the catalog, which the list version covers, so rendered once per version, product and selection."""
    if chosen is None:
        return select_options(_version_pairs(versions), selected)
    return generation.kept(
        list_version(request),
        ("affected-version-options", chosen.pk, selected),
        lambda: select_options(_version_pairs(versions), selected),
    )


def _version_pairs(versions: Sequence[FirmwareRelease]) -> list[tuple[str, str]]:
    return [(str(r.public_id), f"{r.version} ({r.variant})" if r.variant else r.version) for r in versions]
