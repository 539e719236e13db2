"""Desk pages of the case desk (read side): the case list and the case page.

Thin views: access through `psirt.cases.access` (404 to anyone without need-to-know), data for the
templates, nothing else. Lists are one count + one page query whatever the number of rows.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from psirt.accounts.models import Role, User
from psirt.audit.services import record
from psirt.cases import workflow
from psirt.cases.access import can_edit_case, get_case_for, visible_cases
from psirt.cases.conversation import case_reports, template_text
from psirt.cases.deadlines import due_soon_q, overdue_q, with_next_due
from psirt.cases.forms import (
    CvssForm,
    CweForm,
    DisclosureForm,
    ExploitationForm,
    MessageForm,
    PersonForm,
    ReferenceForm,
    TransitionForm,
)
from psirt.cases.message_templates import TEMPLATES
from psirt.cases.models import Case
from psirt.cases.remediation_views import remediation_context, remediation_forms
from psirt.cases.workflow import CaseState
from psirt.lib.access import staff_required
from psirt.lib.cvss import CvssError, parse_vector
from psirt.lib.cwe import all_entries as all_cwe
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
    "next_due": ("next_due", _("Next deadline"), [F("next_due").asc(nulls_last=True), F("id").asc()]),
}
DUE_FILTERS: dict[str, object] = {"": _("Any"), "overdue": _("Overdue"), "soon": _("Due soon")}
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
        "due": request.GET.get("due", "")[:10],
    }
    qs = with_next_due(visible_cases(request.user).select_related("product"))
    now = timezone.now()
    if params["due"] == "overdue":
        qs = qs.filter(overdue_q(now))
    elif params["due"] == "soon":
        qs = qs.filter(due_soon_q(now)).exclude(overdue_q(now))
    else:
        params["due"] = ""
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
            "due_filters": list(DUE_FILTERS.items()),
            "now": timezone.now(),
        },
    )


def assignable_people(case: Case) -> list[User]:
    """Active handlers and leads not yet assigned to the case."""
    return list(
        User.objects.filter(is_active=True, role__in=[Role.HANDLER, Role.LEAD])
        .exclude(assignments__case=case)
        .order_by("name", "email")
    )


def invitable_engineers(case: Case) -> list[User]:
    return list(
        User.objects.filter(is_active=True, role=Role.ENGINEER)
        .exclude(case_invitations__case=case)
        .order_by("name", "email")
    )


def _cvss_current(vector: str) -> dict[str, str]:
    try:
        return parse_vector(vector) if vector else {}
    except CvssError:
        return {}


def default_forms(case: Case) -> dict[str, Any]:
    """The forms of the case page, unbound and filled with the case's current values."""
    return {
        "transition": TransitionForm(state=case.state),
        "assign": PersonForm(people=assignable_people(case), label=_("Handler or lead")),
        "invite": PersonForm(people=invitable_engineers(case), label=_("Product engineer")),
        "cvss31": CvssForm(
            version="3.1",
            current=_cvss_current(case.cvss31_vector),
            initial={"vector": case.cvss31_vector, "shown_vector": case.cvss31_vector},
        ),
        "cvss40": CvssForm(
            version="4.0",
            current=_cvss_current(case.cvss40_vector),
            initial={"vector": case.cvss40_vector, "shown_vector": case.cvss40_vector},
        ),
        "cwe": CweForm(initial={"cwe": f"CWE-{case.cwe_id}" if case.cwe_id else ""}),
        "exploitation": ExploitationForm(
            initial={
                "status": case.exploitation,
                "aware_at": timezone.localtime(case.exploitation_aware_at) if case.exploitation_aware_at else None,
            }
        ),
        "reference": ReferenceForm(),
        "disclosure": DisclosureForm(initial={"date": case.disclosure_date}),
    }


def _conversation(case: Case) -> tuple[list[Any], list[Any]]:
    """Messages with the reporters and internal notes of every report of the case, oldest first (one query
    for the messages, one for their files)."""
    from psirt.intake.models import Message

    rows = (
        Message.objects.filter(report__case_link__case=case)
        .select_related("author", "report")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )
    with_reporter: list[Any] = []
    notes: list[Any] = []
    for m in rows:
        (notes if m.is_internal else with_reporter).append(m)
    return with_reporter, notes


def _compose_forms(request: HttpRequest, case: Case, reports: list[Any]) -> dict[str, Any]:
    """The message and note forms; `?template=KEY&report=ID` prefills the message in the reporter's language."""
    key = request.GET.get("template", "")[:40]
    chosen = next((r for r in reports if str(r.public_id) == request.GET.get("report", "")[:40]), None)
    chosen = chosen or (reports[0] if reports else None)
    initial: dict[str, Any] = {}
    if chosen is not None:
        initial["report"] = str(chosen.public_id)
        if key:
            initial["body"] = template_text(key=key, case=case, report=chosen)
    return {
        "message": MessageForm(reports=reports, initial=initial),
        "note": MessageForm(reports=reports, note=True, initial={"report": initial.get("report")}),
    }


def case_context(request: HttpRequest, case: Case, forms: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the case page shows; `forms` replaces some default forms (a bound form with errors)."""
    can_edit = can_edit_case(request.user, case)
    reports = case_reports(case)
    all_forms = (
        {**default_forms(case), **_compose_forms(request, case, reports), **remediation_forms(case)} if can_edit else {}
    )
    all_forms.update(forms or {})
    with_reporter, notes = _conversation(case)
    return {
        "case": case,
        "cwe": lookup_cwe(case.cwe_id) if case.cwe_id else None,
        "cwe_entries": all_cwe() if can_edit else [],
        "assignees": case.assignments.select_related("user").order_by("assigned_at"),
        "invitations": case.invitations.select_related("engineer").order_by("invited_at"),
        "references": case.references.all(),
        "reports": case.case_reports.select_related("report").order_by("added_at"),
        "case_report_list": reports,
        "with_reporter": with_reporter,
        "notes": notes,
        "templates": [(t.key, t.label) for t in TEMPLATES.values() if t.key != "duplicate"],
        "changes": case.state_changes.select_related("actor"),
        "next_states": [CaseState(s) for s in STATE_ORDER if s in workflow.allowed_targets(case.state)],
        "can_edit": can_edit,
        "is_lead": bool(getattr(request.user, "is_lead", False)),
        **remediation_context(case),
        "forms": all_forms,
        "calculators": [(all_forms["cvss31"], "3.1", "31"), (all_forms["cvss40"], "4.0", "40")] if can_edit else [],
        "now": timezone.now(),
    }


@staff_required
def case_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    case = get_case_for(request.user, public_id, request=request)
    # Viewing confidential data is audited (SPEC B9); the record holds who and which case, nothing else.
    record(action="case.viewed", actor=request.user, request=request, target=case)
    context = case_context(request, case)
    # The page shows the reports' conversation: each shown report is a staff view of it (intake's rule).
    from psirt.intake.services import record_staff_view

    for report in context["case_report_list"]:
        record_staff_view(report=report, user=request.user, request=request)
    return render(request, "cases/desk/case.html", context)
