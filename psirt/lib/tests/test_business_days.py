from __future__ import annotations

import datetime as dt
import sys
import threading
import time
import zoneinfo
from typing import Any

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psirt.lib import business_days
from psirt.lib.business_days import MAX_SPAN_DAYS, Calendar, CalendarError, country_holidays, supported_countries

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
D = dt.date


def span(a: dt.date, b: dt.date) -> set[dt.date]:
    return {a + dt.timedelta(days=i) for i in range((b - a).days + 1)}


# Days off and make-up working days as published by the State Council (国务院办公厅关于…部分节假日安排的通知),
# written out independently of the holidays package so the test checks the package, not itself.
CN_DAYS_OFF = {
    2025: span(D(2025, 1, 1), D(2025, 1, 1))
    | span(D(2025, 1, 28), D(2025, 2, 4))
    | span(D(2025, 4, 4), D(2025, 4, 6))
    | span(D(2025, 5, 1), D(2025, 5, 5))
    | span(D(2025, 5, 31), D(2025, 6, 2))
    | span(D(2025, 10, 1), D(2025, 10, 8)),
    2026: span(D(2026, 1, 1), D(2026, 1, 3))
    | span(D(2026, 2, 15), D(2026, 2, 23))
    | span(D(2026, 4, 4), D(2026, 4, 6))
    | span(D(2026, 5, 1), D(2026, 5, 5))
    | span(D(2026, 6, 19), D(2026, 6, 21))
    | span(D(2026, 9, 25), D(2026, 9, 27))
    | span(D(2026, 10, 1), D(2026, 10, 7)),
}
CN_MAKEUP_DAYS = {
    2025: {D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11)},
    2026: {D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)},
}


@pytest.fixture(scope="module")
def cn() -> Calendar:
    return Calendar(country="CN", time_zone="Asia/Shanghai")


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_of_the_chinese_year_matches_the_state_council_notice(cn: Calendar, year: int) -> None:
    wrong = []
    for day in span(D(year, 1, 1), D(year, 12, 31)):
        expected = day in CN_MAKEUP_DAYS[year] or (day.weekday() < 5 and day not in CN_DAYS_OFF[year])
        if cn.is_business_day(day) != expected:
            wrong.append(day)
    assert wrong == []


@pytest.mark.parametrize("day", sorted(CN_MAKEUP_DAYS[2025] | CN_MAKEUP_DAYS[2026]))
def test_chinese_make_up_days_are_weekend_days_worked(cn: Calendar, day: dt.date) -> None:
    assert day.weekday() >= 5
    assert cn.is_business_day(day)


def test_deadline_from_friday_evening_before_spring_festival_2026(cn: Calendar) -> None:
    received = dt.datetime(2026, 2, 13, 18, 0, tzinfo=SHANGHAI)
    # Sat 14 Feb is worked (1); 15–23 Feb off; 24, 25, 26, 27 Feb (2–5).
    assert cn.add_business_days(received, 5) == dt.datetime(2026, 2, 27, 18, 0, tzinfo=SHANGHAI)
    assert cn.business_days_between(received, dt.datetime(2026, 2, 27, 18, 0, tzinfo=SHANGHAI)) == 5


def test_deadline_counted_from_a_holiday_starts_on_the_next_working_day(cn: Calendar) -> None:
    received = dt.datetime(2026, 2, 17, 3, 15, tzinfo=SHANGHAI)  # Spring Festival
    assert cn.add_business_days(received, 1) == dt.datetime(2026, 2, 24, 3, 15, tzinfo=SHANGHAI)


def test_deadline_across_national_day_2025_and_its_make_up_saturday(cn: Calendar) -> None:
    received = dt.datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI)
    # 1–8 Oct off; Thu 9 (1), Fri 10 (2), Sat 11 worked (3), Mon 13 (4), Tue 14 (5).
    assert cn.add_business_days(received, 5) == dt.datetime(2025, 10, 14, 10, 0, tzinfo=SHANGHAI)


def test_deadline_across_national_day_2026(cn: Calendar) -> None:
    received = dt.datetime(2026, 9, 30, 9, 0, tzinfo=SHANGHAI)
    # 1–7 Oct off; Thu 8 (1), Fri 9 (2), Sat 10 worked (3), Mon 12 (4), Tue 13 (5).
    assert cn.add_business_days(received, 5) == dt.datetime(2026, 10, 13, 9, 0, tzinfo=SHANGHAI)


