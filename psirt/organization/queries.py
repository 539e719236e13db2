"""Read-side selectors of the organization: the business-day calendar every deadline is counted in."""

from __future__ import annotations

import datetime as dt

from psirt.lib.business_days import Calendar
from psirt.organization.models import CalendarDay, CalendarDayKind, OrganizationProfile


def organization_calendar(profile: OrganizationProfile | None = None) -> Calendar:
    """The organization's business-day calendar: the profile's country (its public holidays and make-up working
    days), the leads' extra days off and extra working days, in settings.TIME_ZONE.

    Every deadline (acknowledgment at intake and on the desk, reminders) is counted in this one calendar. The
    profile and the leads' days are read on each call, so a change counts from the next deadline computed (in
    the caller's transaction, which sees its own changes); the country's holiday tables, which only change with
    the `holidays` package, are built once per process. Pass `profile` when the caller already holds it.
    """
    profile = profile or OrganizationProfile.get()
    days = list(CalendarDay.objects.values_list("date", "kind"))
    return Calendar(
        country=profile.calendar_country,
        extra_holidays=[d for d, k in days if k == CalendarDayKind.HOLIDAY],
        extra_workdays=[d for d, k in days if k == CalendarDayKind.WORKDAY],
    )


def acknowledgment_due(received: dt.datetime, profile: OrganizationProfile | None = None) -> dt.datetime:
    """When a report received at `received` must be acknowledged: the profile's number of business days later,
    in the organization's calendar. The one rule for the deadline promised at intake and shown on the desk."""
    profile = profile or OrganizationProfile.get()
    return organization_calendar(profile).add_business_days(received, int(profile.ack_business_days))
