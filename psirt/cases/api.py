"""`/api/v1/cases`: the cases the token's user may see (same need-to-know as the desk).

`GET /api/v1/cases` lists them (newest first, `?state=` filter, `?page=` of 50); `GET /api/v1/cases/{id}`
answers one by its public id, or 404 to anyone who may not see it (audited like a desk attempt).
Token scope `cases:read`.

The writes (token scope `cases:write`) call the same services as the desk forms: open a case from a report,
move it, score it, classify it, reference it, agree a disclosure date, assign people, write to the reporter.
Every write finds the case through `get_case_for` (404 to anyone without need-to-know, audited), so refusals
are the desk's (403 not allowed, 409 workflow/reference conflicts, 422 invalid values, each with a `message`).
Their operation ids keep the names under which clients generated from the OpenAPI document know them.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from psirt.accounts.access import TokenAuth
from psirt.accounts.models import Role, User
from psirt.cases.access import get_case_for, visible_cases
from psirt.cases.exceptions import InvalidInput
from psirt.cases.models import Case, CaseReference
from psirt.cases.services import cases as case_services
from psirt.cases.services.messages import post_message
from psirt.cases.services.workflow import CaseState
from psirt.intake.access import get_report_for
from psirt.intake.models import Report

router = Router(tags=["cases"])
PAGE_SIZE = 50


class CaseSummary(Schema):
    id: uuid.UUID = Field(description="The case's public id (use it in URLs)")
    key: str
    title: str
    state: str
    severity: str
    product: str | None
    received_at: dt.datetime
    ack_due_at: dt.datetime | None
    remediation_due_at: dt.datetime | None
    disclosure_date: dt.date | None


class AffectedOut(Schema):
    product: str = Field(description="Catalog product slug")
    variant: str
    introduced: str | None = Field(description="First affected version (null: every earlier one)")
    fixed: str | None = Field(description="Fixing version (null: no fix yet)")


class WorkItemOut(Schema):
    id: uuid.UUID
    title: str
    owner: uuid.UUID | None
    due_date: dt.date | None
    done: bool


class CaseDetail(CaseSummary):
    product_line: str | None
    cvss31_vector: str
    cvss31_base: float | None
    cvss40_vector: str
    cvss40_base: float | None
    cwe: str | None
    exploitation: str
    exploitation_aware_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    closed_at: dt.datetime | None
    references: list[str]
    advisories: list[str] = Field(
        description="IDs of the advisories written from the case (drafts included), oldest first; their "
        "exploitation, scores, CWE, IDs, references and affected releases come from the case"
    )
    reports: list[str] = Field(description="Tracking IDs of the case's reports")
    assignees: list[uuid.UUID] = Field(description="Public ids of the assigned handlers and leads")
    affected: list[AffectedOut]
    work_items: list[WorkItemOut]


class CasePage(Schema):
    count: int
    page: int
    pages: int
    results: list[CaseSummary]


class ListParams(Schema):
    state: str = Field("", description="Only cases in this state", max_length=24)
    page: int = Field(1, ge=1, le=100_000)


def _summary(case: Case) -> dict[str, object]:
    return {
        "id": case.public_id,
        "key": case.key,
        "title": case.title,
        "state": case.state,
        "severity": case.severity,
        "product": case.product.name if case.product_id and case.product else None,
        "received_at": case.received_at,
        "ack_due_at": case.ack_due_at,
        "remediation_due_at": case.remediation_due_at,
        "disclosure_date": case.disclosure_date,
    }


def _score(value: object) -> float | None:
    return float(str(value)) if value is not None else None


@router.get("", response=CasePage, auth=TokenAuth(scopes=["cases:read"]), summary="Cases you may see")
def list_cases(request: HttpRequest, params: Query[ListParams]) -> dict[str, object]:
    """Newest first, 50 per page; one query for the page whatever its size."""
    qs = visible_cases(request.auth.user).select_related("product")  # type: ignore[attr-defined]
    if params.state:
        qs = qs.filter(state=params.state if params.state in CaseState.values else "")
    count = qs.count()
    pages = max(1, -(-count // PAGE_SIZE))
    page = min(params.page, pages)
    rows = qs.order_by("-created_at", "-id")[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return {"count": count, "page": page, "pages": pages, "results": [_summary(c) for c in rows]}


@router.get("/{case_id}", response=CaseDetail, auth=TokenAuth(scopes=["cases:read"]), summary="One case")
def get_case(request: HttpRequest, case_id: str) -> dict[str, object]:
    case = get_case_for(request.auth.user, case_id, request=request)  # type: ignore[attr-defined]
    return _detail(case)


def _detail(case: Case) -> dict[str, object]:
    case = Case.objects.select_related("product", "product_line").get(pk=case.pk)
    return {
        **_summary(case),
        "product_line": case.product_line.name if case.product_line_id and case.product_line else None,
        "cvss31_vector": case.cvss31_vector,
        "cvss31_base": _score(case.cvss31_base),
        "cvss40_vector": case.cvss40_vector,
        "cvss40_base": _score(case.cvss40_base),
        "cwe": f"CWE-{case.cwe_id}" if case.cwe_id else None,
        "exploitation": case.exploitation,
        "exploitation_aware_at": case.exploitation_aware_at,
        "acknowledged_at": case.acknowledged_at,
        "confirmed_at": case.confirmed_at,
        "closed_at": case.closed_at,
        "references": [r.value for r in case.references.all()],
        # The advisories app sits above the cases: read through the reverse relation, never its code.
        "advisories": list(case.advisory_links.order_by("id").values_list("advisory__advisory_id", flat=True)),
        "reports": [link.report.tracking_id for link in case.case_reports.select_related("report")],
        "assignees": list(case.assignments.order_by("assigned_at").values_list("user__public_id", flat=True)),
        "affected": [
            {
                "product": row.product.slug,
                "variant": row.variant,
                "introduced": row.introduced.version if row.introduced else None,
                "fixed": row.fixed.version if row.fixed else None,
            }
            for row in case.affected.select_related("product", "introduced", "fixed")
        ],
        "work_items": [
            {
                "id": item.public_id,
                "title": item.title,
                "owner": item.owner.public_id if item.owner else None,
                "due_date": item.due_date,
                "done": item.done_at is not None,
            }
            for item in case.work_items.select_related("owner")
        ],
    }


# --- writes -----------------------------------------------------------------------------------------------

WRITE = TokenAuth(scopes=["cases:write"])
TRACKING_RE = re.compile(r"^[A-Za-z]{2,8}-\d{4}-\d{1,9}$")
CASE_KEY_RE = re.compile(r"^[A-Za-z]{2,8}-\d{4}-\d{1,9}$")


class OpenIn(Schema):
    report: str = Field(description="Tracking ID (VR-2026-0042) or public id of a report in the inbox", max_length=64)
    title: str = Field(max_length=200)
    assignees: list[uuid.UUID] = Field(default_factory=list, max_length=20, description="User public ids")


class DuplicateIn(Schema):
    report: str = Field(description="Tracking ID or public id of a report in the inbox", max_length=64)


class TransitionIn(Schema):
    to_state: str = Field(max_length=24)
    reason: str = Field("", max_length=2000)
    duplicate_of: str = Field("", max_length=40, description="Case key (CASE-2026-0012) when marking a duplicate")


class VectorIn(Schema):
    vector: str = Field(max_length=300, description="CVSS v3.1 or v4.0 vector")


class CweIn(Schema):
    cwe: str | int | None = Field(None, description="CWE-79, 79, or null to clear")


class ExploitationIn(Schema):
    status: str = Field(max_length=10, description="none, poc or active")
    aware_at: dt.datetime | None = Field(None, description="When the team became aware (with time zone)")


class ReferenceIn(Schema):
    value: str = Field(max_length=2000, description="CVE/CNVD/CNNVD/EUVD ID or an https:// advisory link")


class DisclosureIn(Schema):
    date: dt.date | None


class PersonIn(Schema):
    user: uuid.UUID


class MessageIn(Schema):
    body: str = Field(max_length=50_000)
    internal: bool = Field(False, description="An internal note (never shown or sent to the reporter)")
    report: str = Field("", max_length=64, description="Tracking ID of one of the case's reports (default: the first)")


def _user(request: HttpRequest) -> Any:
    return request.auth.user  # type: ignore[attr-defined]


def _case(request: HttpRequest, case_id: str) -> Case:
    return get_case_for(_user(request), case_id, request=request)


def _inbox_report(request: HttpRequest, ref: str) -> Any:
    text = (ref or "").strip()
    try:
        key: Any = uuid.UUID(text)
    except ValueError:
        found = None
        if TRACKING_RE.match(text):
            found = Report.objects.filter(tracking_id=text.upper()).values_list("public_id", flat=True).first()
        key = found or uuid.uuid4()  # names nothing: the same 404 as for a report one may not see
    return get_report_for(_user(request), key, request=request)


@router.post(
    "",
    response={201: CaseDetail},
    auth=WRITE,
    summary="Open a case from an inbox report (leads)",
    operation_id="psirt_cases_api_write_open_case",
)
def open_case(request: HttpRequest, data: OpenIn) -> tuple[int, dict[str, object]]:
    report = _inbox_report(request, data.report)
    people = list(User.objects.filter(public_id__in=data.assignees, role__in=[Role.HANDLER, Role.LEAD]))
    if len(people) != len(set(data.assignees)):
        raise InvalidInput("Every assignee must be an active handler or lead (by public id).")
    case = case_services.open_case(
        report=report, actor=_user(request), title=data.title, assignees=people, request=request
    )
    return 201, _detail(case)


@router.post(
    "/{case_id}/duplicates",
    response=CaseDetail,
    auth=WRITE,
    summary="Attach an inbox report as duplicate",
    operation_id="psirt_cases_api_write_attach_duplicate",
)
def attach_duplicate(request: HttpRequest, case_id: str, data: DuplicateIn) -> dict[str, object]:
    case = _case(request, case_id)
    report = _inbox_report(request, data.report)
    case_services.attach_duplicate(report=report, case=case, actor=_user(request), request=request)
    return _detail(case)


@router.post(
    "/{case_id}/transition",
    response=CaseDetail,
    auth=WRITE,
    summary="Move the case along the workflow",
    operation_id="psirt_cases_api_write_transition",
)
def transition(request: HttpRequest, case_id: str, data: TransitionIn) -> dict[str, object]:
    case = _case(request, case_id)
    duplicate_of = None
    if data.duplicate_of:
        key = data.duplicate_of.strip().upper()
        duplicate_of = visible_cases(_user(request)).filter(key=key).first() if CASE_KEY_RE.match(key) else None
        if duplicate_of is None:
            raise InvalidInput("duplicate_of: give the key of a case you can see, e.g. CASE-2026-0012.")
    case_services.transition(
        case=case,
        to_state=data.to_state,
        actor=_user(request),
        reason=data.reason,
        duplicate_of=duplicate_of,
        request=request,
    )
    return _detail(case)


@router.put(
    "/{case_id}/cvss",
    response=CaseDetail,
    auth=WRITE,
    summary="Score a CVSS v3.1 or v4.0 vector",
    operation_id="psirt_cases_api_write_cvss",
)
def cvss(request: HttpRequest, case_id: str, data: VectorIn) -> dict[str, object]:
    case = _case(request, case_id)
    case_services.set_cvss(case=case, vector=data.vector, actor=_user(request), request=request)
    return _detail(case)


@router.put(
    "/{case_id}/cwe",
    response=CaseDetail,
    auth=WRITE,
    summary="Set or clear the CWE",
    operation_id="psirt_cases_api_write_cwe",
)
def cwe(request: HttpRequest, case_id: str, data: CweIn) -> dict[str, object]:
    case = _case(request, case_id)
    value = data.cwe if isinstance(data.cwe, int) else (str(data.cwe)[:32] if data.cwe is not None else None)
    case_services.set_cwe(case=case, cwe=value, actor=_user(request), request=request)
    return _detail(case)


@router.put(
    "/{case_id}/exploitation",
    response=CaseDetail,
    auth=WRITE,
    summary="Exploitation status",
    operation_id="psirt_cases_api_write_exploitation",
)
def exploitation(request: HttpRequest, case_id: str, data: ExploitationIn) -> dict[str, object]:
    case = _case(request, case_id)
    case_services.set_exploitation(
        case=case, status=data.status, aware_at=data.aware_at, actor=_user(request), request=request
    )
    return _detail(case)


@router.post(
    "/{case_id}/references",
    response={201: CaseDetail},
    auth=WRITE,
    summary="Add a reference",
    operation_id="psirt_cases_api_write_add_reference",
)
def add_reference(request: HttpRequest, case_id: str, data: ReferenceIn) -> tuple[int, dict[str, object]]:
    case = _case(request, case_id)
    case_services.add_reference(case=case, value=data.value, actor=_user(request), request=request)
    return 201, _detail(case)


@router.delete(
    "/{case_id}/references",
    response=CaseDetail,
    auth=WRITE,
    summary="Remove a reference (?value=)",
    operation_id="psirt_cases_api_write_remove_reference",
)
def remove_reference(request: HttpRequest, case_id: str, value: str = "") -> dict[str, object]:
    case = _case(request, case_id)
    reference = (
        CaseReference.objects.filter(case=case, value=value[:2000]).select_related("case").first()
        if "\x00" not in value
        else None
    )
    if reference is None:
        raise Http404
    case_services.remove_reference(reference=reference, actor=_user(request), request=request)
    return _detail(case)


@router.put(
    "/{case_id}/disclosure",
    response=CaseDetail,
    auth=WRITE,
    summary="Agreed disclosure date",
    operation_id="psirt_cases_api_write_disclosure",
)
def disclosure(request: HttpRequest, case_id: str, data: DisclosureIn) -> dict[str, object]:
    case = _case(request, case_id)
    case_services.set_disclosure_date(case=case, date=data.date, actor=_user(request), request=request)
    return _detail(case)


@router.post(
    "/{case_id}/assignees",
    response=CaseDetail,
    auth=WRITE,
    summary="Assign a handler (leads)",
    operation_id="psirt_cases_api_write_assign",
)
def assign(request: HttpRequest, case_id: str, data: PersonIn) -> dict[str, object]:
    case = _case(request, case_id)
    user = User.objects.filter(public_id=data.user).first()
    if user is None:
        raise InvalidInput("user: no such user.")
    case_services.assign(case=case, user=user, actor=_user(request), request=request)
    return _detail(case)


class MessageOut(Schema):
    id: uuid.UUID
    report: str
    internal: bool
    created_at: dt.datetime


@router.post(
    "/{case_id}/messages",
    response={201: MessageOut},
    auth=WRITE,
    summary="Write to the reporter or a note",
    operation_id="psirt_cases_api_write_message",
)
def message(request: HttpRequest, case_id: str, data: MessageIn) -> tuple[int, dict[str, object]]:
    case = _case(request, case_id)
    links = case.case_reports.select_related("report").order_by("is_duplicate", "added_at")
    wanted = data.report.strip().upper()
    link = next((lk for lk in links if not wanted or lk.report.tracking_id == wanted), None)
    if link is None:
        raise InvalidInput("report: give the tracking ID of one of this case's reports.")
    sent = post_message(
        case=case, report=link.report, actor=_user(request), body=data.body, internal=data.internal, request=request
    )
    return 201, {
        "id": sent.public_id,
        "report": link.report.tracking_id,
        "internal": sent.is_internal,
        "created_at": sent.created_at,
    }
