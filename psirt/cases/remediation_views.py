"""The remediation part of the case page: affected ranges, mitigations, work items (forms are POST only).

Access first (404 for anyone without need-to-know, audited), then the service decides who may change what.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from psirt.accounts.models import Role, User
from psirt.cases import remediation
from psirt.cases.exceptions import CaseError
from psirt.cases.forms import MitigationForm, RangeForm, WorkItemForm
from psirt.cases.models import AffectedRange, Case, Mitigation, WorkItem
from psirt.lib.access import staff_required

MAX_RELEASES = 2000


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value[:40])
    except (ValueError, TypeError, AttributeError):
        return None


def _catalog(case: Case) -> tuple[list[tuple[str, str]], list[tuple[str, str, str, str]]]:
    """(slug, name) of every product and (public id, version, variant, product name) of the releases to pick
    from — plain tuples: a big catalog must not cost a model instance per option on every case page."""
    from psirt.catalog.models import FirmwareRelease, Product

    products = list(Product.objects.order_by("line__position", "name").values_list("slug", "name"))
    releases = FirmwareRelease.objects.order_by("product__name", "variant", "position")
    if case.product_line_id:
        # The case's own line only: keeps the lists short on a big catalog.
        releases = releases.filter(product__line_id=case.product_line_id)
    rows = releases.values_list("public_id", "version", "variant", "product__name")[:MAX_RELEASES]
    return products, [(str(pid), version, variant, name) for pid, version, variant, name in rows]


def case_people(case: Case) -> list[User]:
    """Everyone with need-to-know of the case: leads, its handlers, its invited engineers (work item owners)."""
    return list(
        User.objects.filter(is_active=True)
        .filter(
            Q(role=Role.LEAD)
            | Q(assignments__case=case)
            | Q(case_invitations__case=case)
            | Q(line_invitations__product_line_id=case.product_line_id or 0)
        )
        .distinct()
        .order_by("name", "email")
    )


def remediation_forms(case: Case) -> dict[str, Any]:
    products, releases = _catalog(case)
    initial = {"product": case.product.slug} if case.product_id and case.product else {}
    return {
        "range": RangeForm(products=products, releases=releases, initial=initial),
        "mitigation": MitigationForm(),
        "work": WorkItemForm(people=case_people(case)),
    }


def remediation_context(case: Case) -> dict[str, Any]:
    return {
        "ranges": case.affected.select_related("product", "introduced", "fixed"),
        "mitigations": case.mitigations.all(),
        "work_items": case.work_items.select_related("owner"),
    }


def _again(request: HttpRequest, case: Case, name: str, form: Any, status: int = 400) -> HttpResponse:
    from psirt.cases.actions import _again as again

    return again(request, case, name, form, status)


def _case(request: HttpRequest, public_id: Any) -> Case:
    from psirt.cases.access import get_case_for

    return get_case_for(request.user, public_id, request=request)


def _back(case: Case) -> HttpResponse:
    from psirt.cases.actions import _back as back

    return back(case, "remediation")


@staff_required
@require_POST
def range_set(request: HttpRequest, public_id: str) -> HttpResponse:
    from psirt.catalog.models import FirmwareRelease, Product

    case = _case(request, public_id)
    products, releases = _catalog(case)
    form = RangeForm(request.POST, products=products, releases=releases)
    if not form.is_valid():
        return _again(request, case, "range", form)
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
            actor=request.user,
            request=request,
        )
    except CaseError as exc:
        form.add_error(None, exc.message)
        return _again(request, case, "range", form, exc.status)
    messages.success(request, _("Affected range saved."))
    return _back(case)


@staff_required
@require_POST
def range_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    case = _case(request, public_id)
    key = _uuid(request.POST.get("range", ""))
    row = (
        AffectedRange.objects.filter(case=case, public_id=key).select_related("case", "product").first()
        if key
        else None
    )
    if row is None:
        raise Http404
    try:
        remediation.remove_affected_range(row=row, actor=request.user, request=request)
    except CaseError as exc:
        messages.error(request, exc.message)
        return _again(request, case, "range", remediation_forms(case)["range"], exc.status)
    messages.success(request, _("Affected range removed."))
    return _back(case)


@staff_required
@require_POST
def mitigation_add(request: HttpRequest, public_id: str) -> HttpResponse:
    case = _case(request, public_id)
    form = MitigationForm(request.POST)
    if not form.is_valid():
        return _again(request, case, "mitigation", form)
    try:
        remediation.add_mitigation(case=case, actor=request.user, request=request, **form.cleaned_data)
    except CaseError as exc:
        form.add_error(None, exc.message)
        return _again(request, case, "mitigation", form, exc.status)
    messages.success(request, _("Mitigation saved."))
    return _back(case)


@staff_required
@require_POST
def mitigation_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    case = _case(request, public_id)
    key = _uuid(request.POST.get("mitigation", ""))
    item = Mitigation.objects.filter(case=case, public_id=key).select_related("case").first() if key else None
    if item is None:
        raise Http404
    try:
        remediation.remove_mitigation(item=item, actor=request.user, request=request)
    except CaseError as exc:
        messages.error(request, exc.message)
        return _again(request, case, "mitigation", MitigationForm(), exc.status)
    messages.success(request, _("Mitigation removed."))
    return _back(case)


@staff_required
@require_POST
def work_add(request: HttpRequest, public_id: str) -> HttpResponse:
    case = _case(request, public_id)
    people = case_people(case)
    form = WorkItemForm(request.POST, people=people)
    if not form.is_valid():
        return _again(request, case, "work", form)
    owner = next((p for p in people if str(p.public_id) == form.cleaned_data["owner"]), None)
    try:
        remediation.add_work_item(
            case=case,
            title=form.cleaned_data["title"],
            owner=owner,
            due_date=form.cleaned_data["due_date"],
            actor=request.user,
            request=request,
        )
    except CaseError as exc:
        form.add_error(None, exc.message)
        return _again(request, case, "work", form, exc.status)
    messages.success(request, _("Work item added."))
    return _back(case)


@staff_required
@require_POST
def work_change(request: HttpRequest, public_id: str, item_id: str) -> HttpResponse:
    """Done / not done (editors and the owner), or remove (editors)."""
    case = _case(request, public_id)
    item = WorkItem.objects.filter(case=case, public_id=item_id).select_related("case").first()
    if item is None:
        raise Http404
    action = request.POST.get("action", "")[:10]
    try:
        if action in ("done", "undo"):
            remediation.set_work_item_done(item=item, done=action == "done", actor=request.user, request=request)
        elif action == "remove":
            remediation.remove_work_item(item=item, actor=request.user, request=request)
        else:
            raise Http404
    except CaseError as exc:
        messages.error(request, exc.message)
        return _again(request, case, "work", WorkItemForm(people=case_people(case)), exc.status)
    messages.success(request, _("Work item updated."))
    return _back(case)
