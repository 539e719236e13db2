"""The cases behind a number: the case list narrowed by a cell of the metrics page.

Registered with `psirt.cases.list_filters` from `MetricsConfig.ready`. The link carries the page's filters with
an `m_` prefix (so they never clash with the list's own parameters) and `metric`, the cell; the list then
shows exactly the cases `psirt.metrics.queries.cell_cases` counted, among those the person may see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from psirt.cases.list_filters import Narrowed
from psirt.metrics.exceptions import MetricsError
from psirt.metrics.queries import Filters, cell_cases, parse_filters

PREFIX = "m_"
MAX_CELL = 120


def link_query(filters: Filters, cell: str) -> dict[str, str]:
    """The case list's parameters for the cases behind `cell` under `filters`."""
    return {"metric": cell, **{PREFIX + k: v for k, v in filters.as_query().items()}}


def cases_url(filters: Filters, cell: str, *, base: str = "") -> str:
    """The case list's URL for the cases behind `cell`; pass `base` (the list's path) when building many."""
    return f"{base or reverse('desk:cases:list')}?{urlencode(link_query(filters, cell))}"


def metrics_url(filters: Filters) -> str:
    return f"{reverse('desk:metrics:page')}?{urlencode(filters.as_query())}"


def narrow_by_metric(user: Any, qs: QuerySet[Any], query: Mapping[str, str]) -> Narrowed | None:
    """The case-list filter: None unless the link names a metric cell."""
    cell = (query.get("metric") or "")[:MAX_CELL]
    if not cell:
        return None
    own = {k[len(PREFIX) :]: v for k, v in query.items() if k.startswith(PREFIX)}
    try:
        filters = parse_filters(own)
        behind = cell_cases(user, filters, cell)
    except MetricsError as exc:
        return Narrowed(cases=qs.none(), params={}, error=str(exc.message))
    params = link_query(filters, cell)
    period = f"{filters.start.isoformat()} – {filters.end.isoformat()}"
    return Narrowed(
        cases=qs.filter(pk__in=behind.values("pk")),
        params=params,
        description=_("The cases behind a number of the metrics page (%(period)s).") % {"period": period},
        back_url=metrics_url(filters),
    )
