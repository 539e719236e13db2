"""Race-free numbering per year (tracking IDs, case keys, advisory IDs)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F


def next_in_year(model: Any, year: int) -> int:
    """Next number of `year` in `model` (a table with `year` as primary key and a `last` counter).

    The UPDATE holds the row lock until the caller's transaction ends, so two writers never get the same
    number; when two first numbers of a year race, the loser of the INSERT takes the UPDATE path."""
    if model.objects.filter(year=year).update(last=F("last") + 1):
        return int(model.objects.values_list("last", flat=True).get(year=year))
    try:
        with transaction.atomic():
            model.objects.create(year=year, last=1)
            return 1
    except IntegrityError:
        model.objects.filter(year=year).update(last=F("last") + 1)
        return int(model.objects.values_list("last", flat=True).get(year=year))