def test_received_just_before_local_midnight_counts_from_the_local_day(cn: Calendar) -> None:
    # 23:30 Friday in Shanghai is 15:30 UTC the same day; 00:30 Saturday in Shanghai is Friday in UTC.
    friday_late = dt.datetime(2025, 3, 7, 15, 30, tzinfo=dt.UTC)
    saturday_early = dt.datetime(2025, 3, 7, 16, 30, tzinfo=dt.UTC)
    assert cn.add_business_days(friday_late, 1).date() == D(2025, 3, 10)
    assert cn.add_business_days(saturday_early, 1).date() == D(2025, 3, 10)
    assert cn.add_business_days(saturday_early, 1).tzinfo == SHANGHAI


def test_negative_days_count_back_to_the_previous_working_day(cn: Calendar) -> None:
    deadline = dt.datetime(2026, 2, 24, 18, 0, tzinfo=SHANGHAI)
    assert cn.add_business_days(deadline, -1) == dt.datetime(2026, 2, 14, 18, 0, tzinfo=SHANGHAI)
    assert cn.business_days_between(deadline, dt.datetime(2026, 2, 14, 18, 0, tzinfo=SHANGHAI)) == -1


def test_zero_days_is_the_start_itself(cn: Calendar) -> None:
    start = dt.datetime(2026, 2, 15, 12, 0, tzinfo=SHANGHAI)
    assert cn.add_business_days(start, 0) is start
    assert cn.business_days_between(start, start) == 0


def test_united_states_calendar_knows_federal_holidays_and_weekends() -> None:
    us = Calendar(country="US", time_zone="America/New_York")
    for day in (D(2025, 7, 4), D(2025, 11, 27), D(2025, 12, 25), D(2026, 1, 1), D(2025, 3, 8), D(2025, 3, 9)):
        assert not us.is_business_day(day), day
    assert us.is_business_day(D(2025, 7, 7))
    assert us.holiday_name(D(2025, 7, 4))


def test_german_calendar_knows_national_holidays() -> None:
    de = Calendar(country="de", time_zone="Europe/Berlin")
    assert de.country == "DE"
    for day in (D(2025, 4, 18), D(2025, 4, 21), D(2025, 10, 3), D(2025, 12, 25), D(2025, 12, 26)):
        assert not de.is_business_day(day), day
    # No make-up days outside China: the 2025 Chinese ones are ordinary weekend days in Germany.
    assert not any(de.is_business_day(d) for d in CN_MAKEUP_DAYS[2025])


def test_same_wall_clock_time_across_the_spring_dst_change() -> None:
    us = Calendar(country="US", time_zone="America/New_York")
    friday = dt.datetime(2025, 3, 7, 9, 0, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    monday = us.add_business_days(friday, 1)
    assert (monday.date(), monday.hour, monday.minute) == (D(2025, 3, 10), 9, 0)
    assert monday.utcoffset() == dt.timedelta(hours=-4)
    assert monday.astimezone(dt.UTC) - friday.astimezone(dt.UTC) == dt.timedelta(hours=71)


def test_wall_time_inside_a_dst_gap_moves_forward() -> None:
    ny = zoneinfo.ZoneInfo("America/New_York")
    # A lead made Sunday 9 March 2025 a working day; 02:30 does not exist on it.
    us = Calendar(country="US", time_zone="America/New_York", extra_workdays=[D(2025, 3, 9)])
    due = us.add_business_days(dt.datetime(2025, 3, 7, 2, 30, tzinfo=ny), 1)
    assert due.astimezone(dt.UTC) == dt.datetime(2025, 3, 9, 7, 30, tzinfo=dt.UTC)
    assert (due.hour, due.minute) == (3, 30)


def test_ambiguous_wall_time_in_autumn_takes_the_first_occurrence() -> None:
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    de = Calendar(country="DE", time_zone="Europe/Berlin", extra_workdays=[D(2025, 10, 26)])
    due = de.add_business_days(dt.datetime(2025, 10, 24, 2, 30, tzinfo=berlin), 1)
    # Compare in UTC: Python never calls a datetime inside a fold equal to one in another zone (PEP 495).
    assert due.astimezone(dt.UTC) == dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC)
    assert due.utcoffset() == dt.timedelta(hours=2)


