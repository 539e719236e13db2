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

from django.conf import settings
from django.db import connection
from django.db.models import Q
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


def check(*pairs: tuple[str, str]) -> None:
    """Raise RateLimited if any (scope, value) already used up its window. Read only."""
    now = timezone.now()
    windows = [_window(scope, value, now) for scope, value in pairs if rate_for(scope)[0] > 0]
    if not windows:
        return
    query = Q()
    for w in windows:
        query |= Q(key=w.key, window_start=w.start)
    counts = dict(RateCounter.objects.filter(query).values_list("key", "count"))
    for w in windows:
        if counts.get(w.key, 0) >= w.limit:
            raise w.refusal(now)


def hit(scope: str, value: str) -> None:
    """Count one hit of `value` in `scope`; raise RateLimited when the window is already full (nothing is
    counted then, so a blocked client does not extend its own block). Call inside a transaction.

    One upsert statement (SQLite ≥ 3.24 and PostgreSQL share the syntax): insert the window's row, or add
    one to it while it is under the limit. No row touched means the window is full."""
    now = timezone.now()
    if rate_for(scope)[0] <= 0:
        return
    w = _window(scope, value, now)
    q = connection.ops.quote_name
    table, key, start, expires, count = (
        q(RateCounter._meta.db_table),
        q("key"),
        q("window_start"),
        q("expires_at"),
        q("count"),
    )
    sql = (
        f"INSERT INTO {table} ({key}, {start}, {expires}, {count}) VALUES (%s, %s, %s, 1) "  # noqa: S608
        f"ON CONFLICT ({key}, {start}) DO UPDATE SET {count} = {table}.{count} + 1 WHERE {table}.{count} < %s"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(sql, [w.key, adapt(w.start), adapt(w.end), w.limit])
        if cursor.rowcount == 0:
            raise w.refusal(now)
    if random.random() < 0.01:  # noqa: S311 - housekeeping sampling, not security
        purge_expired_counters()


def purge_expired_counters() -> int:
    deleted, _ = RateCounter.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
