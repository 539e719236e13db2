"""Business-day calendar for deadlines.

A business day is a day that is not a weekend day of the configured country, not one of its public holidays,
and not an extra holiday a lead added — unless it is a make-up working day. China moves weekend days to working
days around its long holidays (调休); the `holidays` package ships those make-up days for the years the State
Council has announced (`weekend_workdays`, checked for 2025 and 2026 against the notices cited in
`holidays/countries/china.py`: 2025 — Jan 26, Feb 8, Apr 27, Sep 28, Oct 11; 2026 — Jan 4, Feb 14, Feb 28,
May 9, Sep 20, Oct 10). For later years the package only knows the holidays computed by rule, so leads add the
announced days as `extra_holidays` / `extra_workdays` (edited in a table; passed in by the caller, see
`psirt.organization.queries.organization_calendar`).

Convention for deadlines (`add_business_days`): the day something happens never counts, whatever the hour; the
deadline falls on the n-th business day *after* that local day, at the same local wall-clock time. A report
received at 18:00 on Friday 13 February 2026 (the last working day before the Spring Festival) with 5 business
days to acknowledge is due at 18:00 on Friday 27 February 2026: Saturday 14 Feb is a make-up working day (1),
the Festival runs 15–23 Feb, then 24, 25, 26, 27 Feb (2–5). The same rule applies to something received on a holiday
or a weekend: counting starts on the next day. Keeping the hour (rather than rounding to end of day) means
every reporter gets the full promised span, and the stored instant is exact in any time zone.
"""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from collections.abc import Iterable
from functools import cached_property

import holidays
from django.conf import settings

__all__ = ["Calendar", "CalendarError", "supported_countries"]

# A deadline further than this is a bug (or hostile input), not a plan; looping over it would hang a request.
MAX_SPAN_DAYS = 366 * 20


class CalendarError(ValueError):
    """The calendar cannot be built or used as asked; the message says what to change."""


class HolidayTable:
    """One country's public holidays in one language, shared by every thread of the process: building a country's
    table costs more than a whole report submission (the first one in a process several times that), and it
    changes only with the `holidays` package. The package fills in a year on first use through state of the table
    itself (the year being filled), which two threads filling two years at once would mix up, so every read
    holds the table's lock; a read of a year already filled holds it for a dictionary lookup."""

    def __init__(self, table: holidays.HolidayBase) -> None:
        self._table = table
        self._lock = threading.Lock()
        self.supported_languages: tuple[str, ...] = tuple(getattr(table, "supported_languages", ()) or ())

    def is_working_day(self, day: dt.date) -> bool:
        """Not a weekend day of the country nor one of its holidays, or one of its make-up working days."""
        with self._lock:
            return bool(self._table.is_working_day(day))

    def name(self, day: dt.date) -> str | None:
        """The holiday's name on `day`; None on other days."""
        with self._lock:
            found = self._table.get(day)
        return str(found) if found else None


_tables: dict[tuple[str, str | None], HolidayTable] = {}
_building = threading.Lock()


def country_holidays(code: str, language: str | None = None) -> HolidayTable:
    """The public holidays of one country, built once per process and shared by every calendar of every thread.
    `language` (the package's code, e.g. "en_US", "zh_CN") names the holidays; None is the country's default.
    Raises what `holidays.country_holidays` raises for a country it does not know."""
    found = _tables.get((code, language))
    if found is None:
        with _building:  # one thread builds a table the others then wait for, instead of each building its own
            found = _tables.get((code, language))
            if found is None:
                found = _tables[(code, language)] = HolidayTable(holidays.country_holidays(code, language=language))
    return found


# Site languages (Django codes) to the holiday package's codes; a country without that language keeps its own.
HOLIDAY_LANGUAGES = {"en": "en_US", "zh-hans": "zh_CN"}


def supported_countries() -> list[str]:
    """ISO 3166 alpha-2 codes the `holidays` package can build a calendar for (for the profile form)."""
    return sorted(code for code in holidays.list_supported_countries() if len(code) == 2)


