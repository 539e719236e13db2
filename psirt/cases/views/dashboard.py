"""The desk home panel: the signed-in person's cases by deadline, the inbox count, what is overdue or due
soon, and what awaits disclosure with its date.

A fixed number of queries whatever the number of cases (`psirt.cases.queries.dashboard_slices`: the counts of
the lists and one bounded page of each), so the home page stays fast with 100,000 cases. Shown on the desk home
through the `case_dashboard` template tag, and on its own at `desk:cases:dashboard`.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from psirt.accounts.models import User
from psirt.cases.paging import CountedPaginator
from psirt.cases.queries import dashboard_querysets, dashboard_slices, inbox_count
from psirt.lib.access import staff_required

MINE_PAGE = 20
PANEL_ROWS = 10


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    """What the panel shows for `request.user` (empty for anonymous visitors)."""
    user = request.user
    if not isinstance(user, User):
        return {"case_dashboard": None}
    now = timezone.now()
    number = request.GET.get("mine_page", "1")[:10]
    try:
        wanted = max(1, int(number))
    except ValueError:
        wanted = 1
    slices = {"mine": ((wanted - 1) * MINE_PAGE, MINE_PAGE), "overdue": (0, PANEL_ROWS), "soon": (0, PANEL_ROWS)}
    counts, rows = dashboard_slices(user, now, {**slices, "awaiting": (0, PANEL_ROWS)})
    paginator = CountedPaginator(dashboard_querysets(user, now)["mine"], MINE_PAGE, counts["mine"])
    page = paginator.get_page(number)
    if page.number == wanted:  # else a page out of range: the paginator's own page (its last) is read
        page = Page(rows["mine"], page.number, paginator)
    return {
        "case_dashboard": {
            "now": now,
            "inbox_count": inbox_count() if user.is_lead else None,
            "mine": page,
            "overdue": rows["overdue"],
            "overdue_count": counts["overdue"],
            "soon": rows["soon"],
            "soon_count": counts["soon"],
            "awaiting": rows["awaiting"],
            "awaiting_count": counts["awaiting"],
        }
    }


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/desk/dashboard.html", dashboard_context(request))
