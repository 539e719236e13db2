"""Race-free, gap-free numbering per scope and year (tracking IDs, case keys, advisory IDs)."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import F

from psirt.counters.models import Sequence
from psirt.counters.services import ratelimit
from psirt.lib.kept import Kept


def next_in_year(scope: str, year: int) -> int:
    """Next number of `year` in `scope`.

    One `UPDATE … RETURNING` (SQLite ≥ 3.35 and PostgreSQL): it takes the row lock, which is held until the
    caller's transaction ends, so two writers never get the same number and a rolled-back transaction gives
    its number back (no gaps). One statement instead of an UPDATE and a SELECT: callers take this lock last,
    just before COMMIT, and every statement after it lengthens the time other writers wait. When two first
    numbers of a year race, the loser of the INSERT takes the UPDATE path."""
    return _or_first(_increment_any(scope, year), scope, year)


def _increment_any(scope: str, year: int) -> int | None:
    """The next number of `scope` and `year` as the database can take it, or None when the year has no row."""
    database = connections[DEFAULT_DB_ALIAS]
    if not database.features.can_return_columns_from_insert:
        return _increment_then_read(scope, year)
    with database.cursor() as cursor:
        return _increment(cursor, scope, year)


def _or_first(number: int | None, scope: str, year: int) -> int:
    """`number`, or (None: the year has no row yet) the year's first number, its row created. When two first
    numbers of a year race, the loser of the INSERT takes the next number of the winner's row."""
    if number is not None:
        return number
    try:
        with transaction.atomic():
            Sequence.objects.create(scope=scope, year=year, last=1)
            return 1
    except IntegrityError:
        number = _increment_any(scope, year)
        assert number is not None  # the row the winner inserted exists now
        return number


def next_in_year_counting(scope: str, year: int, *limits: ratelimit.Limit) -> int:
    """`ratelimit.hit_all(*limits)`, then `next_in_year(scope, year)`, on one cursor. On PostgreSQL one statement
    (the hits are a WITH query of the number's UPDATE): a round trip less for a caller that takes both rows,
    which every other such caller contends for, while it holds them. Raises RateLimited as `hit_all` does,
    after the number was taken on PostgreSQL: call inside a transaction, which the refusal rolls back (the
    number is given back)."""
    database = connections[DEFAULT_DB_ALIAS]
    if not database.features.can_return_columns_from_insert:  # SQLite before 3.35: no RETURNING at all
        ratelimit.hit_all(*limits)
        return next_in_year(scope, year)
    counting = ratelimit.hits(*limits)
    if counting is None:
        return next_in_year(scope, year)
    with database.cursor() as cursor:
        if database.vendor == "postgresql":
            cursor.execute(_counting_sql(database, counting.sql), [*counting.params, scope, year])
            counted, number = cursor.fetchone()
            counting.refuse(counted)
        else:  # no data-modifying WITH queries (SQLite): two statements
            cursor.execute(counting.sql, counting.params)
            counting.refuse([row[0] for row in cursor.fetchall()])
            number = _increment(cursor, scope, year)
    return _or_first(None if number is None else int(number), scope, year)


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


# (what, vendor[, the hits' statement]) -> a statement's text, which depends on nothing else: written once per
# process.
_STATEMENTS = Kept(max_entries=64, max_age=float("inf"))


def _increment_sql(database: Any) -> str:
    """The UPDATE that takes the next number of one scope and year and returns it."""

    def write() -> str:
        q = database.ops.quote_name
        return (
            f"UPDATE {q(Sequence._meta.db_table)} SET {q('last')} = {q('last')} + 1 "  # noqa: S608
            f"WHERE {q('scope')} = %s AND {q('year')} = %s RETURNING {q('last')}"
        )

    return _STATEMENTS.get("", ("increment", database.vendor), write)


def _counting_sql(database: Any, hits_sql: str) -> str:
    """PostgreSQL: the hits' upsert (`hits_sql`) as a WITH query of the number's UPDATE; returns the keys it
    counted and the number (NULL when the year has no row yet)."""

    def write() -> str:
        q = database.ops.quote_name
        return (
            f"WITH hit AS ({hits_sql}), number AS ({_increment_sql(database)}) "  # noqa: S608
            f"SELECT ARRAY(SELECT * FROM hit), (SELECT {q('last')} FROM number)"
        )

    return _STATEMENTS.get("", ("counting", database.vendor, hits_sql), write)


def _increment(cursor: Any, scope: str, year: int) -> int | None:
    """The next number of `scope` and `year` through `cursor` (RETURNING), or None when the year has no row."""
    cursor.execute(_increment_sql(cursor.db), [scope, year])
    row = cursor.fetchone()
    return int(row[0]) if row else None


def _increment_then_read(scope: str, year: int) -> int | None:
    """`_increment` where the database has no RETURNING (SQLite before 3.35): an UPDATE, then a SELECT."""
    rows = Sequence.objects.filter(scope=scope, year=year)
    if not rows.update(last=F("last") + 1):
        return None
    return int(rows.values_list("last", flat=True).get())
