"""Fixed-window rate limits kept in the database, so every process and machine counts together.

Limits are `settings.PSIRT_INTAKE_RATES` (scope → (hits, window seconds)), defaulting to `DEFAULT_RATES`.
Keys are keyed hashes of scope + value: the counter table never holds an address or e-mail."""

from __future__ import annotations

import datetime as dt
import math
import random

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
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
    # Staff e-mail notifications are not limited here; the outbox does that.
}


def rate_for(scope: str) -> tuple[int, int]:
    rates = getattr(settings, "PSIRT_INTAKE_RATES", None) or {}
    return rates.get(scope, DEFAULT_RATES[scope])


def hit(scope: str, value: str) -> None:
    """Count one hit of `value` (an address, an e-mail) in `scope`; raise RateLimited when over the limit.

    The hit that goes over is not stored beyond the limit (count stops at limit + 1), so a blocked client
    does not extend its own block. Runs in its own short transaction (savepoint if nested)."""
    limit, window = rate_for(scope)
    if limit <= 0:
        return
    now = timezone.now()
    start_ts = math.floor(now.timestamp() / window) * window
    start = dt.datetime.fromtimestamp(start_ts, tz=dt.UTC)
    end = start + dt.timedelta(seconds=window)
    key = keyed_hash(f"{scope}\0{value}", purpose="ratelimit")
    with transaction.atomic():
        updated = RateCounter.objects.filter(key=key, window_start=start, count__lte=limit).update(count=F("count") + 1)
        if not updated:
            if RateCounter.objects.filter(key=key, window_start=start).exists():
                raise RateLimited(retry_after=max(1, math.ceil((end - now).total_seconds())))
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=key, window_start=start, expires_at=end, count=1)
            except IntegrityError:
                # Another process created the row at the same moment: count on it.
                RateCounter.objects.filter(key=key, window_start=start).update(count=F("count") + 1)
        count = RateCounter.objects.filter(key=key, window_start=start).values_list("count", flat=True).first() or 0
    if count > limit:
        raise RateLimited(retry_after=max(1, math.ceil((end - now).total_seconds())))
    if random.random() < 0.01:  # noqa: S311 - housekeeping sampling, not security
        purge_expired_counters()


def purge_expired_counters() -> int:
    deleted, _ = RateCounter.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
