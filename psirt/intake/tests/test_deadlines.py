"""The acknowledgment deadline promised at submission is counted in the organization's calendar."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from psirt.intake.models import Report
from psirt.intake.services import ReportInput, submit_report
from psirt.organization.models import CalendarDay, CalendarDayKind, OrganizationProfile
from psirt.organization.queries import organization_calendar

pytestmark = pytest.mark.django_db


def _submit() -> Report:
    data = ReportInput(reporter_name="Ada", reporter_email="ada@research.test", description="RCE in the web UI.")
    return submit_report(data=data, send_acknowledgment=False).report


def test_acknowledgment_deadline_counts_the_leads_extra_days_off() -> None:
    # Two weeks of company shutdown from tomorrow: five business days cannot end before it is over.
    today = timezone.localdate()
    for offset in range(1, 15):
        CalendarDay.objects.create(date=today + dt.timedelta(days=offset), kind=CalendarDayKind.HOLIDAY)
    report = _submit()
    assert report.ack_due_at is not None
    assert timezone.localdate(report.ack_due_at) > today + dt.timedelta(days=14)
    # The same deadline the case desk counts.
    assert report.ack_due_at == organization_calendar().add_business_days(report.created_at, 5)


def test_acknowledgment_deadline_counts_the_leads_make_up_working_days() -> None:
    # Every day of the next two weeks worked: the fifth business day is the fifth day.
    today = timezone.localdate()
    for offset in range(1, 15):
        CalendarDay.objects.create(date=today + dt.timedelta(days=offset), kind=CalendarDayKind.WORKDAY)
    report = _submit()
    assert report.ack_due_at is not None
    days = OrganizationProfile.get().ack_business_days
    assert timezone.localdate(report.ack_due_at) == timezone.localdate(report.created_at) + dt.timedelta(days=days)


def test_a_day_off_set_between_two_reports_counts_for_the_second() -> None:
    first = _submit()  # the calendar is kept from here on
    today = timezone.localdate()
    for offset in range(1, 15):
        CalendarDay.objects.create(date=today + dt.timedelta(days=offset), kind=CalendarDayKind.HOLIDAY)
    second = _submit()
    assert first.ack_due_at is not None and second.ack_due_at is not None
    assert timezone.localdate(first.ack_due_at) <= today + dt.timedelta(days=14)
    assert timezone.localdate(second.ack_due_at) > today + dt.timedelta(days=14)


def test_a_report_reads_the_profiles_change_token_once() -> None:
    """The profile and the calendar the deadline is counted in are kept under one change token, read once."""
    OrganizationProfile.get()  # creates the row on a new database
    _submit()
    with CaptureQueriesContext(connection) as queries:
        _submit()
    reads = [q["sql"] for q in queries.captured_queries if "change_token" in q["sql"]]
    assert len(reads) == 1, reads
