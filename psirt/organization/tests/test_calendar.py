"""The organization's business-day calendar: the profile's country plus the leads' own days."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from psirt.organization.models import CalendarDay, CalendarDayKind, OrganizationProfile
from psirt.organization.queries import acknowledgment_due, organization_calendar

D = dt.date


@pytest.mark.django_db
def test_calendar_uses_the_configured_country() -> None:
    assert organization_calendar().country == "CN"
    profile = OrganizationProfile.get()
    profile.calendar_country = "DE"
    profile.save()
    CalendarDay.objects.create(date=D(2025, 10, 3), kind=CalendarDayKind.WORKDAY)
    cal = organization_calendar()
    assert cal.country == "DE"
    assert cal.is_business_day(D(2025, 10, 3))
    assert not cal.is_business_day(D(2025, 12, 25))


@pytest.mark.django_db
def test_leads_days_off_and_working_days_count_at_once() -> None:
    monday, saturday = D(2026, 3, 9), D(2026, 3, 7)
    assert organization_calendar().is_business_day(monday)
    assert not organization_calendar().is_business_day(saturday)
    CalendarDay.objects.create(date=monday, kind=CalendarDayKind.HOLIDAY, note="Company retreat")
    CalendarDay.objects.create(date=saturday, kind=CalendarDayKind.WORKDAY)
    cal = organization_calendar()
    assert not cal.is_business_day(monday)
    assert cal.is_business_day(saturday)


@pytest.mark.django_db
def test_acknowledgment_is_due_the_profiles_business_days_later() -> None:
    # Friday 6 March 2026, 10:00 in Shanghai; Monday 9 March is a company day off.
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    received = dt.datetime(2026, 3, 6, 10, 0, tzinfo=shanghai)
    CalendarDay.objects.create(date=D(2026, 3, 9), kind=CalendarDayKind.HOLIDAY)
    assert acknowledgment_due(received) == dt.datetime(2026, 3, 16, 10, 0, tzinfo=shanghai)
    profile = OrganizationProfile.get()
    profile.ack_business_days = 2
    profile.save()
    assert acknowledgment_due(received) == dt.datetime(2026, 3, 11, 10, 0, tzinfo=shanghai)
