"""`GET /api/v1/advisories…`: the public advisories as JSON — the list with the filters of /advisories/, one
advisory with every field its page shows (in both languages), its revision history, its CSAF 2.0 document and the
CVE JSON 5 records of the CVEs it names (both rendered by `psirt.advisories.csaf.documents`, as for the provider tree
and the page's downloads).

Only published and withdrawn advisories exist here (`psirt.advisories.queries`): a draft's ID answers the same
404 as an ID that was never given out. Answers carry an ETag (304 on If-None-Match) and Last-Modified.

Also `GET /api/v1/affected?product=<slug>&version=<v>[&cve=<ID>]`, the JSON twin of the public "Am I affected?" page
(with a CVE of a third-party component, also the VEX answer of `psirt.components.api.vex_answer`), and
`GET /api/v1/cvss?vector=…`, the public CVSS calculator (no account needed, nothing stored)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from psirt.advisories import queries
from psirt.advisories.csaf import documents
from psirt.advisories.models import Advisory, AdvisoryState, Exploitation
from psirt.advisories.queries import (
    MAX_VERSION_CHARS,
    PUBLIC_STATES,
    SORTS,
    AffectedQuery,
    ListFilters,
    check_affected,
)
from psirt.advisories.views.presenters import scores_of
from psirt.components.api import VULN_ID, VexOut, vex_answer
from psirt.components.queries import find_vulnerability
from psirt.lib.api import (
    MAX_LIMIT,
    Links,
    PageLinks,
    Problem,
    api_url,
    html_links,
    page_links,
    problem_json,
    public_json,
)
from psirt.lib.cvss import MAX_VECTOR_LENGTH, CvssError, score_vector
from psirt.lib.cwe import lookup as lookup_cwe
from psirt.lib.http import absolute_url
from psirt.lib.search import MAX_QUERY_CHARS, QueryTooLong
from psirt.lib.severity import Severity

router = Router(tags=["advisories"])  # /v1/advisories
affected_router = Router(tags=["advisories"])  # /v1/affected
cvss_router = Router(tags=["cvss"])  # /v1/cvss: the calculator, scoring what it is given and storing nothing
logger = logging.getLogger(__name__)

NOT_FOUND = "No published advisory has this ID."
MAX_ADVISORY_ID = 40  # Advisory.advisory_id's length
CVE_ID = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,19}\Z")


# --- schemas ------------------------------------------------------------------------------------------------


class ProductRef(Schema):
    slug: str | None = Field(description="The product's slug; null for a product not listed publicly")
    name: str
    variant: str = Field(description="Region or operator variant; empty for the standard build")


class AdvisorySummary(Schema):
    id: str = Field(description="Advisory ID, e.g. VT-SA-2026-004", examples=["VT-SA-2026-004"])
    state: str = Field(description="published or withdrawn")
    title_en: str
    title_zh: str = Field(description="Simplified Chinese; empty when there is no translation")
    severity: str = Field(description="Critical, High, Medium, Low, None, or empty when not rated")
    score: float | None = Field(description="The higher of the CVSS v3.1 and v4.0 base scores")
    exploitation: str = Field(description="none, poc or active")
    published_at: dt.datetime | None
    revised_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    cve_ids: list[str]
    products: list[ProductRef]
    url: str = Field(description="This advisory in the API")
    html_url: PageLinks


class AdvisoryPage(Schema):
    count: int = Field(description="How many advisories match the filters, on every page together")
    limit: int
    offset: int
    links: Links
    results: list[AdvisorySummary]


class ListParams(Schema):
    q: str = Field("", description=f"Search text (at most {MAX_QUERY_CHARS} characters): title, summary, IDs, product")
    line: str = Field("", description="A product line's slug")
    product: str = Field("", description="A product's slug")
    severity: str = Field("", description="One of " + ", ".join(Severity.values))
    year: str = Field("", description="Year of publication, e.g. 2026")
    exploitation: str = Field("", description="One of " + ", ".join(Exploitation.values))
    sort: str = Field("newest", description="One of " + ", ".join(SORTS))
    limit: int = Field(queries.PER_PAGE, ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}")
    offset: int = Field(0, ge=0, le=1_000_000, description="How many matching advisories to skip")


class Score(Schema):
    version: str = Field(description='"3.1" or "4.0"')
    vector: str
    base: float
    temporal: float | None = Field(description="CVSS v3.1 temporal score; null for v4.0")
    threat: float | None = Field(description="CVSS v4.0 threat score (CVSS-BT); null for v3.1")
    severity: str = Field(description="The rating of the base score: None, Low, Medium, High or Critical")


class Cwe(Schema):
    id: str = Field(description='e.g. "CWE-787"')
    name: str | None = Field(description="Its name in the CWE list; null when the list does not have it")


class ReleaseRef(Schema):
    version: str
    variant: str
    release_date: dt.date | None
    download_url: str


class AffectedProductOut(Schema):
    product: ProductRef
    model_numbers: list[str]
    introduced: str | None = Field(description="First affected version (inclusive); null: every earlier one")
    fixed: ReleaseRef | None = Field(description="The release that fixes it (exclusive bound); null: no fix yet")
    affected_versions: list[str] = Field(description="The public catalog releases in the range, oldest first")


class Texts(Schema):
    en: str
    zh_hans: str = Field(alias="zh-Hans", description="Empty when there is no translation")


class AdvisoryLinks(Schema):
    self: str
    html: PageLinks
    revisions: str
    csaf: str = Field(description="The CSAF 2.0 document (add ?lang=zh-Hans for its Chinese translation)")
    cve: dict[str, str] = Field(
        description="CVE ID → its CVE JSON 5 record (published advisories only; a withdrawn one has none)"
    )


class AdvisoryDetail(Schema):
    id: str
    state: str = Field(description="published or withdrawn")
    title: Texts
    summary: Texts
    description: Texts
    impact: Texts
    workarounds: Texts = Field(description="Workarounds and mitigations")
    actions: Texts = Field(description="What to do first")
    acknowledgments_en: list[str] = Field(description="Credit lines in English")
    acknowledgments_zh: list[str] = Field(description="Credit lines in Chinese; empty when not translated")
    severity: str
    score: float | None
    scores: list[Score] = Field(description="CVSS v4.0 first, then v3.1, for the vectors the advisory has")
    cwe: Cwe | None
    exploitation: str = Field(description="none, poc or active")
    exploitation_aware_at: dt.datetime | None = Field(
        description="When the vendor became aware of the exploitation (from the cases); null when none is known"
    )
    cve_ids: list[str]
    other_ids: list[str] = Field(description="CNVD, CNNVD and EUVD IDs")
    references: list[str]
    affected: list[AffectedProductOut]
    published_at: dt.datetime | None
    revised_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    withdrawn_reason: str = Field(description="Why it was withdrawn; empty unless withdrawn")
    links: AdvisoryLinks


class RevisionOut(Schema):
    number: int
    date: dt.datetime
    summary_en: str
    summary_zh: str = Field(description="Empty when not translated")


class RevisionList(Schema):
    advisory: str
    results: list[RevisionOut] = Field(description="Oldest first")


AdvisoryID = Path(..., description="Advisory ID, e.g. VT-SA-2026-004 (any letter case)")


# --- building answers ----------------------------------------------------------------------------------------


def _decimal(value: Any) -> float | None:
    return float(value) if value is not None else None


def _product_ref(product: Any, variant: str) -> dict[str, Any]:
    return {"slug": product.slug if product.is_public else None, "name": product.name, "variant": variant}


def _summary(advisory: Advisory) -> dict[str, Any]:
    return {
        "id": advisory.advisory_id,
        "state": advisory.state,
        "title_en": advisory.title_en,
        "title_zh": advisory.title_zh,
        "severity": advisory.severity,
        "score": _decimal(advisory.score),
        "exploitation": advisory.exploitation,
        "published_at": advisory.published_at,
        "revised_at": advisory.revised_at,
        "withdrawn_at": advisory.withdrawn_at,
        "cve_ids": advisory.cve_ids,
        # Prefetched by filtered_advisories (product names, then variants).
        "products": [_product_ref(row.product, row.variant) for row in advisory.affected.all()],
        "url": api_url("advisory", advisory.advisory_id),
        "html_url": html_links("advisories:detail", advisory.advisory_id),
    }


def _texts(advisory: Advisory, field: str) -> dict[str, str]:
    return {"en": getattr(advisory, f"{field}_en"), "zh-Hans": getattr(advisory, f"{field}_zh")}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _detail(advisory: Advisory) -> dict[str, Any]:
    cwe = lookup_cwe(advisory.cwe_id) if advisory.cwe_id else None
    return {
        "id": advisory.advisory_id,
        "state": advisory.state,
        **{
            name: _texts(advisory, name)
            for name in ("title", "summary", "description", "impact", "workarounds", "actions")
        },
        "acknowledgments_en": _lines(advisory.credits_en),
        "acknowledgments_zh": _lines(advisory.credits_zh),
        "severity": advisory.severity,
        "score": _decimal(advisory.score),
        "scores": [
            {
                "version": s.result.version,
                "vector": s.result.vector,
                "base": s.result.base,
                "temporal": s.result.temporal,
                "threat": s.result.threat,
                "severity": s.result.base_severity.capitalize(),
            }
            for s in scores_of(advisory)
        ],
        "cwe": ({"id": f"CWE-{advisory.cwe_id}", "name": cwe.name if cwe else None} if advisory.cwe_id else None),
        "exploitation": advisory.exploitation,
        "exploitation_aware_at": advisory.exploitation_aware_at if advisory.exploitation != "none" else None,
        "cve_ids": advisory.cve_ids,
        "other_ids": advisory.other_ids,
        "references": advisory.reference_list,
        "affected": [
            {
                "product": _product_ref(r.product, r.row.variant),
                "model_numbers": r.product.model_number_list,
                "introduced": r.row.introduced.version if r.row.introduced else None,
                "fixed": (
                    {
                        "version": r.fixed.version,
                        "variant": r.fixed.variant,
                        "release_date": r.fixed.release_date,
                        "download_url": r.fixed.download_url,
                    }
                    if r.fixed is not None
                    else None
                ),
                "affected_versions": [v.version for v in sorted(r.affected_versions, key=lambda v: v.position)],
            }
            for r in queries.affected_rows(advisory)
        ],
        "published_at": advisory.published_at,
        "revised_at": advisory.revised_at,
        "withdrawn_at": advisory.withdrawn_at,
        "withdrawn_reason": advisory.withdrawn_reason if advisory.state == AdvisoryState.WITHDRAWN else "",
        "links": {
            "self": api_url("advisory", advisory.advisory_id),
            "html": html_links("advisories:detail", advisory.advisory_id),
            "revisions": api_url("advisory_revisions", advisory.advisory_id),
            "csaf": api_url("advisory_csaf", advisory.advisory_id),
            "cve": (
                {cve: api_url("advisory_cve", advisory.advisory_id, cve) for cve in advisory.cve_ids}
                if advisory.state == AdvisoryState.PUBLISHED
                else {}
            ),
        },
    }


def _bad_filters(filters: ListFilters) -> dict[str, list[str]]:
    allowed = {
        "line": "a product line's slug (letters, digits and hyphens)",
        "product": "a product's slug (letters, digits and hyphens)",
        "severity": "one of " + ", ".join(Severity.values),
        "year": "a four-digit year, e.g. 2026",
        "exploitation": "one of " + ", ".join(Exploitation.values),
        "sort": "one of " + ", ".join(SORTS),
    }
    return {name: [f"Use {allowed[name]}."] for name in filters.ignored}


def _public_advisory(advisory_id: str) -> Advisory | None:
    # A NUL never reaches the query (PostgreSQL refuses it with an error): no ID holds one anyway.
    return None if "\x00" in advisory_id else queries.public_advisory(advisory_id)


# --- operations ---------------------------------------------------------------------------------------------


@router.get(
    "",
    response={200: AdvisoryPage, 304: None, 400: Problem, 422: Problem},
    auth=None,
    by_alias=True,  # "zh-Hans" keys: the OpenAPI description must name them as sent
    summary="Published advisories",
    operation_id="advisories",
    url_name="advisories",
)
def advisory_list(request: HttpRequest, params: Query[ListParams]) -> HttpResponse:
    """Published and withdrawn advisories, with the filters and sort orders of the public list page, a page
    at a time (`limit`, `offset`; `links.next` / `links.prev` lead on)."""
    raw = params.model_dump()
    try:
        filters = ListFilters.from_params({k: str(v) for k, v in raw.items() if k not in ("limit", "offset")})
    except QueryTooLong:
        too_long = f"The search text is too long: use at most {MAX_QUERY_CHARS} characters."
        return problem_json(400, too_long, {"q": [too_long]})
    if filters.ignored:
        return problem_json(400, "Some filters have values the list does not know.", _bad_filters(filters))
    matching = queries.filtered_advisories(filters)
    count = matching.count()
    rows = list(matching[params.offset : params.offset + params.limit])
    page = {
        "count": count,
        "limit": params.limit,
        "offset": params.offset,
        "links": page_links("advisories", raw, offset=params.offset, limit=params.limit, count=count),
        "results": [_summary(a) for a in rows],
    }
    return public_json(request, AdvisoryPage, page, last_modified=queries.last_modified(request))


@router.get(
    "/{advisory_id}",
    response={200: AdvisoryDetail, 304: None, 404: Problem, 422: Problem},
    auth=None,
    by_alias=True,  # "zh-Hans" keys: the OpenAPI description must name them as sent
    summary="One advisory",
    operation_id="advisory",
    url_name="advisory",
)
def advisory_detail(request: HttpRequest, advisory_id: str = AdvisoryID) -> HttpResponse:
    """Every public field of a published (or withdrawn) advisory, in English and Chinese. A draft's ID is
    answered like an unknown one."""
    advisory = _public_advisory(advisory_id)
    if advisory is None:
        return problem_json(404, NOT_FOUND)
    return public_json(request, AdvisoryDetail, _detail(advisory), last_modified=advisory.updated_at)


@router.get(
    "/{advisory_id}/revisions",
    response={200: RevisionList, 304: None, 404: Problem, 422: Problem},
    auth=None,
    by_alias=True,  # "zh-Hans" keys: the OpenAPI description must name them as sent
    summary="Revision history of an advisory",
    operation_id="advisory_revisions",
    url_name="advisory_revisions",
)
def advisory_revisions(request: HttpRequest, advisory_id: str = AdvisoryID) -> HttpResponse:
    """The numbered, dated changes of a published (or withdrawn) advisory, oldest first."""
    advisory = _public_advisory(advisory_id)
    if advisory is None:
        return problem_json(404, NOT_FOUND)
    revisions = [
        {"number": r.number, "date": r.date, "summary_en": r.summary_en, "summary_zh": r.summary_zh}
        for r in advisory.revisions.order_by("number")
    ]
    body = {"advisory": advisory.advisory_id, "results": revisions}
    return public_json(request, RevisionList, body, last_modified=advisory.updated_at)


class CsafParams(Schema):
    lang: Literal["en", "zh-Hans"] = Field("en", description="en: the document; zh-Hans: its Chinese translation")


def _documents_row(advisory_id: str, *, states: tuple[str, ...]) -> Advisory | None:
    """The advisory with everything the document renderers read (three queries), or None."""
    if "\x00" in advisory_id or not advisory_id or len(advisory_id) > MAX_ADVISORY_ID:
        return None
    # Imported advisories keep their CSAF tracking IDs as they were written; psirt's own are upper-case.
    rows = documents.advisory_queryset().filter(advisory_id__in={advisory_id, advisory_id.upper()}, state__in=states)
    row: Advisory | None = rows.first()
    return row


@router.get(
    "/{advisory_id}/csaf",
    response={200: dict[str, Any], 304: None, 404: Problem, 422: Problem},
    auth=None,
    summary="CSAF 2.0 document of an advisory",
    operation_id="advisory_csaf",
    url_name="advisory_csaf",
)
def advisory_csaf(request: HttpRequest, params: Query[CsafParams], advisory_id: str = AdvisoryID) -> HttpResponse:
    """The CSAF 2.0 document (`csaf_security_advisory`) of the advisory's current revision, the same as the one
    in the provider tree under /.well-known/csaf/; `?lang=zh-Hans` gives its Chinese translation (404 when the
    advisory has none). A withdrawn advisory keeps its document, with the withdrawal as the last revision."""
    advisory = _documents_row(advisory_id, states=tuple(PUBLIC_STATES))
    if advisory is None:
        return problem_json(404, NOT_FOUND)
    try:
        english, translation = documents.csaf_documents(advisory)
    except ValueError as exc:  # DocumentError, or a renderer refusing what the rows say
        logger.error("CSAF document of %s cannot be rendered: %s", advisory.advisory_id, exc)
        return problem_json(404, "This advisory has no CSAF document yet.")
    document = english if params.lang == "en" else translation
    if document is None:
        return problem_json(404, "This advisory has no Chinese translation.")
    return public_json(request, None, document, last_modified=advisory.updated_at)


CveID = Path(..., description="A CVE ID the advisory names, e.g. CVE-2026-20004", examples=["CVE-2026-20004"])


@router.get(
    "/{advisory_id}/cve/{cve_id}",
    response={200: dict[str, Any], 304: None, 404: Problem, 422: Problem},
    auth=None,
    summary="CVE JSON 5 record of a CVE an advisory names",
    operation_id="advisory_cve",
    url_name="advisory_cve",
)
def advisory_cve(request: HttpRequest, advisory_id: str = AdvisoryID, cve_id: str = CveID) -> HttpResponse:
    """The CVE JSON 5 record (CNA container) of a CVE a published advisory names, ready for a CNA to submit;
    the same as the download linked from the advisory page. A withdrawn advisory has none: rejecting its CVE is
    the CNA's decision, not a file psirt writes."""
    cve = cve_id.upper()
    advisory = _documents_row(advisory_id, states=(AdvisoryState.PUBLISHED,)) if CVE_ID.match(cve) else None
    if advisory is None or cve not in advisory.cve_ids:
        return problem_json(404, "No published advisory with this ID names this CVE.")
    try:
        record = documents.cve_records(advisory).get(cve)
    except ValueError as exc:  # DocumentError, or a renderer refusing what the rows say
        logger.error("CVE record of %s %s cannot be rendered: %s", advisory.advisory_id, cve, exc)
        record = None
    if record is None:
        return problem_json(404, "This advisory has no CVE record for this CVE yet.")
    return public_json(request, None, record, last_modified=advisory.updated_at)


