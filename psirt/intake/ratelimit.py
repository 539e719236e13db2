"""Fixed-window rate limits kept in the database, so every process and machine counts together.

Limits are `settings.PSIRT_INTAKE_RATES` (scope → (hits, window seconds)), defaulting to `DEFAULT_RATES`.
Keys are keyed hashes of scope + value: the counter table never holds an address or e-mail.

Two steps, so a refused request costs one read and an accepted one no extra transaction: `check` (read
only, before any expensive work) and `hit` (inside the caller's write transaction, so the count and the
report commit together — a rolled-back submission does not count)."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from psirt.intake.exceptions import RateLimited
from psirt.intake.models import RateCounter
from psirt.lib.crypto import keyed_hash

DEFAULT_RATES: dict[str, tuple[int, int]] = {
    # New reports: a researcher filing a batch is fine; a script filing hundreds is not.
    "report_ip": (10, 3600),
    "report_email": (5, 3600),
    # "Lost my link": each sends a mail, so both the asker and the address are limited.
    "lostlink_ip": (10, 3600),
    "lostlink_email": (3, 3600),
    # Portal actions (messages, files, dates) per report.
    "portal_report": (30, 3600),
}


def rate_for(scope: str) -> tuple[int, int]:
    rates = getattr(settings, "PSIRT_INTAKE_RATES", None) or {}
    return rates.get(scope, DEFAULT_RATES[scope])


@dataclass(frozen=True)
class _Window:
    key: str
    start: dt.datetime
    end: dt.datetime
    limit: int

    def refusal(self, now: dt.datetime) -> RateLimited:
        return RateLimited(retry_after=max(1, math.ceil((self.end - now).total_seconds())))


def _window(scope: str, value: str, now: dt.datetime) -> _Window:
    limit, seconds = rate_for(scope)
    start_ts = math.floor(now.timestamp() / seconds) * seconds
    start = dt.datetime.fromtimestamp(start_ts, tz=dt.UTC)
    return _Window(
        key=keyed_hash(f"{scope}\0{value}", purpose="ratelimit"),
        start=start,
        end=start + dt.timedelta(seconds=seconds),
        limit=limit,
    )


def _table() -> tuple[str, str, str, str, str]:
    q = connection.ops.quote_name
    return q(RateCounter._meta.db_table), q("key"), q("window_start"), q("expires_at"), q("count")


def check(*pairs: tuple[str, str]) -> None:
    """Raise RateLimited if any (scope, value) already used up its window. Read only.

    One plain SELECT: this runs before every submission, and building the same query through the ORM
    cost more than running it."""
    now = timezone.now()
    windows = [_window(scope, value, now) for scope, value in pairs if rate_for(scope)[0] > 0]
    if not windows:
        return
    table, key, start, _expires, count = _table()
    adapt = connection.ops.adapt_datetimefield_value
    where = " OR ".join([f"({key} = %s AND {start} = %s)"] * len(windows))
    params: list[Any] = []
    for w in windows:
        params += [w.key, adapt(w.start)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {key}, {count} FROM {table} WHERE {where}", params)  # noqa: S608
        counts = dict(cursor.fetchall())
    for w in windows:
        if counts.get(w.key, 0) >= w.limit:
            raise w.refusal(now)


def hit(scope: str, value: str) -> None:
    """Count one hit of `value` in `scope`; see `hit_all`."""
    hit_all((scope, value))


def hit_all(*pairs: tuple[str, str]) -> None:
    """Count one hit in each (scope, value); raise RateLimited when a window is already full. Call inside a
    transaction: the refusal rolls back the counts of the other pairs too, and nothing is counted then, so
    a blocked client does not extend its own block.

    One upsert statement for all pairs (SQLite ≥ 3.24 and PostgreSQL share the syntax): insert each window's
    row, or add one to it while it is under its limit; a row not returned is a full window. One statement,
    because on PostgreSQL the row lock it takes (every request from one address shares its row) is held
    until COMMIT, and the submission takes it among its last steps."""
    now = timezone.now()
    windows = [_window(scope, value, now) for scope, value in pairs if rate_for(scope)[0] > 0]
    if not windows:
        return
    if len(windows) > 1 and not connection.features.can_return_columns_from_insert:
        # SQLite before 3.35 has no RETURNING: which window is full is then told one statement at a time.
        for w in windows:
            _upsert([w], now)
    else:
        _upsert(windows, now)
    if random.random() < 0.01:  # noqa: S311 - housekeeping sampling, not security
        purge_expired_counters()


def _upsert(windows: list[_Window], now: dt.datetime) -> None:
    table, key, start, expires, count = _table()
    adapt = connection.ops.adapt_datetimefield_value
    values = ", ".join(["(%s, %s, %s, 1)"] * len(windows))
    limit = " ".join(["WHEN %s THEN %s"] * len(windows))
    sql = (
        f"INSERT INTO {table} ({key}, {start}, {expires}, {count}) VALUES {values} "  # noqa: S608
        f"ON CONFLICT ({key}, {start}) DO UPDATE SET {count} = {table}.{count} + 1 "
        f"WHERE {table}.{count} < CASE {table}.{key} {limit} END"
    )
    params: list[Any] = []
    for w in windows:
        params += [w.key, adapt(w.start), adapt(w.end)]
    for w in windows:
        params += [w.key, w.limit]
    returning = len(windows) > 1
    if returning:
        sql += f" RETURNING {key}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counted = {row[0] for row in cursor.fetchall()} if returning else None
        full = [w for w in windows if w.key not in counted] if counted is not None else []
        if counted is None and cursor.rowcount == 0:
            full = windows
    if full:
        raise full[0].refusal(now)


def purge_expired_counters() -> int:
    deleted, _ = RateCounter.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
