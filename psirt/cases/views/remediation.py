"""The remediation part of the case page: affected ranges, mitigations, work items (forms are POST only).

Access first (404 for anyone without need-to-know, audited), then the service decides who may change what.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from psirt.accounts.access import desk_user
from psirt.cases.exceptions import CaseError
from psirt.cases.forms import MitigationForm, RangeForm, WorkItemForm
from psirt.cases.models import AffectedRange, Case, Mitigation, WorkItem
from psirt.cases.queries import case_people, range_choices
from psirt.cases.services import remediation
from psirt.cases.views.context import back_to_case, case_or_404, case_page_again, remediation_forms
from psirt.catalog.models import FirmwareRelease, Product
from psirt.lib.access import staff_required


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value[:40])
    except (ValueError, TypeError, AttributeError):
        return None


def _back(case: Case) -> HttpResponse:
    return back_to_case(case, "remediation")


@staff_required
@require_POST
def range_set(request: HttpRequest, public_id: str) -> HttpResponse:
    case = case_or_404(request, public_id)
    products, releases = range_choices(case)
    form = RangeForm(request.POST, products=products, releases=releases)
    if not form.is_valid():
        return case_page_again(request, case, "range", form)
    data = form.cleaned_data
    product = Product.objects.get(slug=data["product"])
    by_id = {
        str(r.public_id): r
        for r in FirmwareRelease.objects.filter(public_id__in=[data["introduced"] or None, data["fixed"] or None])
    }
    try:
        remediation.set_affected_range(
            case=case,
            product=product,
            variant=data["variant"],
            introduced=by_id.get(data["introduced"]),
            fixed=by_id.get(data["fixed"]),
            actor=desk_user(request),
            request=request,
        )
    except CaseError as exc:
        form.add_error(None, exc.message)
        return case_page_again(request, case, "range", form, exc.status)
    messages.success(request, _("Affected range saved."))
    return _back(case)


@staff_required
@require_POST
def range_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    case = case_or_404(request, public_id)
    key = _uuid(request.POST.get("range", ""))
    row = (
        AffectedRange.objects.filter(case=case, public_id=key).select_related("case", "product").first()
        if key
        else None
    )
    if row is None:
        raise Http404
    try:
        remediation.remove_affected_range(row=row, actor=desk_user(request), request=request)
    except CaseError as exc:
        messages.error(request, exc.message)
        return case_page_again(request, case, "range", remediation_forms(case)["range"], exc.status)
    messages.success(request, _("Affected range removed."))
    return _back(case)


@staff_required
@require_POST
def mitigation_add(request: HttpRequest, public_id: str) -> HttpResponse:
    case = case_or_404(request, public_id)
    form = MitigationForm(request.POST)
    if not form.is_valid():
        return case_page_again(request, case, "mitigation", form)
    try:
        remediation.add_mitigation(case=case, actor=desk_user(request), request=request, **form.cleaned_data)
    except CaseError as exc:
        form.add_error(None, exc.message)
        return case_page_again(request, case, "mitigation", form, exc.status)
    messages.success(request, _("Mitigation saved."))
    return _back(case)


@staff_required
@require_POST
def mitigation_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    case = case_or_404(request, public_id)
    key = _uuid(request.POST.get("mitigation", ""))
    item = Mitigation.objects.filter(case=case, public_id=key).select_related("case").first() if key else None
    if item is None:
        raise Http404
    try:
        remediation.remove_mitigation(item=item, actor=desk_user(request), request=request)
    except CaseError as exc:
        messages.error(request, exc.message)
        return case_page_again(request, case, "mitigation", MitigationForm(), exc.status)
    messages.success(request, _("Mitigation removed."))
    return _back(case)


@staff_required
@require_POST
def work_add(request: HttpRequest, public_id: str) -> HttpResponse:
    case = case_or_404(request, public_id)
    people = case_people(case)
    form = WorkItemForm(request.POST, people=people)
    if not form.is_valid():
        return case_page_again(request, case, "work", form)
    owner = next((p for p in people if str(p.public_id) == form.cleaned_data["owner"]), None)
    try:
        remediation.add_work_item(
            case=case,
            title=form.cleaned_data["title"],
            owner=owner,
            due_date=form.cleaned_data["due_date"],
            actor=desk_user(request),
            request=request,
        )
    except CaseError as exc:
        form.add_error(None, exc.message)
        return case_page_again(request, case, "work", form, exc.status)
    messages.success(request, _("Work item added."))
    return _back(case)


@staff_required
@require_POST
def work_change(request: HttpRequest, public_id: str, item_id: str) -> HttpResponse:
    """Done / not done (editors and the owner), or remove (editors)."""
    case = case_or_404(request, public_id)
    item = WorkItem.objects.filter(case=case, public_id=item_id).select_related("case").first()
    if item is None:
        raise Http404
    action = request.POST.get("action", "")[:10]
    try:
        if action in ("done", "undo"):
            remediation.set_work_item_done(item=item, done=action == "done", actor=desk_user(request), request=request)
        elif action == "remove":
            remediation.remove_work_item(item=item, actor=desk_user(request), request=request)
        else:
            raise Http404
    except CaseError as exc:
        messages.error(request, exc.message)
        return case_page_again(request, case, "work", WorkItemForm(people=case_people(case)), exc.status)
    messages.success(request, _("Work item updated."))
    return _back(case)
