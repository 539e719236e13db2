"""The desk home panel: the signed-in person's cases by deadline, the inbox count, what is overdue or due
soon, and what awaits disclosure with its date.

A fixed number of queries whatever the number of cases (the counts of the lists, then one bounded page of
each), so the home page stays fast with 100,000 cases. Shown on the desk home through the `case_dashboard`
template tag, and on its own at `desk:cases:dashboard`.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from psirt.accounts.models import User
from psirt.cases.paging import CountedPaginator
from psirt.cases.queries import dashboard_counts, dashboard_querysets, inbox_count
from psirt.lib.access import staff_required

MINE_PAGE = 20
PANEL_ROWS = 10


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    """What the panel shows for `request.user` (empty for anonymous visitors)."""
    user = request.user
    if not isinstance(user, User):
        return {"case_dashboard": None}
    now = timezone.now()
    lists = dashboard_querysets(user, now)
    counts = dashboard_counts(user, now)
    paginator = CountedPaginator(lists["mine"], MINE_PAGE, counts["mine"])
    page = paginator.get_page(request.GET.get("mine_page", "1")[:10])
    return {
        "case_dashboard": {
            "now": now,
            "inbox_count": inbox_count() if user.is_lead else None,
            "mine": page,
            "overdue": list(lists["overdue"][:PANEL_ROWS]),
            "overdue_count": counts["overdue"],
            "soon": list(lists["soon"][:PANEL_ROWS]),
            "soon_count": counts["soon"],
            "awaiting": list(lists["awaiting"][:PANEL_ROWS]),
            "awaiting_count": counts["awaiting"],
        }
    }


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/desk/dashboard.html", dashboard_context(request))