def test_extra_holidays_and_workdays_override_the_package() -> None:
    cal = Calendar(
        country="CN",
        time_zone="Asia/Shanghai",
        extra_holidays=[D(2025, 3, 3)],
        extra_workdays=[D(2025, 3, 8), D(2025, 10, 2)],
    )
    assert not cal.is_business_day(D(2025, 3, 3))
    assert cal.is_business_day(D(2025, 3, 8))
    assert cal.is_business_day(D(2025, 10, 2))
    start = dt.datetime(2025, 2, 28, 12, 0, tzinfo=SHANGHAI)  # Friday; the weekend and Mon 3 Mar are off
    assert cal.add_business_days(start, 1).date() == D(2025, 3, 4)


def test_a_day_cannot_be_both_extra_holiday_and_extra_workday() -> None:
    with pytest.raises(CalendarError, match="2025-03-03"):
        Calendar(country="CN", extra_holidays=[D(2025, 3, 3)], extra_workdays=[D(2025, 3, 3)])


@pytest.mark.parametrize("code", ["XX", "", "China", "C N", "<script>", "ZZZ" * 50])
def test_unknown_country_code_gives_a_clear_error(code: str) -> None:
    with pytest.raises(CalendarError, match="Unknown calendar country"):
        Calendar(country=code)


def test_naive_datetimes_are_refused(cn: Calendar) -> None:
    with pytest.raises(CalendarError, match="aware"):
        cn.add_business_days(dt.datetime(2025, 1, 2, 9, 0), 5)
    with pytest.raises(CalendarError, match="aware"):
        cn.business_days_between(dt.datetime(2025, 1, 2, 9, 0), D(2025, 1, 9))


def test_absurd_spans_are_refused_instead_of_hanging(cn: Calendar) -> None:
    start = dt.datetime(2025, 1, 2, 9, 0, tzinfo=SHANGHAI)
    with pytest.raises(CalendarError, match="too far"):
        cn.add_business_days(start, 10**9)
    with pytest.raises(CalendarError, match="too far"):
        cn.business_days_between(D(1, 1, 1), D(9999, 12, 31))


def test_unknown_time_zone_gives_a_clear_error() -> None:
    with pytest.raises(CalendarError, match="time zone"):
        _ = Calendar(country="CN", time_zone="Mars/Olympus").tz


def test_supported_countries_include_china_and_are_alpha2() -> None:
    codes = supported_countries()
    assert {"CN", "US", "DE"} <= set(codes)
    assert all(len(c) == 2 for c in codes)


