"""`describe_day`: the one description of a calendar day — weekday name on weekends, the holiday's name on public
holidays, "day off" on the leads' extra days off, nothing on working days (make-up Saturdays included)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import translation

from psirt.lib.business_days import Calendar
from psirt.organization.models import CalendarDay, CalendarDayKind
from psirt.organization.queries import describe_day

CN = Calendar(country="CN", extra_holidays=[dt.date(2026, 12, 7)], time_zone="Asia/Shanghai")


@pytest.mark.parametrize(
    ("day", "english", "chinese", "working"),
    [
        (dt.date(2026, 12, 4), "2026-12-04", "2026-12-04", True),  # a Friday
        (dt.date(2026, 12, 5), "2026-12-05 (Saturday)", "2026-12-05（星期六）", False),
        (dt.date(2026, 12, 6), "2026-12-06 (Sunday)", "2026-12-06（星期日）", False),
        (dt.date(2026, 10, 1), "2026-10-01 (Thursday, National Day)", "2026-10-01（星期四，国庆节）", False),
        (dt.date(2026, 10, 3), "2026-10-03 (Saturday, National Day)", "2026-10-03（星期六，国庆节）", False),
        (dt.date(2026, 12, 7), "2026-12-07 (Monday, day off)", "2026-12-07（星期一，休息日）", False),
        (dt.date(2026, 2, 14), "2026-02-14", "2026-02-14", True),  # a make-up working Saturday
    ],
)
def test_a_day_is_described_in_both_languages(day: dt.date, english: str, chinese: str, working: bool) -> None:
    with translation.override("en"):
        described = describe_day(day, calendar=CN)
        assert (str(described), described.working, described.iso) == (english, working, day.isoformat())
    with translation.override("zh-hans"):
        assert str(describe_day(day, calendar=CN)) == chinese


def test_a_holiday_of_a_country_without_chinese_names_keeps_its_own_name() -> None:
    us = Calendar(country="US", time_zone="America/Los_Angeles")
    with translation.override("zh-hans"):
        assert str(describe_day(dt.date(2026, 12, 25), calendar=us)) == "2026-12-25（星期五，Christmas Day）"


@pytest.mark.parametrize("value", [dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC), "2026-12-05", None, 20261205])
def test_only_a_date_is_described(value: object) -> None:
    # A datetime would be shifted by whatever zone it is read in: the day must be named by its caller.
    with pytest.raises(TypeError):
        describe_day(value, calendar=CN)  # type: ignore[arg-type]


@pytest.mark.django_db
def test_the_organization_calendar_is_the_default_and_the_template_filter_uses_it() -> None:
    CalendarDay.objects.create(date=dt.date(2026, 12, 8), kind=CalendarDayKind.HOLIDAY)
    with translation.override("en"):
        assert str(describe_day(dt.date(2026, 12, 8))) == "2026-12-08 (Tuesday, day off)"
        template = Template("{% load calendar_days %}{{ d|described_day }}|{{ empty|described_day|default:'-' }}")
        rendered = template.render(Context({"d": dt.date(2026, 12, 8), "empty": None}))
    assert rendered == "2026-12-08 (Tuesday, day off)|-"
