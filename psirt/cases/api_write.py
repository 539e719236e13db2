"""Write operations of `/api/v1/cases…` (token scope `cases:write`): the desk's services over JSON.

Every operation finds the case through `get_case_for` (404 to anyone without need-to-know, audited) and then
calls the same service as the desk form, so refusals are the same (403 not allowed, 409 workflow/reference
conflicts, 422 invalid values, each with a `message`).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Schema
from pydantic import Field

from psirt.accounts.models import Role, User
from psirt.accounts.tokens import TokenAuth
from psirt.cases import services
from psirt.cases.access import get_case_for, visible_cases
from psirt.cases.api import CaseDetail, _detail, router
from psirt.cases.conversation import post_message
from psirt.cases.exceptions import InvalidInput
from psirt.cases.models import Case, CaseReference

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
    value: str = Field(max_length=2000, description="CVE/CNVD/CNNVD ID or an https:// advisory link")


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
    from psirt.intake.access import get_report_for
    from psirt.intake.models import Report

    text = (ref or "").strip()
    try:
        key: Any = uuid.UUID(text)
    except ValueError:
        found = None
        if TRACKING_RE.match(text):
            found = Report.objects.filter(tracking_id=text.upper()).values_list("public_id", flat=True).first()
        key = found or uuid.uuid4()  # names nothing: the same 404 as for a report one may not see
    return get_report_for(_user(request), key, request=request)


@router.post("", response={201: CaseDetail}, auth=WRITE, summary="Open a case from an inbox report (leads)")
def open_case(request: HttpRequest, data: OpenIn) -> tuple[int, dict[str, object]]:
    report = _inbox_report(request, data.report)
    people = list(User.objects.filter(public_id__in=data.assignees, role__in=[Role.HANDLER, Role.LEAD]))
    if len(people) != len(set(data.assignees)):
        raise InvalidInput("Every assignee must be an active handler or lead (by public id).")
    case = services.open_case(report=report, actor=_user(request), title=data.title, assignees=people, request=request)
    return 201, _detail(case)


@router.post("/{case_id}/duplicates", response=CaseDetail, auth=WRITE, summary="Attach an inbox report as duplicate")
def attach_duplicate(request: HttpRequest, case_id: str, data: DuplicateIn) -> dict[str, object]:
    case = _case(request, case_id)
    report = _inbox_report(request, data.report)
    services.attach_duplicate(report=report, case=case, actor=_user(request), request=request)
    return _detail(case)


@router.post("/{case_id}/transition", response=CaseDetail, auth=WRITE, summary="Move the case along the workflow")
def transition(request: HttpRequest, case_id: str, data: TransitionIn) -> dict[str, object]:
    case = _case(request, case_id)
    duplicate_of = None
    if data.duplicate_of:
        key = data.duplicate_of.strip().upper()
        duplicate_of = visible_cases(_user(request)).filter(key=key).first() if CASE_KEY_RE.match(key) else None
        if duplicate_of is None:
            raise InvalidInput("duplicate_of: give the key of a case you can see, e.g. CASE-2026-0012.")
    services.transition(
        case=case,
        to_state=data.to_state,
        actor=_user(request),
        reason=data.reason,
        duplicate_of=duplicate_of,
        request=request,
    )
    return _detail(case)


@router.put("/{case_id}/cvss", response=CaseDetail, auth=WRITE, summary="Score a CVSS v3.1 or v4.0 vector")
def cvss(request: HttpRequest, case_id: str, data: VectorIn) -> dict[str, object]:
    case = _case(request, case_id)
    services.set_cvss(case=case, vector=data.vector, actor=_user(request), request=request)
    return _detail(case)


@router.put("/{case_id}/cwe", response=CaseDetail, auth=WRITE, summary="Set or clear the CWE")
def cwe(request: HttpRequest, case_id: str, data: CweIn) -> dict[str, object]:
    case = _case(request, case_id)
    value = data.cwe if isinstance(data.cwe, int) else (str(data.cwe)[:32] if data.cwe is not None else None)
    services.set_cwe(case=case, cwe=value, actor=_user(request), request=request)
    return _detail(case)


@router.put("/{case_id}/exploitation", response=CaseDetail, auth=WRITE, summary="Exploitation status")
def exploitation(request: HttpRequest, case_id: str, data: ExploitationIn) -> dict[str, object]:
    case = _case(request, case_id)
    services.set_exploitation(
        case=case, status=data.status, aware_at=data.aware_at, actor=_user(request), request=request
    )
    return _detail(case)


@router.post("/{case_id}/references", response={201: CaseDetail}, auth=WRITE, summary="Add a reference")
def add_reference(request: HttpRequest, case_id: str, data: ReferenceIn) -> tuple[int, dict[str, object]]:
    case = _case(request, case_id)
    services.add_reference(case=case, value=data.value, actor=_user(request), request=request)
    return 201, _detail(case)


@router.delete("/{case_id}/references", response=CaseDetail, auth=WRITE, summary="Remove a reference (?value=)")
def remove_reference(request: HttpRequest, case_id: str, value: str = "") -> dict[str, object]:
    case = _case(request, case_id)
    reference = (
        CaseReference.objects.filter(case=case, value=value[:2000]).select_related("case").first()
        if "\x00" not in value
        else None
    )
    if reference is None:
        from django.http import Http404

        raise Http404
    services.remove_reference(reference=reference, actor=_user(request), request=request)
    return _detail(case)


@router.put("/{case_id}/disclosure", response=CaseDetail, auth=WRITE, summary="Agreed disclosure date")
def disclosure(request: HttpRequest, case_id: str, data: DisclosureIn) -> dict[str, object]:
    case = _case(request, case_id)
    services.set_disclosure_date(case=case, date=data.date, actor=_user(request), request=request)
    return _detail(case)


@router.post("/{case_id}/assignees", response=CaseDetail, auth=WRITE, summary="Assign a handler (leads)")
def assign(request: HttpRequest, case_id: str, data: PersonIn) -> dict[str, object]:
    case = _case(request, case_id)
    user = User.objects.filter(public_id=data.user).first()
    if user is None:
        raise InvalidInput("user: no such user.")
    services.assign(case=case, user=user, actor=_user(request), request=request)
    return _detail(case)


class MessageOut(Schema):
    id: uuid.UUID
    report: str
    internal: bool
    created_at: dt.datetime


@router.post("/{case_id}/messages", response={201: MessageOut}, auth=WRITE, summary="Write to the reporter or a note")
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
