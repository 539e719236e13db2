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
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from psirt.counters.exceptions import RateLimited
from psirt.counters.models import RateCounter
from psirt.lib.crypto import keyed_hash
from psirt.lib.kept import Kept


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
    end: dt.datetime
    limit: int
    # The window's start and end as the database takes them.
    db_start: Any
    db_end: Any

    def refusal(self, now: dt.datetime) -> RateLimited:
        return RateLimited(retry_after=max(1, math.ceil((self.end - now).total_seconds())))


# (database alias, window seconds, start timestamp) -> the window's end, and its start and end as the database takes
# them. Every request of a window shares them, and adapting a datetime for the database costs more than the
# statement's other values together. Bounded (a new window every `seconds`), and dropped when the settings change
# (the adaptation reads the time zone settings).
_BOUNDS = Kept(max_entries=64, max_age=float("inf"))
_MAX_BOUNDS = _BOUNDS.max_entries


def _bounds(database: Any, seconds: int, start_ts: int) -> tuple[dt.datetime, Any, Any]:
    """The end of the window of `seconds` that starts at `start_ts`, and its start and end as `database` takes
    them."""

    def compute() -> tuple[dt.datetime, Any, Any]:
        start = dt.datetime.fromtimestamp(start_ts, tz=dt.UTC)
        end = start + dt.timedelta(seconds=seconds)
        adapt = database.ops.adapt_datetimefield_value
        return end, adapt(start), adapt(end)

    return _BOUNDS.get("", (database.alias, seconds, start_ts), compute)


def _window(limit: Limit, now: dt.datetime, database: Any) -> _Window:
    hits, seconds = limit.rate
    end, db_start, db_end = _bounds(database, seconds, math.floor(now.timestamp() / seconds) * seconds)
    return _Window(key=limit.key, end=end, limit=hits, db_start=db_start, db_end=db_end)


def _windows(limits: tuple[Limit, ...], now: dt.datetime, database: Any) -> list[_Window]:
    return [_window(limit, now, database) for limit in limits if limit.rate[0] > 0]


def _database() -> Any:
    """The connection the counters are kept in (the default one), looked up once per call rather than once per
    attribute as `django.db.connection` does."""
    return connections[DEFAULT_DB_ALIAS]


# `check`'s SELECT and `hit_all`'s upsert by (statement, vendor, windows[, returning]): their texts depend on nothing
# else, so each is written once per process.
_STATEMENTS = Kept(max_entries=64, max_age=float("inf"))


def _check_sql(database: Any, windows: int) -> str:
    """`check`'s SELECT of the counts of `windows` windows."""

    def write() -> str:
        quote = database.ops.quote_name
        table, key, start = quote(RateCounter._meta.db_table), quote("key"), quote("window_start")
        where = " OR ".join([f"({key} = %s AND {start} = %s)"] * windows)
        return f"SELECT {key}, {quote('count')} FROM {table} WHERE {where}"  # noqa: S608

    return _STATEMENTS.get("", ("check", database.vendor, windows), write)


def check(*limits: Limit) -> None:
    """Raise RateLimited if any limit already used up its window. Read only.

    One plain SELECT: this runs before every submission, and building the same query through the ORM
    cost more than running it."""
    now = timezone.now()
    database = _database()
    windows = _windows(limits, now, database)
    if not windows:
        return
    params: list[Any] = []
    for w in windows:
        params += [w.key, w.db_start]
    with database.cursor() as cursor:
        cursor.execute(_check_sql(database, len(windows)), params)
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
    database = _database()
    windows = _windows(limits, now, database)
    if not windows:
        return
    with database.cursor() as cursor:
        if len(windows) > 1 and not database.features.can_return_columns_from_insert:
            # SQLite before 3.35 has no RETURNING: which window is full is then told one statement at a time.
            for w in windows:
                _upsert(cursor, database, [w], now)
        else:
            _upsert(cursor, database, windows, now)
    _sample_purge()


def _upsert(cursor: Any, database: Any, windows: list[_Window], now: dt.datetime) -> None:
    returning = len(windows) > 1
    cursor.execute(_upsert_sql(database, len(windows), returning=returning), _upsert_params(windows))
    if returning:
        counted = [row[0] for row in cursor.fetchall()]
    else:  # one window: counted unless the statement wrote no row
        counted = [w.key for w in windows] if cursor.rowcount else []
    _refuse_full(windows, counted, now)


def _refuse_full(windows: list[_Window], counted: Iterable[str], now: dt.datetime) -> None:
    """Raise RateLimited for the first of `windows` whose key is not among the `counted` ones."""
    done = set(counted)
    full = [w for w in windows if w.key not in done]
    if full:
        raise full[0].refusal(now)


def _upsert_sql(database: Any, windows: int, *, returning: bool) -> str:
    """The upsert of `hit_all` for `windows` windows: insert each window's row, or add one to it while it is
    under its limit; with `returning`, it returns the key of each window it counted (a window left out is
    full)."""

    def write() -> str:
        quote = database.ops.quote_name
        table, key, start = quote(RateCounter._meta.db_table), quote("key"), quote("window_start")
        expires, count = quote("expires_at"), quote("count")
        values = ", ".join(["(%s, %s, %s, 1)"] * windows)
        limit = " ".join(["WHEN %s THEN %s"] * windows)
        sql = (
            f"INSERT INTO {table} ({key}, {start}, {expires}, {count}) VALUES {values} "  # noqa: S608
            f"ON CONFLICT ({key}, {start}) DO UPDATE SET {count} = {table}.{count} + 1 "
            f"WHERE {table}.{count} < CASE {table}.{key} {limit} END"
        )
        return f"{sql} RETURNING {key}" if returning else sql

    return _STATEMENTS.get("", ("upsert", database.vendor, windows, returning), write)


def _upsert_params(windows: list[_Window]) -> list[Any]:
    params: list[Any] = []
    for w in windows:
        params += [w.key, w.db_start, w.db_end]
    for w in windows:
        params += [w.key, w.limit]
    return params


@dataclass(frozen=True)
class Hits:
    """`hit_all`'s statement for a caller that runs it inside a larger one of its own (PostgreSQL: a WITH
    query) or next to its own on the same cursor: `sql` returns the key of each window it counted;
    `refuse(counted)` then raises RateLimited for a window left out, as `hit_all` does."""

    sql: str
    params: list[Any]
    windows: list[_Window]
    now: dt.datetime

    def refuse(self, counted: Iterable[str]) -> None:
        _refuse_full(self.windows, counted, self.now)
        _sample_purge()


def hits(*limits: Limit) -> Hits | None:
    """One hit in each limit as a statement to embed (see `Hits`), or None when no limit counts. Its RETURNING
    needs a database that has it (not SQLite before 3.35)."""
    now = timezone.now()
    database = _database()
    windows = _windows(limits, now, database)
    if not windows:
        return None
    return Hits(_upsert_sql(database, len(windows), returning=True), _upsert_params(windows), windows, now)


def _sample_purge() -> None:
    if random.random() < 0.01:  # noqa: S311 - housekeeping sampling, not security
        purge_expired_counters()


def purge_expired_counters() -> int:
    deleted, _ = RateCounter.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
