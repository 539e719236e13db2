"""Triage of an inbox report: open a case from it, or attach it to an existing case as a duplicate.

Inbox reports are leads-only (psirt.intake.access): to anyone else these pages do not exist (404). The page
suggests likely duplicates (same product, similar text — compared in Python because report texts are
encrypted at rest).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from psirt.accounts.access import desk_user
from psirt.cases.access import visible_cases
from psirt.cases.exceptions import CaseError
from psirt.cases.forms import AttachForm, OpenCaseForm
from psirt.cases.queries import handlers_and_leads
from psirt.cases.services import cases as case_services
from psirt.cases.services.duplicates import suggest_duplicates
from psirt.intake.access import get_report_for
from psirt.intake.models import InboxState, Report
from psirt.intake.services import description_for_staff, record_staff_view
from psirt.lib.access import lead_required


def _inbox_report(request: HttpRequest, public_id: object) -> Report:
    report = get_report_for(request.user, public_id, request=request)
    if report.inbox_state != InboxState.NEW:
        # Already in a case: triage is over; the report page (through its case) is the place to go.
        raise Http404
    return report


def _page(
    request: HttpRequest,
    report: Report,
    *,
    open_form: OpenCaseForm | None = None,
    attach_form: AttachForm | None = None,
    status: int = 200,
) -> HttpResponse:
    record_staff_view(report=report, user=desk_user(request), request=request)
    description = description_for_staff(report)
    context = {
        "report": report,
        "description": description,
        "suggestions": suggest_duplicates(report=report, user=desk_user(request)),
        "open_form": open_form
        or OpenCaseForm(people=handlers_and_leads(), initial={"title": _suggested_title(report, description.text)}),
        "attach_form": attach_form or AttachForm(),
    }
    return render(request, "cases/desk/triage.html", context, status=status)


def _suggested_title(report: Report, text: str) -> str:
    first = " ".join((text or "").strip().splitlines()[0].split())[:120] if (text or "").strip() else ""
    if report.description_is_pgp and first.startswith("-----BEGIN"):
        first = ""
    label = report.product_label or ""
    return (f"{label}: {first}" if label and first else first or label)[:200]


@lead_required
def triage(request: HttpRequest, public_id: str) -> HttpResponse:
    return _page(request, _inbox_report(request, public_id))


@lead_required
@require_POST
def open_case(request: HttpRequest, public_id: str) -> HttpResponse:
    report = _inbox_report(request, public_id)
    form = OpenCaseForm(request.POST, people=handlers_and_leads())
    if not form.is_valid():
        return _page(request, report, open_form=form, status=400)
    chosen = set(form.cleaned_data["assignees"])
    assignees = [p for p in handlers_and_leads() if str(p.public_id) in chosen]
    try:
        case = case_services.open_case(
            report=report,
            actor=desk_user(request),
            title=form.cleaned_data["title"],
            assignees=assignees,
            request=request,
        )
    except CaseError as exc:
        form.add_error(None, exc.message)
        return _page(request, report, open_form=form, status=exc.status)
    messages.success(request, _("Case %(key)s opened.") % {"key": case.key})
    return HttpResponseRedirect(reverse("desk:cases:case", args=[case.public_id]))


@lead_required
@require_POST
def attach(request: HttpRequest, public_id: str) -> HttpResponse:
    report = _inbox_report(request, public_id)
    form = AttachForm(request.POST)
    if not form.is_valid():
        return _page(request, report, attach_form=form, status=400)
    key = " ".join(form.cleaned_data["case"].split()).upper()
    case = visible_cases(request.user).filter(key=key).first()  # the form already refused NUL bytes
    if case is None:
        form.add_error("case", _("No case has this number. Write it as CASE-2026-0012."))
        return _page(request, report, attach_form=form, status=422)
    try:
        link = case_services.attach_duplicate(report=report, case=case, actor=desk_user(request), request=request)
    except CaseError as exc:
        form.add_error(None, exc.message)
        return _page(request, report, attach_form=form, status=exc.status)
    if link.credited:
        messages.success(
            request,
            _("%(report)s attached to %(case)s as a duplicate; it came first, so its reporter will be credited.")
            % {"report": report.tracking_id, "case": case.key},
        )
    else:
        text = _("%(report)s attached to %(case)s as a duplicate.")
        messages.success(request, text % {"report": report.tracking_id, "case": case.key})
    return HttpResponseRedirect(reverse("desk:cases:case", args=[case.public_id]))
