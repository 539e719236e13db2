"""The case list: the cases the signed-in person may see, filtered, sorted and paged.

One count and one page query whatever the number of rows (one query for both, and the page's rows by id, for
a text search).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from psirt.accounts.access import desk_user
from psirt.cases.list_filters import narrow
from psirt.cases.paging import one_pass_page
from psirt.cases.queries import DUE_FILTERS, SORTS, STATE_FILTERS, filter_cases
from psirt.lib.access import staff_required

PAGE_SIZE = 50


@staff_required
def case_list(request: HttpRequest) -> HttpResponse:
    user = desk_user(request)
    qs, params = filter_cases(user, request.GET)
    # Filters of the apps above (the metrics page's "cases behind this number"), over the same visible cases.
    qs, narrowed = narrow(user, qs, request.GET)
    number = request.GET.get("page", "1")[:10]
    # A text search reads every case: its count and its page come from one pass instead of two.
    page = one_pass_page(qs, number, PAGE_SIZE) if params["q"] else Paginator(qs, PAGE_SIZE).get_page(number)
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
            "narrowed": narrowed,
            "extra_query": urlencode({k: v for n in narrowed for k, v in n.params.items()}),
        },
    )
