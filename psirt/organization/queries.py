"""Read-side selectors of the organization: the business-day calendar every deadline is counted in, and whether
the encryption keys can read the stored data (the key canary)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import DatabaseError
from django.utils import translation
from django.utils.dates import WEEKDAYS
from django.utils.translation import pgettext

from psirt.lib.business_days import Calendar
from psirt.lib.crypto import DecryptionError, encrypted_columns
from psirt.organization.models import (
    KEY_CANARY_TEXT,
    CalendarDay,
    CalendarDayKind,
    KeyCanary,
    OrganizationProfile,
    current_change_token,
    derived,
    read_profile,
)


def organization_calendar(profile: OrganizationProfile | None = None, token: str | None = None) -> Calendar:
    """The organization's business-day calendar: the profile's country (its public holidays and make-up working
    days), the leads' extra days off and extra working days, in settings.TIME_ZONE.

    Every deadline (acknowledgment at intake and on the desk, reminders) is counted in this one calendar. The
    leads' days are kept per process under the profile's change token, which every change of the profile or a day
    replaces (one small query per call), so a change counts from the next deadline computed (in the caller's
    transaction, which sees its own changes); the country's holiday tables, which only change with
    the `holidays` package, are built once per process. Pass `profile` when the caller already holds it, with the
    `token` that `read_profile` returned with it when it has just read it (the token is then not read again:
    the days are still read after it, as they are kept under it).
    """
    if profile is None:
        profile, token = read_profile()
    if token is None:
        token = current_change_token()
    country = profile.calendar_country

    def build() -> Calendar:
        days = list(CalendarDay.objects.values_list("date", "kind"))
        return Calendar(
            country=country,
            extra_holidays=[d for d, k in days if k == CalendarDayKind.HOLIDAY],
            extra_workdays=[d for d, k in days if k == CalendarDayKind.WORKDAY],
        )

    # The leads' days are what the change token covers; the country is the caller's profile's.
    return derived(f"calendar:{country}", token, build)  # type: ignore[no-any-return]


def acknowledgment_due(
    received: dt.datetime, profile: OrganizationProfile | None = None, token: str | None = None
) -> dt.datetime:
    """When a report received at `received` must be acknowledged: the profile's number of business days later,
    in the organization's calendar. The one rule for the deadline promised at intake and shown on the desk.
    `profile` and `token` as for `organization_calendar`."""
    if profile is None:
        profile, token = read_profile()
    return organization_calendar(profile, token).add_business_days(received, int(profile.ack_business_days))


@dataclass(frozen=True)
class DayDescription:
    """One calendar day as psirt states it everywhere (case page, reminder mail, reporter portal).

    `note` says why the day is not a working day — its weekday name ("Saturday"), the public holiday's name, or
    "day off" for a day the leads took off — and is empty on a working day. No rule of the organization moves a
    date that falls on such a day (the agreed disclosure date stays the day that was agreed), so the description
    never names another day.
    """

    day: dt.date
    working: bool
    note: str

    @property
    def iso(self) -> str:
        return self.day.isoformat()

    def __str__(self) -> str:
        if not self.note:
            return self.iso
        # Chinese takes full-width brackets without a space.
        if (translation.get_language() or "").startswith("zh"):
            return f"{self.iso}（{self.note}）"
        return f"{self.iso} ({self.note})"


def describe_day(day: dt.date, *, calendar: Calendar | None = None) -> DayDescription:
    """The one description of a day, in the active language: the date, and for a weekend day, a public
    holiday or a leads' day off, the weekday name and the holiday's name. A make-up working day (a weekend day
    worked) is a working day and gets no note. `calendar` defaults to the organization's."""
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError("describe_day takes a date (a local calendar day), not a datetime or text.")
    calendar = calendar or organization_calendar()
    if calendar.is_business_day(day):
        return DayDescription(day=day, working=True, note="")
    parts = [str(WEEKDAYS[day.weekday()])]
    holiday = calendar.holiday_name(day, translation.get_language())
    if holiday:
        parts.append(holiday)
    elif day in calendar.extra_holidays:
        parts.append(str(pgettext("calendar", "day off")))
    separator = "，" if (translation.get_language() or "").startswith("zh") else ", "
    return DayDescription(day=day, working=False, note=separator.join(parts))


def key_problem() -> str | None:
    """Why PSIRT_ENCRYPTION_KEYS cannot read the data already stored, or None when they can (or nothing is stored
    yet, or the tables do not exist yet). Decrypts the key canary; a database from before the canary has none, so
    then the first stored value of each encrypted column is tried instead."""
    try:
        try:
            canary = KeyCanary.objects.filter(pk=1).first()
        except DecryptionError:
            return "The key canary cannot be decrypted: the stored data was encrypted with other keys."
        if canary is not None:
            if canary.value != KEY_CANARY_TEXT:
                return "The key canary holds a wrong value: the stored data was encrypted with other keys."
            return None
        for model, field in encrypted_columns():
            try:
                model._default_manager.exclude(**{field: ""}).exclude(**{f"{field}__isnull": True}).values_list(
                    field, flat=True
                ).first()
            except DecryptionError:
                label = f"{model._meta.label}.{field}"
                return f"Stored data ({label}) cannot be decrypted: it was encrypted with other keys."
    except DatabaseError:
        return None  # no tables yet (before the first migrate) or no database: nothing stored to compare with
    return None
