"""Fixed-window rate limits kept in the database, so every process and machine counts together.

A `Limit` is one counted thing: a scope ("report_ip", "subscribe_email"), the value counted (an address, an
e-mail, a report) and its rate (hits per window of seconds; 0 hits means no limit). Each app names its scopes
and rates; keys are keyed hashes of scope + value, so the counter table never holds an address or e-mail.

Two steps, so a refused request costs one read and an accepted one no extra transaction: `check` (read
only, before any expensive work) and `hit` (inside the caller's write transaction, so the count and the
caller's rows commit together — a rolled-back request does not count)."""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from psirt.counters.exceptions import RateLimited
from psirt.counters.models import RateCounter
from psirt.lib.crypto import keyed_hash


@dataclass(frozen=True)
class Limit:
    """One counted thing: `rate` is (hits, window seconds) for `value` in `scope`."""

    scope: str
    value: str
    rate: tuple[int, int]

    @functools.cached_property
    def key(self) -> str:
        """The counter's key: a keyed hash of scope and value, worked out once for the `check` and the `hit` of
        one request."""
        return keyed_hash(f"{self.scope}\0{self.value}", purpose="ratelimit")


@dataclass(frozen=True)
class _Window:
    key: str
    start: dt.datetime
    end: dt.datetime
    limit: int

    def refusal(self, now: dt.datetime) -> RateLimited:
        return RateLimited(retry_after=max(1, math.ceil((self.end - now).total_seconds())))


def _window(limit: Limit, now: dt.datetime) -> _Window:
    hits, seconds = limit.rate
    start_ts = math.floor(now.timestamp() / seconds) * seconds
    start = dt.datetime.fromtimestamp(start_ts, tz=dt.UTC)
    return _Window(
        key=limit.key,
        start=start,
        end=start + dt.timedelta(seconds=seconds),
        limit=hits,
    )


def _windows(limits: tuple[Limit, ...], now: dt.datetime) -> list[_Window]:
    return [_window(limit, now) for limit in limits if limit.rate[0] > 0]


def _table() -> tuple[str, str, str, str, str]:
    q = connection.ops.quote_name
    return q(RateCounter._meta.db_table), q("key"), q("window_start"), q("expires_at"), q("count")


def check(*limits: Limit) -> None:
    """Raise RateLimited if any limit already used up its window. Read only.

    One plain SELECT: this runs before every submission, and building the same query through the ORM
    cost more than running it."""
    now = timezone.now()
    windows = _windows(limits, now)
    if not windows:
        return
    table, key, start, _expires, count = _table()
    adapt = connection.ops.adapt_datetimefield_value
    where = " OR ".join([f"({key} = %s AND {start} = %s)"] * len(windows))
    params: list[str | int | None] = []
    for w in windows:
        params += [w.key, adapt(w.start)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {key}, {count} FROM {table} WHERE {where}", params)  # noqa: S608
        counts = dict(cursor.fetchall())
    for w in windows:
        if counts.get(w.key, 0) >= w.limit:
            raise w.refusal(now)


def hit(limit: Limit) -> None:
    """Count one hit of `limit`; see `hit_all`."""
    hit_all(limit)


def hit_all(*limits: Limit) -> None:
    """Count one hit in each limit; raise RateLimited when a window is already full. Call inside a
    transaction: the refusal rolls back the counts of the other limits too, and nothing is counted then, so
    a blocked client does not extend its own block.

    One upsert statement for all limits (SQLite ≥ 3.24 and PostgreSQL share the syntax): insert each window's
    row, or add one to it while it is under its limit; a row not returned is a full window. One statement,
    because on PostgreSQL the row lock it takes (every request from one address shares its row) is held
    until COMMIT, and a submission takes it among its last steps."""
    now = timezone.now()
    windows = _windows(limits, now)
    if not windows:
        return
    if len(windows) > 1 and not connection.features.can_return_columns_from_insert:
        # SQLite before 3.35 has no RETURNING: which window is full is then told one statement at a time.
        for w in windows:
            _upsert([w], now)
    else:
        _upsert(windows, now)
    _sample_purge()


def _upsert(windows: list[_Window], now: dt.datetime) -> None:
    sql, params = _upsert_statement(windows)
    returning = len(windows) > 1
    if returning:
        sql = _returning_keys(sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            counted = [row[0] for row in cursor.fetchall()]
        else:  # one window: counted unless the statement wrote no row
            counted = [w.key for w in windows] if cursor.rowcount else []
    _refuse_full(windows, counted, now)


def _returning_keys(sql: str) -> str:
    """The upsert returning the key of each window it counted (a window left out is full)."""
    return f"{sql} RETURNING {_table()[1]}"


def _refuse_full(windows: list[_Window], counted: Iterable[str], now: dt.datetime) -> None:
    """Raise RateLimited for the first of `windows` whose key is not among the `counted` ones."""
    done = set(counted)
    full = [w for w in windows if w.key not in done]
    if full:
        raise full[0].refusal(now)


def _upsert_statement(windows: list[_Window]) -> tuple[str, list[str | int | None]]:
    """The upsert of `hit_all` without its RETURNING: insert each window's row, or add one to it while it is
    under its limit."""
    table, key, start, expires, count = _table()
    adapt = connection.ops.adapt_datetimefield_value
    values = ", ".join(["(%s, %s, %s, 1)"] * len(windows))
    limit = " ".join(["WHEN %s THEN %s"] * len(windows))
    sql = (
        f"INSERT INTO {table} ({key}, {start}, {expires}, {count}) VALUES {values} "  # noqa: S608
        f"ON CONFLICT ({key}, {start}) DO UPDATE SET {count} = {table}.{count} + 1 "
        f"WHERE {table}.{count} < CASE {table}.{key} {limit} END"
    )
    params: list[str | int | None] = []
    for w in windows:
        params += [w.key, adapt(w.start), adapt(w.end)]
    for w in windows:
        params += [w.key, w.limit]
    return sql, params


@dataclass(frozen=True)
class Hits:
    """`hit_all`'s statement for a caller that runs it inside a larger one of its own (PostgreSQL: a WITH
    query): `sql` returns the key of each window it counted; `refuse(counted)` then raises RateLimited for a
    window left out, as `hit_all` does."""

    sql: str
    params: list[str | int | None]
    windows: list[_Window]
    now: dt.datetime

    def refuse(self, counted: Iterable[str]) -> None:
        _refuse_full(self.windows, counted, self.now)
        _sample_purge()


def hits(*limits: Limit) -> Hits | None:
    """One hit in each limit as a statement to embed (see `Hits`), or None when no limit counts."""
    now = timezone.now()
    windows = _windows(limits, now)
    if not windows:
        return None
    sql, params = _upsert_statement(windows)
    return Hits(_returning_keys(sql), params, windows, now)


def _sample_purge() -> None:
    if random.random() < 0.01:  # noqa: S311 - housekeeping sampling, not security
        purge_expired_counters()


def purge_expired_counters() -> int:
    deleted, _ = RateCounter.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
