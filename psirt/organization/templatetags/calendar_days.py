"""`{{ some_date|described_day }}`: a day as `psirt.organization.queries.describe_day` states it, in the active
language (the date, and why it is not a working day when it is not)."""

from __future__ import annotations

import datetime as dt

from django import template

from psirt.organization.queries import DayDescription, describe_day

register = template.Library()


@register.filter
def described_day(value: object) -> DayDescription | None:
    """The description of a date; None for an empty value (templates then show their own dash)."""
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        return None
    return describe_day(value)