# --- am I affected? -----------------------------------------------------------------------------------------


class AffectedIn(Schema):
    # No max_length here: an over-long value gets the same 400 Problem as any other bad one.
    product: str = Field("", description="The product's slug, as in /updates/<slug>/", examples=["ip-camera-x5"])
    version: str = Field("", description=f"The firmware version (at most {MAX_VERSION_CHARS} characters)")
    cve: str = Field(
        "",
        description="Optional: a CVE (or GHSA-…, OSV-…) of a third-party component; the answer then carries our VEX "
        "decision about it for this release under `vex`, as GET /api/v1/vex gives it",
    )


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
    vex: VexOut | None = Field(
        None,
        description="With `cve`: the VEX answer for that vulnerability; null without `cve`, for an unknown version "
        "or when we hold no data about the vulnerability",
    )


def _release(release: Any) -> dict[str, str] | None:
    if release is None:
        return None
    return {"version": release.version, "variant": release.variant, "download_url": release.download_url}


@affected_router.get(
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
    cve = params.cve.strip()
    if cve and not VULN_ID.match(cve):
        query.errors["cve"] = "Give a vulnerability ID, e.g. CVE-2024-5535."
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
        "vex": None,
    }
    if cve and answer.release is not None:
        vulnerability = find_vulnerability(cve)
        if vulnerability is not None:
            body["vex"] = vex_answer(answer.release, vulnerability)
    return Status(200, body)


