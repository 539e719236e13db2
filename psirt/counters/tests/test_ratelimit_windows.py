"""Rate-limit windows: each fixed window counts on its own row, its bounds written as the database takes them, and
counting with numbering costs as few statements as each database allows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings

from psirt.counters.exceptions import RateLimited
from psirt.counters.models import RateCounter
from psirt.counters.services import ratelimit
from psirt.counters.services.ratelimit import Limit
from psirt.counters.services.sequences import next_in_year_counting
from psirt.lib.kept import Kept

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 5, 6, 12, 0, 0, tzinfo=dt.UTC)


def at(monkeypatch: pytest.MonkeyPatch, when: dt.datetime) -> None:
    monkeypatch.setattr(ratelimit.timezone, "now", lambda: when)


def test_each_window_counts_on_its_own_row_with_its_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    # The clock goes back from the second window to the first below; a sampled purge at the later time (one hit in
    # a hundred runs it) would rightly delete the first window's expired row, so it is switched off here.
    monkeypatch.setattr(ratelimit, "_sample_purge", lambda: None)
    address = Limit("report_ip", "192.0.2.44", (2, 3600))
    at(monkeypatch, NOON + dt.timedelta(minutes=10))
    ratelimit.hit_all(address)
    ratelimit.hit_all(address)
    with pytest.raises(RateLimited) as refused:
        ratelimit.check(address)
    assert refused.value.retry_after == 50 * 60
    at(monkeypatch, NOON + dt.timedelta(minutes=70))  # the next window: counted afresh
    ratelimit.check(address)
    ratelimit.hit_all(address)
    at(monkeypatch, NOON + dt.timedelta(minutes=59))  # still the first window, still full
    with pytest.raises(RateLimited):
        ratelimit.hit_all(address)
    rows = sorted(RateCounter.objects.values_list("window_start", "expires_at", "count"))
    one_hour = dt.timedelta(hours=1)
    assert rows == [(NOON, NOON + one_hour, 2), (NOON + one_hour, NOON + 2 * one_hour, 1)]


def test_a_window_is_read_where_it_was_written_in_every_time_zone_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bounds' database values depend on the time zone settings: a change of them is not served old values."""
    address = Limit("report_email", "tz@research.test", (1, 600))
    at(monkeypatch, NOON)
    ratelimit.check(address)
    assert ratelimit._BOUNDS
    with override_settings(TIME_ZONE="Asia/Shanghai"):
        assert not ratelimit._BOUNDS
        ratelimit.hit_all(address)
        with pytest.raises(RateLimited):
            ratelimit.check(address)
    with pytest.raises(RateLimited):
        ratelimit.check(address)
    window = ratelimit._window(address, NOON, connection)
    adapt = connection.ops.adapt_datetimefield_value
    assert (window.db_start, window.db_end) == (adapt(NOON), adapt(NOON + dt.timedelta(minutes=10)))


def test_the_bounds_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "_BOUNDS", Kept(max_entries=ratelimit._MAX_BOUNDS, max_age=float("inf")))
    address = Limit("report_ip", "192.0.2.45", (5, 60))
    for minute in range(ratelimit._MAX_BOUNDS + 5):
        ratelimit._window(address, NOON + dt.timedelta(minutes=minute), connection)
        assert len(ratelimit._BOUNDS) <= ratelimit._MAX_BOUNDS


def test_counting_and_numbering_cost_one_statement_on_postgresql_and_two_on_sqlite(
    django_assert_num_queries: Callable[[int], AbstractContextManager[Any]],
) -> None:
    limits = (Limit("report_ip", "192.0.2.46", (3, 3600)), Limit("report_email", "n@research.test", (3, 3600)))
    assert next_in_year_counting("tracking", 2026, *limits) == 1  # the year's first number: its row created
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        assert next_in_year_counting("tracking", 2026, *limits) == 2
    assert sorted(RateCounter.objects.values_list("count", flat=True)) == [2, 2]


