"""The response statistics on the public home and policy pages (when a lead turned them on).

"Last 12 months: 97 % of reports acknowledged within 5 business days; median time to fix 41 days" — from the
same computation as the desk's metrics page (`psirt.metrics.queries.compute`), over every case of the
organization received in the 12 months up to yesterday (whole days, so the figures change once a day). A
figure backed by fewer cases than the leads' minimum (never fewer than `MIN_PUBLIC_COUNT`) is left out, so
no figure ever describes one identifiable case.

The figures are computed once per day and process (they cost a few aggregate queries; the home page is the
most visited page): the cache is keyed by the day and the minimum, and the switch is read on every request,
so turning it off takes effect at once.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from django.utils import timezone

from psirt.metrics.models import MIN_PUBLIC_COUNT, PublicStatistics
from psirt.metrics.queries import ORGANIZATION, Filters, compute
from psirt.organization.models import OrganizationProfile


@dataclass(frozen=True)
class PublicFigures:
    """What the public pages say; a figure is None when too few cases back it."""

    since: dt.date
    until: dt.date
    ack_percent: int | None
    ack_days: int
    fix_median_days: int | None

    @property
    def empty(self) -> bool:
        return self.ack_percent is None and self.fix_median_days is None


_lock = threading.Lock()
_cache: dict[tuple[dt.date, int], PublicFigures] = {}


def figures(*, min_count: int, today: dt.date | None = None) -> PublicFigures:
    """The public figures of the 12 months up to yesterday, each suppressed below `min_count` cases."""
    today = today or timezone.localdate()
    floor = max(min_count, MIN_PUBLIC_COUNT)
    key = (today, floor)
    with _lock:
        if key in _cache:
            return _cache[key]
    until = today - dt.timedelta(days=1)
    since = until - dt.timedelta(days=364)
    m = compute(ORGANIZATION, Filters(start=since, end=until))
    ack = m.promise_total("ack")
    fix = m.durations["remediate"]
    result = PublicFigures(
        since=since,
        until=until,
        ack_percent=round(100 * ack.kept / ack.total) if ack.total >= floor else None,
        ack_days=int(OrganizationProfile.get().ack_business_days),
        fix_median_days=fix.median if fix.count >= floor else None,
    )
    with _lock:
        _cache.clear()  # one day's figures are all a process keeps
        _cache[key] = result
    return result


def public_statistics() -> PublicFigures | None:
    """The figures for the public pages, or None when the leads have not turned them on or nothing passes the
    minimum count (registered with `psirt.pages.sections`)."""
    setting = PublicStatistics.get()
    if not setting.enabled:
        return None
    result = figures(min_count=setting.min_count)
    return None if result.empty else result


def forget() -> None:
    """Drop the day's figures (after the leads change the minimum, and in tests)."""
    with _lock:
        _cache.clear()