# --- CVSS calculator ---------------------------------------------------------------------------------------


class CvssIn(Schema):
    # No max_length here: an over-long vector gets the same 400 {"detail", "errors", "metric"} as any other bad one
    # (score_vector refuses it before parsing), not the framework's generic 422.
    vector: str = Field(
        "",
        description=f"A CVSS v3.1 or v4.0 vector (at most {MAX_VECTOR_LENGTH} characters).",
        examples=["CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"],
    )


class Cvss31Out(Schema):
    version: str = Field(description='"3.1"')
    base: float = Field(description="Base score")
    temporal: float = Field(description="Temporal score (equals the base score without temporal metrics)")
    environmental: float = Field(description="Environmental score")
    severity: str = Field(description="None, Low, Medium, High or Critical, for the environmental score")
    vector: str = Field(description="The vector normalised: FIRST's metric order, Not Defined values left out")


class Cvss40Out(Schema):
    version: str = Field(description='"4.0"')
    base: float = Field(description="CVSS-B: the base metrics alone")
    threat: float = Field(description="CVSS-BT: base and threat metrics")
    environmental: float = Field(description="CVSS-BTE: the whole vector")
    severity: str = Field(description="None, Low, Medium, High or Critical, for CVSS-BTE")
    vector: str = Field(description="The vector normalised: FIRST's metric order, Not Defined values left out")


class CvssProblem(Problem):
    metric: str | None = Field(description='The offending metric ("CVSS" for the prefix), null when none')


@cvss_router.get(
    "",
    response={200: Cvss31Out | Cvss40Out, 400: CvssProblem},
    auth=None,
    summary="Score a CVSS vector",
    operation_id="cvss_score",
)
def cvss_score(request: HttpRequest, params: Query[CvssIn]) -> Status:
    """Scores and severity of a CVSS v3.1 or v4.0 vector, or 400 naming the offending metric."""
    try:
        result = score_vector(params.vector)
    except CvssError as exc:
        return Status(400, {"detail": exc.message, "errors": {"vector": [exc.message]}, "metric": exc.metric})
    return Status(200, result.as_dict())