class Calendar:
    """Working days of one country plus the team's own corrections.

    `extra_holidays` are days off on top of the public holidays (company shutdown, a holiday the package does
    not know yet); `extra_workdays` are days worked although the package says otherwise (make-up days of a year
    the package does not cover). A day cannot be both.
    """

    def __init__(
        self,
        *,
        country: str = "CN",
        extra_holidays: Iterable[dt.date] = (),
        extra_workdays: Iterable[dt.date] = (),
        time_zone: str | None = None,
    ) -> None:
        code = (country or "").strip().upper()
        try:
            self._holidays = country_holidays(code)
        except (NotImplementedError, KeyError, AttributeError) as exc:
            raise CalendarError(
                f"Unknown calendar country {country!r}: use an ISO 3166 alpha-2 code known to the holidays "
                f"package, e.g. CN, US or DE."
            ) from exc
        self.country = code
        self.extra_holidays = frozenset(_as_date(d) for d in extra_holidays)
        self.extra_workdays = frozenset(_as_date(d) for d in extra_workdays)
        both = self.extra_holidays & self.extra_workdays
        if both:
            days = ", ".join(d.isoformat() for d in sorted(both))
            raise CalendarError(f"These days are listed both as extra holidays and as extra working days: {days}.")
        self._time_zone_name = time_zone

    def __repr__(self) -> str:
        return f"Calendar(country={self.country!r})"

    @cached_property
    def tz(self) -> zoneinfo.ZoneInfo:
        """The zone deadlines are counted in: the one given, else settings.TIME_ZONE."""
        name = self._time_zone_name
        if name is None:
            name = settings.TIME_ZONE
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(f"Unknown time zone {name!r}: use an IANA name such as Asia/Shanghai.") from exc

    def is_business_day(self, day: dt.date) -> bool:
        """True when people work on `day` (a date, or the local date of an aware datetime)."""
        d = self._local_date(day)
        if d in self.extra_workdays:
            return True
        if d in self.extra_holidays:
            return False
        # is_working_day knows the country's weekend, its holidays and its make-up working days.
        return self._holidays.is_working_day(d)

    def holiday_name(self, day: dt.date, language: str | None = None) -> str | None:
        """The public holiday's name on `day`, for display; None on other days. `language` is a site language
        ("en", "zh-hans"); the name is in that language when the package knows it for this country."""
        table = self._holidays
        code = HOLIDAY_LANGUAGES.get((language or "").lower())
        if code and code in table.supported_languages:
            table = country_holidays(self.country, code)
        return table.name(self._local_date(day))

    def add_business_days(self, start: dt.datetime, n: int) -> dt.datetime:
        """The instant `n` business days after `start`, at the same local time (see the module docstring).

        `start` must be aware. A negative `n` counts backwards (the working day before a deadline, for
        reminders); `n == 0` returns `start` itself. The result is aware, in the calendar's zone; on a day when
        that wall-clock time does not exist (DST gap) it is moved forward by the gap.
        """
        if not isinstance(start, dt.datetime) or start.tzinfo is None or start.utcoffset() is None:
            raise CalendarError("Deadlines are counted from an aware datetime (with its time zone).")
        if not isinstance(n, int) or isinstance(n, bool):
            raise CalendarError("The number of business days must be an integer.")
        if n == 0:
            return start
        local = start.astimezone(self.tz)
        step = dt.timedelta(days=1 if n > 0 else -1)
        day = local.date()
        remaining = abs(n)
        walked = 0
        while remaining:
            day += step
            walked += 1
            if walked > MAX_SPAN_DAYS:
                raise CalendarError(f"{n} business days is too far away to be a deadline.")
            if self.is_business_day(day):
                remaining -= 1
        wall = dt.datetime.combine(day, local.timetz().replace(tzinfo=None, fold=0), tzinfo=self.tz)
        # Round-trip through UTC so a wall time inside a DST gap becomes a real instant.
        return wall.astimezone(dt.UTC).astimezone(self.tz)

    def business_days_between(self, a: dt.date, b: dt.date) -> int:
        """Business days from `a` to `b`: the number of business days d with a < d <= b.

        When `b` is earlier, minus the number of business days d with b <= d < a (the days walked over when
        counting backwards). Dates or aware datetimes (their local date is used). Consistent with
        `add_business_days`: `business_days_between(s, add_business_days(s, n)) == n` for every n.
        """
        start, end = self._local_date(a), self._local_date(b)
        if abs((end - start).days) > MAX_SPAN_DAYS:
            raise CalendarError("These dates are too far apart to count business days between them.")
        if end >= start:
            days = (start + dt.timedelta(days=i) for i in range(1, (end - start).days + 1))
            return sum(1 for d in days if self.is_business_day(d))
        days = (end + dt.timedelta(days=i) for i in range((start - end).days))
        return -sum(1 for d in days if self.is_business_day(d))

    def _local_date(self, value: dt.date) -> dt.date:
        if isinstance(value, dt.datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise CalendarError("Use an aware datetime (with its time zone) or a plain date.")
            return value.astimezone(self.tz).date()
        if isinstance(value, dt.date):
            return value
        raise CalendarError(f"Expected a date, got {type(value).__name__}.")


def _as_date(value: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise CalendarError(f"Extra holidays and working days must be dates, got {type(value).__name__}.")
