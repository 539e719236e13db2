"""The intake's rate limits: its scopes and their rates, counted by psirt.counters.services.ratelimit.

Rates are `settings.PSIRT_INTAKE_RATES` (scope → (hits, window seconds)), defaulting to `DEFAULT_RATES`."""

from __future__ import annotations

from django.conf import settings

from psirt.counters.services.ratelimit import Limit

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
    rates: dict[str, tuple[int, int]] = getattr(settings, "PSIRT_INTAKE_RATES", None) or {}
    return rates.get(scope, DEFAULT_RATES[scope])


def limit(scope: str, value: str) -> Limit:
    """The limit of `value` (an address, an e-mail, a report) in one of the intake's scopes."""
    return Limit(scope, value, rate_for(scope))
