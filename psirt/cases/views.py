"""Desk pages of the case desk (read side): the case list and the case page.

Thin views: access through `psirt.cases.access` (404 to anyone without need-to-know), data for the
templates, nothing else. Lists are one count + one page query whatever the number of rows.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from psirt.accounts.decorators import staff_required
from psirt.audit.services import record
from psirt.cases import workflow
from psirt.cases.access import can_edit_case, get_case_for, visible_cases
from psirt.cases.models import Case
from psirt.cases.workflow import CaseState
from psirt.lib.cwe import lookup as lookup_cwe

PAGE_SIZE = 50
MAX_QUERY = 100

SORTS: dict[str, tuple[str, object, list[object]]] = {
    "newest": ("newest", _("Newest first"), [F("created_at").desc(), F("id").desc()]),
    "ack_due": (
        "ack_due",
        _("Acknowledgment due"),
        [F("ack_due_at").asc(nulls_last=True), F("id").asc()],
    ),
    "remediation_due": (
        "remediation_due",
        _("Remediation due"),
        [F("remediation_due_at").asc(nulls_last=True), F("id").asc()],
    ),
    "disclosure": ("disclosure", _("Disclosure date"), [F("disclosure_date").asc(nulls_last=True), F("id").asc()]),
    "key": ("key", _("Case number"), [F("year").asc(), F("number").asc()]),
}
# Main path first, then the exits: the order next steps are offered in.
STATE_ORDER = [*workflow.MAIN_PATH, *(s for s in CaseState.values if s not in workflow.MAIN_PATH)]
STATE_FILTERS: dict[str, object] = {
    "": _("All"),
    "open": _("Open"),
    "finished": _("Finished"),
    **dict(CaseState.choices),
}


def _filtered(request: HttpRequest) -> tuple[QuerySet[Case], dict[str, str]]:
    params = {
        "state": request.GET.get("state", "")[:30],
        # Control characters (NUL above all: PostgreSQL refuses it in a query) never match a title anyway.
        "q": " ".join("".join(ch for ch in request.GET.get("q", "")[:1000] if ch.isprintable()).split())[:MAX_QUERY],
        "sort": request.GET.get("sort", "newest")[:30],
        "mine": "1" if request.GET.get("mine") == "1" else "",
    }
    qs = visible_cases(request.user).select_related("product")
    state = params["state"]
    if state == "open":
        qs = qs.exclude(state__in=[*workflow.FINISHED, CaseState.PUBLISHED])
    elif state == "finished":
        qs = qs.filter(state__in=workflow.FINISHED)
    elif state in CaseState.values:
        qs = qs.filter(state=state)
    else:
        params["state"] = ""
    if params["q"]:
        qs = qs.filter(Q(key__icontains=params["q"]) | Q(title__icontains=params["q"]))
    if params["mine"]:
        qs = qs.filter(assignments__user_id=int(request.user.pk or 0))
    if params["sort"] not in SORTS:
        params["sort"] = "newest"
    return qs.order_by(*SORTS[params["sort"]][2]), params  # type: ignore[arg-type]


@staff_required
def case_list(request: HttpRequest) -> HttpResponse:
    qs, params = _filtered(request)
    paginator = Paginator(qs, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page", "1")[:10])
    return render(
        request,
        "cases/desk/list.html",
        {
            "page": page,
            "params": params,
            "sorts": [(key, label) for key, label, _order in SORTS.values()],
            "state_filters": list(STATE_FILTERS.items()),
            "now": timezone.now(),
        },
    )


@staff_required
def case_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    case = get_case_for(request.user, public_id, request=request)
    # Viewing confidential data is audited (SPEC B9); the record holds who and which case, nothing else.
    record(action="case.viewed", actor=request.user, request=request, target=case)
    context = {
        "case": case,
        "cwe": lookup_cwe(case.cwe_id) if case.cwe_id else None,
        "assignees": case.assignments.select_related("user").order_by("assigned_at"),
        "invitations": case.invitations.select_related("engineer").order_by("invited_at"),
        "references": case.references.all(),
        "reports": case.case_reports.select_related("report").order_by("added_at"),
        "changes": case.state_changes.select_related("actor"),
        "next_states": [CaseState(s) for s in STATE_ORDER if s in workflow.allowed_targets(case.state)],
        "can_edit": can_edit_case(request.user, case),
        "now": timezone.now(),
    }
    return render(request, "cases/desk/case.html", context)