def test_default_time_zone_is_the_settings_time_zone(settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    assert Calendar(country="DE").tz == zoneinfo.ZoneInfo("Europe/Berlin")


def test_holiday_tables_are_built_once_per_process_and_shared_by_its_threads(monkeypatch) -> None:
    monkeypatch.setattr(business_days, "_tables", {})
    built: list[str] = []
    real = holidays.country_holidays

    def slow_build(code: str, language: str | None = None) -> holidays.HolidayBase:
        built.append(code)
        time.sleep(0.05)  # long enough for every thread below to ask while the first one builds
        return real(code, language=language)

    monkeypatch.setattr(holidays, "country_holidays", slow_build)
    tables: list[object] = []
    threads = [threading.Thread(target=lambda: tables.append(country_holidays("DE"))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert built == ["DE"]
    assert len(tables) == 4 and all(table is country_holidays("DE") for table in tables)


def test_a_table_already_built_is_read_while_another_country_is_being_built(monkeypatch) -> None:
    """Only the building of a table is one thread at a time: a calendar whose table exists does not wait for it."""
    monkeypatch.setattr(business_days, "_tables", {})
    china = country_holidays("CN")
    building, finish = threading.Event(), threading.Event()
    real = holidays.country_holidays

    def slow_build(code: str, language: str | None = None) -> holidays.HolidayBase:
        building.set()
        finish.wait(10)
        return real(code, language=language)

    monkeypatch.setattr(holidays, "country_holidays", slow_build)
    builder = threading.Thread(target=lambda: country_holidays("DE"))
    builder.start()
    try:
        assert building.wait(10)
        found: list[object] = []
        reader = threading.Thread(target=lambda: found.append(country_holidays("CN")))
        reader.start()
        reader.join(2)
        assert found == [china]  # answered while Germany's table is still being built
    finally:
        finish.set()
        builder.join()


def test_threads_filling_different_years_of_one_table_at_once_each_get_their_year(monkeypatch) -> None:
    """The package fills a year through state of the table; the shared table must not mix two years filled at
    once. Threads switch every microsecond here, so without the table's lock the years do mix."""
    monkeypatch.setattr(business_days, "_tables", {})
    years = range(2030, 2042)

    def answers(table: Any, year: int) -> list[tuple[bool, str | None]]:
        day, found = D(year, 1, 1), []
        while day.year == year:
            found.append((table.is_working_day(day), table.name(day)))
            day += dt.timedelta(days=1)
        return found

    expected = {year: answers(business_days.HolidayTable(holidays.country_holidays("CN")), year) for year in years}
    shared = country_holidays("CN")
    got: dict[int, list[tuple[bool, str | None]]] = {}
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=lambda y=y: got.__setitem__(y, answers(shared, y))) for y in years]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert got == expected


starts = st.datetimes(
    min_value=dt.datetime(2024, 12, 1),
    max_value=dt.datetime(2026, 12, 31),
    timezones=st.just(SHANGHAI),
    allow_imaginary=False,
)
zones = st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/Berlin", "UTC"])


@settings(max_examples=150, deadline=None)
@given(start=starts, n=st.integers(min_value=-40, max_value=120))
def test_counting_back_the_days_added_gives_n(cn: Calendar, start: dt.datetime, n: int) -> None:
    due = cn.add_business_days(start, n)
    assert cn.business_days_between(start, due) == n
    if n:
        assert cn.is_business_day(due)
        assert (due.hour, due.minute, due.second) == (start.hour, start.minute, start.second)
        assert (due > start) == (n > 0)


@settings(max_examples=100, deadline=None)
@given(start=starts, n=st.integers(min_value=1, max_value=60), zone=zones)
def test_adding_then_subtracting_returns_to_a_business_day_start(start: dt.datetime, n: int, zone: str) -> None:
    cal = Calendar(country="DE", time_zone=zone)
    start = start.astimezone(cal.tz)
    while not cal.is_business_day(start):
        start += dt.timedelta(days=1)
        start = start.astimezone(cal.tz)
    there = cal.add_business_days(start, n)
    back = cal.add_business_days(there, -n)
    # Business days here are weekdays and DST changes on Sundays, so no wall time falls into a gap.
    assert back.replace(tzinfo=None) == start.replace(tzinfo=None, fold=0)
    if not start.fold:
        assert back.astimezone(dt.UTC) == start.astimezone(dt.UTC)


@settings(max_examples=100, deadline=None)
@given(start=starts, a=st.integers(min_value=0, max_value=50), b=st.integers(min_value=0, max_value=50))
def test_deadlines_grow_with_the_number_of_days(cn: Calendar, start: dt.datetime, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert cn.add_business_days(start, lo) <= cn.add_business_days(start, hi)


# --- what the mutation tests showed unchecked: exact messages, boundaries, languages, the default country ---------


class _NoOffset(dt.tzinfo):
    """A time zone that does not know its offset: a datetime with it is not aware (Python's own definition)."""

    def utcoffset(self, value: dt.datetime | None) -> None:
        return None

    def dst(self, value: dt.datetime | None) -> None:
        return None

    def tzname(self, value: dt.datetime | None) -> str:
        return "?"


def _message(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(CalendarError) as caught:
        call()
    return str(caught.value)


def test_the_default_calendar_is_china_s() -> None:
    cal = Calendar(time_zone="Asia/Shanghai")
    assert cal.country == "CN"
    assert not cal.is_business_day(D(2026, 10, 1))  # National Day
    assert cal.is_business_day(D(2026, 10, 10))  # its make-up Saturday


def test_holiday_names_follow_the_site_language() -> None:
    def names() -> list[str | None]:
        cn = Calendar(country="CN", time_zone="Asia/Shanghai")
        return [
            cn.holiday_name(D(2026, 10, 1), "zh-hans"),
            cn.holiday_name(D(2026, 10, 1), "en"),
            cn.holiday_name(D(2026, 10, 12), "zh-hans"),  # a plain working day
            # A country whose holidays the package does not name in Chinese keeps its own names.
            Calendar(country="DE").holiday_name(D(2026, 10, 3), "zh-hans"),
        ]

    # In another thread too, which shares the process's holiday tables.
    found: list[list[str | None]] = []
    thread = threading.Thread(target=lambda: found.append(names()))
    thread.start()
    thread.join()
    assert found == [names()] == [["国庆节", "National Day", None, "German Unity Day"]]


def test_a_day_listed_twice_is_named_in_a_readable_list() -> None:
    message = _message(
        lambda: Calendar(
            country="CN", extra_holidays=[D(2025, 3, 4), D(2025, 3, 3)], extra_workdays=[D(2025, 3, 3), D(2025, 3, 4)]
        )
    )
    assert message == "These days are listed both as extra holidays and as extra working days: 2025-03-03, 2025-03-04."


def test_bad_arguments_get_exact_messages(cn: Calendar) -> None:
    start = dt.datetime(2025, 1, 2, 9, 0, tzinfo=SHANGHAI)
    no_offset = dt.datetime(2025, 1, 2, 9, 0, tzinfo=_NoOffset())
    aware = "Deadlines are counted from an aware datetime (with its time zone)."
    assert _message(lambda: cn.add_business_days(no_offset, 1)) == aware
    assert _message(lambda: cn.add_business_days(D(2025, 1, 2), 1)) == aware  # type: ignore[arg-type]
    integer = "The number of business days must be an integer."
    assert _message(lambda: cn.add_business_days(start, True)) == integer
    assert _message(lambda: cn.add_business_days(start, 1.0)) == integer  # type: ignore[arg-type]
    date_or_aware = "Use an aware datetime (with its time zone) or a plain date."
    assert _message(lambda: cn.is_business_day(no_offset)) == date_or_aware
    assert _message(lambda: cn.is_business_day("2025-01-02")) == "Expected a date, got str."  # type: ignore[arg-type]
    assert (
        _message(lambda: Calendar(country="CN", extra_holidays=["2025-01-02"]))  # type: ignore[list-item]
        == "Extra holidays and working days must be dates, got str."
    )
    too_far = "These dates are too far apart to count business days between them."
    assert _message(lambda: cn.business_days_between(D(2000, 1, 1), D(2100, 1, 1))) == too_far


def test_the_longest_span_is_allowed_and_one_day_more_is_refused() -> None:
    first = D(2025, 1, 1)
    every_day = [first + dt.timedelta(days=i) for i in range(1, MAX_SPAN_DAYS + 2)]
    cal = Calendar(country="CN", time_zone="Asia/Shanghai", extra_workdays=every_day)
    start = dt.datetime.combine(first, dt.time(9, 0), tzinfo=SHANGHAI)
    assert cal.add_business_days(start, MAX_SPAN_DAYS).date() == first + dt.timedelta(days=MAX_SPAN_DAYS)
    with pytest.raises(CalendarError, match="too far away"):
        cal.add_business_days(start, MAX_SPAN_DAYS + 1)
    last = first + dt.timedelta(days=MAX_SPAN_DAYS)
    assert cal.business_days_between(first, last) == MAX_SPAN_DAYS
    with pytest.raises(CalendarError, match="too far apart"):
        cal.business_days_between(first, last + dt.timedelta(days=1))


def test_from_the_second_of_two_equal_wall_times_the_deadline_takes_the_first() -> None:
    # Both ends on the night clocks go back (a Sunday each year, worked here): the start is the second 02:30
    # (winter time), the deadline a year later is at the first 02:30 (summer time), like every other deadline.
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    start_day, end_day = D(2025, 10, 26), D(2026, 10, 25)
    de = Calendar(country="DE", time_zone="Europe/Berlin", extra_workdays=[start_day, end_day])
    start = dt.datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=berlin)
    assert start.utcoffset() == dt.timedelta(hours=1)
    due = de.add_business_days(start, de.business_days_between(start_day, end_day))
    assert due.astimezone(dt.UTC) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
