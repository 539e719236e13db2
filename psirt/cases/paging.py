"""Pages of the case desk's lists when counting them is the expensive part.

`CountedPaginator` is a paginator told its count (computed with something else). `one_pass_page` answers a page
and the number of rows from one read of the matching rows: a text search reads every case (a substring of a
title cannot be looked up in a B-tree index), and a count followed by a page would read them all twice.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window
from django.utils.functional import cached_property


class CountedPaginator(Paginator[Any]):
    """A paginator told how many rows its list holds."""

    def __init__(self, object_list: Any, per_page: int, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def one_pass_page(qs: QuerySet[Any], number: object, per_page: int) -> Page[Any]:
    """The page `number` of `qs` as `Paginator.get_page` answers it (the first page for a number that is not
    one, the last for one out of range) with its paginator's count, from one query over the matching rows that
    returns the page's ids with the total (`COUNT(*) OVER ()`), then the page's rows by primary key. Only a
    page out of range costs a plain count more."""
    try:
        wanted = int(str(number))
    except ValueError:
        wanted = 1
    ids_and_total = qs.annotate(total_rows=Window(Count("pk"))).values_list("pk", "total_rows")

    def ids_of(n: int) -> list[tuple[Any, int]]:
        return list(ids_and_total[(n - 1) * per_page : n * per_page]) if n >= 1 else []

    rows = ids_of(wanted)
    if rows:
        total = int(rows[0][1])
    else:
        total = qs.count()
        last = max(1, -(-total // per_page))
        if wanted != 1:
            wanted = last
            rows = ids_of(wanted) if total else []
    found = {obj.pk: obj for obj in qs.filter(pk__in=[pk for pk, _n in rows]).order_by()} if rows else {}
    return Page([found[pk] for pk, _n in rows if pk in found], wanted, CountedPaginator(qs, per_page, total))
