"""The one clock function of regulatory reporting: when each stage of an obligation is due, computed from its
triggers every time it is asked (never stored as a timer, so a clock survives restarts and follows a corrected
trigger at once).

EU Cyber Resilience Act, Art. 14 — calendar time in UTC, never business days:

- early warning: aware + 24 hours; notification: aware + 72 hours (both tracks);
- vulnerability final report: the moment a corrective or mitigating measure became available + 14 days;
- severe-incident final report: the notification's SUBMISSION + one calendar month (same day of the next month,
  the month's last day when it has no such day), never the notification's due time;
- an intermediate report the coordinator CSIRT asked for: the due date it gave.

China (Provisions on network product security vulnerabilities, Art. 7): MIIT report = aware + 2 days; calendar
days by default, working days of the Chinese calendar (`psirt.lib.business_days.Calendar`, country CN, in
Asia/Shanghai) when `PSIRT_MIIT_WORKING_DAYS=1`.

Arithmetic is done on UTC instants: adding a timedelta to an aware datetime in a local zone would add wall-clock
time and gain or lose the hour of a DST change.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _

from psirt.lib.business_days import Calendar

UTC = dt.UTC

EARLY_WARNING_HOURS = 24
NOTIFICATION_HOURS = 72
VULNERABILITY_FINAL_DAYS = 14
MIIT_DAYS = 2
CHINA_TIME_ZONE = "Asia/Shanghai"


class Track(models.TextChoices):
    VULNERABILITY = "vulnerability", _("Actively exploited vulnerability (EU CRA)")
    INCIDENT = "incident", _("Severe incident (EU CRA)")
    MIIT = "miit", _("Vulnerability report to MIIT (China)")


class Stage(models.TextChoices):
    EARLY_WARNING = "early_warning", _("Early warning (24 h)")
    NOTIFICATION = "notification", _("Notification (72 h)")
    FINAL = "final", _("Final report")
    INTERMEDIATE = "intermediate", _("Intermediate report")
    MIIT = "miit", _("MIIT report (2 days)")


EU_TRACKS = (Track.VULNERABILITY, Track.INCIDENT)
STAGES_OF: Mapping[str, tuple[str, ...]] = {
    Track.VULNERABILITY: (Stage.EARLY_WARNING, Stage.NOTIFICATION, Stage.FINAL),
    Track.INCIDENT: (Stage.EARLY_WARNING, Stage.NOTIFICATION, Stage.FINAL),
    Track.MIIT: (Stage.MIIT,),
}


class ClockError(ValueError):
    """A trigger that cannot start a clock (a naive datetime)."""


@dataclass(frozen=True)
class IntermediateRequest:
    """A coordinator CSIRT's request for an intermediate report: its own due time, answered or not."""

    key: str
    requested_at: dt.datetime
    due_at: dt.datetime
    answered_at: dt.datetime | None = None


@dataclass(frozen=True)
class Triggers:
    """The facts the clocks of one obligation are computed from."""

    track: str
    aware_at: dt.datetime
    measure_available_at: dt.datetime | None = None
    notification_submitted_at: dt.datetime | None = None
    submitted: Mapping[str, dt.datetime] = field(default_factory=dict)  # stage → first submission
    intermediate: Sequence[IntermediateRequest] = ()
    miit_working_days: bool = False


@dataclass(frozen=True)
class Clock:
    """One stage's clock. `due_at` is None while its trigger has not happened yet (`waiting_for` says which)."""

    stage: str
    started_at: dt.datetime | None
    due_at: dt.datetime | None
    submitted_at: dt.datetime | None = None
    waiting_for: str = ""
    key: str = ""  # the intermediate request's key; "" for the fixed stages

    @property
    def done(self) -> bool:
        return self.submitted_at is not None

    def met(self) -> bool | None:
        """True when submitted by the deadline, False when submitted late or still open past it, None when
        still open before it (or not started)."""
        if self.due_at is None:
            return None
        if self.submitted_at is not None:
            return self.submitted_at <= self.due_at
        return None

    def overdue(self, now: dt.datetime) -> bool:
        return self.due_at is not None and self.submitted_at is None and utc(now) > self.due_at

    def time_left(self, now: dt.datetime) -> dt.timedelta | None:
        return None if self.due_at is None else self.due_at - utc(now)

    def elapsed_fraction(self, now: dt.datetime) -> float | None:
        """How much of the clock has run (0.0 at the start, 1.0 at the deadline, more when overdue)."""
        if self.due_at is None or self.started_at is None:
            return None
        span = (self.due_at - self.started_at).total_seconds()
        if span <= 0:
            return 1.0
        return (utc(now) - self.started_at).total_seconds() / span


