"""`/api/v1/cases`: the cases the token's user may see (same need-to-know as the desk).

`GET /api/v1/cases` lists them (newest first, `?state=` filter, `?page=` of 50); `GET /api/v1/cases/{id}`
answers one by its public id, or 404 to anyone who may not see it (audited like a desk attempt).
Token scope `cases:read`. The writes (scope `cases:write`, see `psirt.cases.api_write`) call the same
services as the desk forms: open a case from a report, move it, score it, classify it, reference it, agree a
disclosure date, assign people, write to the reporter.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from psirt.accounts.access import TokenAuth
from psirt.cases.access import get_case_for, visible_cases
from psirt.cases.models import Case
from psirt.cases.workflow import CaseState

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


from psirt.cases import api_write  # noqa: E402,F401  (registers the write routes on the router)
