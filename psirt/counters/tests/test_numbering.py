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

from psirt.counters.models import Sequence
from psirt.counters.services import sequences
from psirt.counters.services.sequences import move_past, next_in_year

pytestmark = pytest.mark.django_db


# The way without RETURNING exists for SQLite before 3.35, and only SQLite's backend can insert without it.
WAYS = ["returning", "update then select"] if connection.vendor == "sqlite" else ["returning"]


@pytest.fixture(params=WAYS)
def counting(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test runs with RETURNING and, on SQLite, also as on SQLite before 3.35, without it."""
    if request.param != "returning":
        monkeypatch.setattr(connection.features, "can_return_columns_from_insert", False)
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