def utc(value: dt.datetime) -> dt.datetime:
    """The same instant in UTC; a naive datetime is refused (its instant is unknown)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ClockError("Regulatory clocks start from an aware datetime (with its time zone).")
    return value.astimezone(UTC)


def add_hours(start: dt.datetime, hours: int) -> dt.datetime:
    """`hours` calendar hours after `start`, in UTC."""
    return utc(start) + dt.timedelta(hours=hours)


def add_one_month(start: dt.datetime) -> dt.datetime:
    """One calendar month after `start` in UTC: the same day and time of the next month, or that month's last day
    when it is shorter (31 January → 28 or 29 February)."""
    s = utc(start)
    year, month = (s.year + 1, 1) if s.month == 12 else (s.year, s.month + 1)
    day = min(s.day, month_calendar.monthrange(year, month)[1])
    return s.replace(year=year, month=month, day=day)


def china_calendar() -> Calendar:
    """The Chinese working-day calendar (public holidays and make-up working days), in Asia/Shanghai."""
    return Calendar(country="CN", time_zone=CHINA_TIME_ZONE)


def miit_due(aware_at: dt.datetime, *, working_days: bool, calendar: Calendar | None = None) -> dt.datetime:
    """The MIIT report's deadline: 2 calendar days after awareness, or 2 Chinese working days when configured."""
    if not working_days:
        return add_hours(aware_at, MIIT_DAYS * 24)
    return utc((calendar or china_calendar()).add_business_days(utc(aware_at), MIIT_DAYS))


def clocks(triggers: Triggers) -> list[Clock]:
    """Every clock of an obligation, in stage order, intermediate requests last (the one rule for all)."""
    aware = utc(triggers.aware_at)
    done = {stage: utc(at) for stage, at in triggers.submitted.items()}
    if triggers.track == Track.MIIT:
        due = miit_due(aware, working_days=triggers.miit_working_days)
        return [Clock(Stage.MIIT, aware, due, done.get(Stage.MIIT))]
    if triggers.track not in EU_TRACKS:
        raise ClockError(f"Unknown track {triggers.track!r}.")
    result = [
        Clock(Stage.EARLY_WARNING, aware, add_hours(aware, EARLY_WARNING_HOURS), done.get(Stage.EARLY_WARNING)),
        Clock(Stage.NOTIFICATION, aware, add_hours(aware, NOTIFICATION_HOURS), done.get(Stage.NOTIFICATION)),
    ]
    if triggers.track == Track.VULNERABILITY:
        measure = triggers.measure_available_at
        if measure is None:
            result.append(Clock(Stage.FINAL, None, None, done.get(Stage.FINAL), waiting_for="measure_available"))
        else:
            start = utc(measure)
            final = start + dt.timedelta(days=VULNERABILITY_FINAL_DAYS)
            result.append(Clock(Stage.FINAL, start, final, done.get(Stage.FINAL)))
    else:
        submitted = triggers.notification_submitted_at or done.get(Stage.NOTIFICATION)
        if submitted is None:
            result.append(Clock(Stage.FINAL, None, None, done.get(Stage.FINAL), waiting_for="notification_submitted"))
        else:
            start = utc(submitted)
            result.append(Clock(Stage.FINAL, start, add_one_month(start), done.get(Stage.FINAL)))
    for request in triggers.intermediate:
        answered = utc(request.answered_at) if request.answered_at else None
        result.append(
            Clock(Stage.INTERMEDIATE, utc(request.requested_at), utc(request.due_at), answered, key=request.key)
        )
    return result
