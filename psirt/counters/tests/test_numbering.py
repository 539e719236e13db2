"""The numbering rules at unit level: both ways of counting (UPDATE … RETURNING, and UPDATE then SELECT where the
database has no RETURNING), a first number of a year that another writer takes at the same moment, and numbers
moved past from outside."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection, transaction

from psirt.counters.exceptions import RateLimited
from psirt.counters.models import RateCounter, Sequence
from psirt.counters.services import ratelimit, sequences
from psirt.counters.services.ratelimit import Limit
from psirt.counters.services.sequences import move_past, next_in_year, next_in_year_counting

pytestmark = pytest.mark.django_db


# The way without RETURNING exists for SQLite before 3.35, and only SQLite's backend can insert without it.
WAYS = ["returning", "update then select"] if connection.vendor == "sqlite" else ["returning"]


def without_returning(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    """A database before RETURNING (SQLite before 3.35) refuses the word."""
    if "RETURNING" in sql.upper():
        raise AssertionError(f"this database has no RETURNING: {sql}")
    return execute(sql, params, many, context)


@pytest.fixture(params=WAYS)
def counting(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test runs with RETURNING and, on SQLite, also as on SQLite before 3.35, without it."""
    if request.param == "returning":
        yield str(request.param)
        return
    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", False)
    with connection.execute_wrapper(without_returning):
        yield str(request.param)


def counters() -> dict[tuple[str, int], int]:
    return {(s.scope, s.year): s.last for s in Sequence.objects.all()}


def test_numbers_count_up_per_scope_and_year(counting: str) -> None:
    assert [next_in_year("case", 2026) for _ in range(3)] == [1, 2, 3]
    assert next_in_year("case", 2027) == 1
    assert next_in_year("advisory", 2026) == 1
    assert next_in_year("case", 2026) == 4
    assert counters() == {("case", 2026): 4, ("case", 2027): 1, ("advisory", 2026): 1}


def test_a_counter_row_of_another_scope_or_year_is_never_touched(counting: str) -> None:
    Sequence.objects.create(scope="case", year=2025, last=40)
    Sequence.objects.create(scope="advisory", year=2026, last=7)
    assert next_in_year("case", 2026) == 1
    assert next_in_year("case", 2026) == 2
    assert counters() == {("case", 2025): 40, ("advisory", 2026): 7, ("case", 2026): 2}


def race_on_create(monkeypatch: pytest.MonkeyPatch, *, scope: str, last: int) -> None:
    """Another writer commits the year's first row (its counter at `last`) after this one found none, just before
    this one opens its INSERT."""

    def atomic_after_the_other() -> Any:
        monkeypatch.setattr(sequences, "transaction", transaction)
        Sequence.objects.bulk_create([Sequence(scope=scope, year=2026, last=last)])
        return transaction.atomic()

    monkeypatch.setattr(sequences, "transaction", SimpleNamespace(atomic=atomic_after_the_other))


def test_the_loser_of_a_race_for_the_first_number_takes_the_next_one(
    counting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    race_on_create(monkeypatch, scope="case", last=1)
    assert next_in_year("case", 2026) == 2
    assert counters() == {("case", 2026): 2}


def test_move_past_raises_a_counter_but_never_lowers_it(counting: str) -> None:
    move_past("advisory", 2026, 7)
    assert counters() == {("advisory", 2026): 7}
    move_past("advisory", 2026, 3)
    move_past("advisory", 2026, 7)
    assert counters() == {("advisory", 2026): 7}
    move_past("advisory", 2026, 9)
    move_past("advisory", 2025, 2)
    assert counters() == {("advisory", 2026): 9, ("advisory", 2025): 2}
    assert next_in_year("advisory", 2026) == 10


@pytest.mark.parametrize(("theirs", "expected"), [(2, 7), (9, 9)])
def test_move_past_a_concurrent_first_number_keeps_the_higher_counter(
    monkeypatch: pytest.MonkeyPatch, theirs: int, expected: int
) -> None:
    race_on_create(monkeypatch, scope="advisory", last=theirs)
    move_past("advisory", 2026, 7)
    assert counters() == {("advisory", 2026): expected}


def test_the_next_number_of_a_year_costs_one_statement(
    counting: str, django_assert_num_queries: Callable[[int], AbstractContextManager[Any]]
) -> None:
    """Callers number last, just before COMMIT, holding the row lock: every statement more keeps other writers
    waiting. With RETURNING the UPDATE answers the number itself; without it a SELECT follows."""
    assert next_in_year("case", 2026) == 1
    with django_assert_num_queries(1 if counting == "returning" else 2):
        assert next_in_year("case", 2026) == 2


def test_move_past_touches_only_its_own_scope(counting: str) -> None:
    Sequence.objects.create(scope="case", year=2026, last=3)
    move_past("advisory", 2026, 7)
    move_past("case", 2026, 5)
    assert counters() == {("case", 2026): 5, ("advisory", 2026): 7}


def test_numbering_while_counting_counts_every_limit_and_gives_a_refused_number_back(
    counting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit, "_sample_purge", lambda: None)
    address = Limit("report_ip", "192.0.2.80", (5, 3600))
    mail = Limit("report_email", "c@research.test", (2, 3600))
    assert [next_in_year_counting("tracking", 2026, address, mail) for _ in range(2)] == [1, 2]
    assert next_in_year_counting("tracking", 2027, address) == 1
    with pytest.raises(RateLimited), transaction.atomic():
        next_in_year_counting("tracking", 2026, address, mail)
    assert next_in_year_counting("tracking", 2026) == 3
    assert counters() == {("tracking", 2026): 3, ("tracking", 2027): 1}
    assert dict(RateCounter.objects.values_list("key", "count")) == {address.key: 3, mail.key: 2}