@pytest.mark.parametrize("full", [0, 1])
def test_a_full_window_refuses_whichever_limit_it_is_and_counts_nothing(full: int) -> None:
    limits = [Limit("report_ip", "192.0.2.47", (3, 3600)), Limit("report_email", "f@research.test", (3, 3600))]
    limits[full] = Limit(limits[full].scope, limits[full].value, (1, 3600))
    assert next_in_year_counting("tracking", 2026, *limits) == 1
    with pytest.raises(RateLimited), transaction.atomic():
        next_in_year_counting("tracking", 2026, *limits)
    assert sorted(RateCounter.objects.values_list("count", flat=True)) == [1, 1]
    assert next_in_year_counting("tracking", 2026) == 2


def test_a_rate_of_no_hits_is_no_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scope whose rate is 0 hits is not limited: never refused, never counted, whatever its window."""
    unlimited = Limit("report_ip", "192.0.2.48", (0, 3600))
    counted = Limit("report_email", "z@research.test", (5, 3600))
    for _ in range(3):
        ratelimit.check(unlimited)
        ratelimit.hit_all(unlimited)
        ratelimit.check(unlimited, counted)
        ratelimit.hit_all(unlimited, counted)
    assert ratelimit.hits(unlimited) is None
    assert list(RateCounter.objects.values_list("key", "count")) == [(counted.key, 3)]


@pytest.mark.parametrize(
    ("left", "retry_after"), [(dt.timedelta(milliseconds=500), 1), (dt.timedelta(seconds=59.2), 60)]
)
def test_retry_after_is_the_rest_of_the_window_in_whole_seconds_rounded_up(
    monkeypatch: pytest.MonkeyPatch, left: dt.timedelta, retry_after: int
) -> None:
    """A refused client is told to come back when its window ends: never before (rounded up), never later."""
    address = Limit("report_ip", "192.0.2.49", (1, 60))
    at(monkeypatch, NOON)
    ratelimit.hit_all(address)
    at(monkeypatch, NOON + dt.timedelta(minutes=1) - left)
    with pytest.raises(RateLimited) as checked:
        ratelimit.check(address)
    with pytest.raises(RateLimited) as hit, transaction.atomic():
        ratelimit.hit_all(address)
    assert checked.value.retry_after == hit.value.retry_after == retry_after


def test_hit_all_counts_every_limit_in_one_statement(
    monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Callable[[int], AbstractContextManager[Any]]
) -> None:
    """On a database with RETURNING (SQLite ≥ 3.35, PostgreSQL) one statement counts every window and tells which
    one is full: a submission holds the rows it locks until COMMIT."""
    monkeypatch.setattr(ratelimit, "_sample_purge", lambda: None)  # a sampled purge would be a statement more
    limits = (Limit("report_ip", "192.0.2.50", (3, 3600)), Limit("report_email", "s@research.test", (1, 3600)))
    with django_assert_num_queries(1):
        ratelimit.hit_all(*limits)
    with pytest.raises(RateLimited), transaction.atomic(), django_assert_num_queries(1):
        ratelimit.hit_all(*limits)
    assert sorted(RateCounter.objects.values_list("count", flat=True)) == [1, 1]


def test_without_returning_each_window_is_counted_by_a_statement_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the database has no RETURNING (SQLite before 3.35, which refuses the word), every window is still
    counted, and a full one is refused and counts nothing in the others."""
    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", False)
    monkeypatch.setattr(ratelimit, "_sample_purge", lambda: None)
    statements: list[str] = []

    def without_returning(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "RETURNING" in sql.upper():
            raise AssertionError(f"this database has no RETURNING: {sql}")
        statements.append(sql)
        return execute(sql, params, many, context)

    limits = (Limit("report_ip", "192.0.2.51", (3, 3600)), Limit("report_email", "o@research.test", (1, 3600)))
    with connection.execute_wrapper(without_returning):
        ratelimit.hit_all(limits[0])
        ratelimit.hit_all(*limits)
        assert sorted(RateCounter.objects.values_list("key", "count")) == sorted(
            [(limits[0].key, 2), (limits[1].key, 1)]
        )
        statements.clear()
        with pytest.raises(RateLimited) as refused, transaction.atomic():
            ratelimit.hit_all(*limits)
        assert len([sql for sql in statements if sql.startswith("INSERT")]) == 2
        assert 1 <= refused.value.retry_after <= 3600
        assert sorted(RateCounter.objects.values_list("key", "count")) == sorted(
            [(limits[0].key, 2), (limits[1].key, 1)]
        )
