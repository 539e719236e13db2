"""Race-free, gap-free numbering per year (tracking IDs, case keys, advisory IDs)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F


def next_in_year(model: Any, year: int) -> int:
    """Next number of `year` in `model` (a table with `year` as primary key and a `last` counter).

    One `UPDATE … RETURNING` (SQLite ≥ 3.35 and PostgreSQL): it takes the row lock, which is held until the
    caller's transaction ends, so two writers never get the same number and a rolled-back transaction gives
    its number back (no gaps). One statement instead of an UPDATE and a SELECT: callers take this lock last,
    just before COMMIT, and every statement after it lengthens the time other writers wait. When two first
    numbers of a year race, the loser of the INSERT takes the UPDATE path."""
    number = _increment(model, year)
    if number is not None:
        return number
    try:
        with transaction.atomic():
            model.objects.create(year=year, last=1)
            return 1
    except IntegrityError:
        number = _increment(model, year)
        assert number is not None  # the row the winner inserted exists now
        return number


def _increment(model: Any, year: int) -> int | None:
    if not connection.features.can_return_columns_from_insert:  # SQLite before 3.35: no RETURNING
        if not model.objects.filter(year=year).update(last=F("last") + 1):
            return None
        return int(model.objects.values_list("last", flat=True).get(year=year))
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {q('last')} = {q('last')} + 1 WHERE {q('year')} = %s RETURNING {q('last')}",  # noqa: S608
            [year],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None
