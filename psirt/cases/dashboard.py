"""The desk home panel (SPEC B3, issue 4 §9): the signed-in person's cases by deadline, the inbox count,
what is overdue or due soon, and what awaits disclosure with its date.

A fixed number of queries whatever the number of cases (each list is a count + one bounded page), so the
home page stays fast with 10,000 cases. Shown on the desk home through the `case_dashboard` template tag,
and on its own at `desk:cases:dashboard`.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from psirt.cases.access import visible_cases
from psirt.cases.deadlines import due_soon_q, overdue_q, with_next_due
from psirt.cases.workflow import FINISHED, CaseState
from psirt.lib.access import staff_required

MINE_PAGE = 20
PANEL_ROWS = 10


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    """What the panel shows for `request.user` (empty for anonymous visitors)."""
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return {"case_dashboard": None}
    now = timezone.now()
    visible = visible_cases(user).select_related("product")
    open_visible = visible.exclude(state__in=[*FINISHED, CaseState.PUBLISHED])
    if getattr(user, "is_engineer", False):
        mine = open_visible
    else:
        mine = open_visible.filter(assignments__user_id=int(user.pk or 0))
    mine = with_next_due(mine).order_by(F("next_due").asc(nulls_last=True), "id")
    page = Paginator(mine, MINE_PAGE).get_page(request.GET.get("mine_page", "1")[:10])

    overdue = with_next_due(visible.filter(overdue_q(now))).order_by(F("next_due").asc(nulls_last=True), "id")
    soon = with_next_due(visible.filter(due_soon_q(now)).exclude(overdue_q(now))).order_by(
        F("next_due").asc(nulls_last=True), F("disclosure_date").asc(nulls_last=True), "id"
    )
    awaiting = visible.filter(state=CaseState.AWAITING_DISCLOSURE).order_by(
        F("disclosure_date").asc(nulls_last=True), "id"
    )
    inbox = None
    if getattr(user, "is_lead", False):
        from psirt.intake.models import InboxState, Report

        inbox = Report.objects.filter(inbox_state=InboxState.NEW).count()
    return {
        "case_dashboard": {
            "now": now,
            "inbox_count": inbox,
            "mine": page,
            "overdue": list(overdue[:PANEL_ROWS]),
            "overdue_count": overdue.count(),
            "soon": list(soon[:PANEL_ROWS]),
            "soon_count": soon.count(),
            "awaiting": list(awaiting[:PANEL_ROWS]),
            "awaiting_count": awaiting.count(),
        }
    }


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/desk/dashboard.html", dashboard_context(request))
