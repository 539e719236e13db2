"""Extra filters of the case list, answered by apps above cases.

The metrics page links each of its numbers to the cases behind it: the case list, narrowed by the same rule
that counted them. Cases may not import metrics (it sits above them), so such an app registers a filter at
start-up (`register`, from its `AppConfig.ready`); the list applies every registered filter to the cases the
person may see (`visible_cases`) and keeps the parameters it understood in its paging links.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet


@dataclass(frozen=True)
class Narrowed:
    """What a filter made of the list: the cases, the parameters to keep in links, a sentence saying what the
    list shows (or why it shows nothing: `error`), and where to go back to."""

    cases: QuerySet[Any]
    params: dict[str, str]
    description: str = ""
    error: str = ""
    back_url: str = ""


# A filter takes (user, visible cases, the query parameters) and answers None when the parameters are not its own.
ListFilter = Callable[[Any, QuerySet[Any], Mapping[str, str]], Narrowed | None]

FILTERS: list[ListFilter] = []


def register(list_filter: ListFilter) -> None:
    """Add a filter of the case list (once per process; a second registration of the same function is ignored)."""
    if list_filter not in FILTERS:
        FILTERS.append(list_filter)


def narrow(user: Any, qs: QuerySet[Any], query: Mapping[str, str]) -> tuple[QuerySet[Any], list[Narrowed]]:
    """Apply every registered filter that recognises its parameters; answers the cases and what each did."""
    applied: list[Narrowed] = []
    for list_filter in FILTERS:
        result = list_filter(user, qs, query)
        if result is not None:
            qs = result.cases
            applied.append(result)
    return qs, applied
