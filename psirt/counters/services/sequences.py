"""Race-free, gap-free numbering per scope and year (tracking IDs, case keys, advisory IDs)."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from psirt.counters.models import Sequence
from psirt.counters.services import ratelimit


def next_in_year(scope: str, year: int) -> int:
    """Next number of `year` in `scope`.

    One `UPDATE … RETURNING` (SQLite ≥ 3.35 and PostgreSQL): it takes the row lock, which is held until the
    caller's transaction ends, so two writers never get the same number and a rolled-back transaction gives
    its number back (no gaps). One statement instead of an UPDATE and a SELECT: callers take this lock last,
    just before COMMIT, and every statement after it lengthens the time other writers wait. When two first
    numbers of a year race, the loser of the INSERT takes the UPDATE path."""
    number = _increment(scope, year)
    if number is not None:
        return number
    try:
        with transaction.atomic():
            Sequence.objects.create(scope=scope, year=year, last=1)
            return 1
    except IntegrityError:
        number = _increment(scope, year)
        assert number is not None  # the row the winner inserted exists now
        return number


def next_in_year_counting(scope: str, year: int, *limits: ratelimit.Limit) -> int:
    """`ratelimit.hit_all(*limits)`, then `next_in_year(scope, year)`. On PostgreSQL one statement (the hits are a
    WITH query of the number's UPDATE): a round trip less for a caller that takes both rows, which every other
    such caller contends for, while it holds them. Raises RateLimited as `hit_all` does, after the number was
    taken: call inside a transaction, which the refusal rolls back (the number is given back)."""
    if connection.vendor != "postgresql":  # no data-modifying WITH queries (SQLite): two statements
        ratelimit.hit_all(*limits)
        return next_in_year(scope, year)
    counting = ratelimit.hits(*limits)
    if counting is None:
        return next_in_year(scope, year)
    q = connection.ops.quote_name
    table = q(Sequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH hit AS ({counting.sql}), number AS (UPDATE {table} SET {q('last')} = {q('last')} + 1 "  # noqa: S608
            f"WHERE {q('scope')} = %s AND {q('year')} = %s RETURNING {q('last')}) "
            f"SELECT ARRAY(SELECT * FROM hit), (SELECT {q('last')} FROM number)",
            [*counting.params, scope, year],
        )
        counted, number = cursor.fetchone()
    counting.refuse(counted)
    if number is not None:
        return int(number)
    return next_in_year(scope, year)  # the year's first number: its row is created there


def move_past(scope: str, year: int, number: int) -> None:
    """Make sure `next_in_year(scope, year)` never issues `number` or anything below it (a number taken from
    outside, e.g. an imported document's own ID). Never lowers the counter; safe against a concurrent first
    number of that year."""
    rows = Sequence.objects.filter(scope=scope, year=year)
    if rows.filter(last__lt=number).update(last=number) or rows.exists():
        return
    try:
        with transaction.atomic():
            Sequence.objects.create(scope=scope, year=year, last=number)
    except IntegrityError:  # a concurrent first number of that year: raise it past ours
        rows.filter(last__lt=number).update(last=number)


def _increment(scope: str, year: int) -> int | None:
    if not connection.features.can_return_columns_from_insert:  # SQLite before 3.35: no RETURNING
        rows = Sequence.objects.filter(scope=scope, year=year)
        if not rows.update(last=F("last") + 1):
            return None
        return int(rows.values_list("last", flat=True).get())
    q = connection.ops.quote_name
    table = q(Sequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {q('last')} = {q('last')} + 1 "  # noqa: S608
            f"WHERE {q('scope')} = %s AND {q('year')} = %s RETURNING {q('last')}",
            [scope, year],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None
