"""The clock rules: calendar UTC hours for the EU, the right trigger for each final report, and the MIIT 2 days
(calendar, or Chinese working days when configured). Awareness is given in local zones on purpose: the result
must be the same instant whatever the zone or the server's TIME_ZONE."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from psirt.regulatory.clocks import (
    ClockError,
    IntermediateRequest,
    Stage,
    Track,
    Triggers,
    add_one_month,
    clocks,
    miit_due,
)

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _due(triggers: Triggers) -> dict[str, dt.datetime]:
    """The due times of the clocks that run (those waiting for a trigger are left out)."""
    return {c.stage: c.due_at for c in clocks(triggers) if c.stage != Stage.INTERMEDIATE and c.due_at is not None}


@pytest.mark.parametrize("time_zone", ["Europe/Berlin", "Asia/Shanghai", "UTC"])
def test_dst_spring_forward_in_berlin_is_still_24_real_hours(settings, time_zone: str) -> None:
    settings.TIME_ZONE = time_zone
    # 2026-03-29 02:00 CET → 03:00 CEST: the local day has 23 hours.
    aware = dt.datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)
    due = _due(Triggers(track=Track.VULNERABILITY, aware_at=aware))
    assert due[Stage.EARLY_WARNING] == dt.datetime(2026, 3, 29, 11, 0, tzinfo=UTC)
    assert due[Stage.EARLY_WARNING] - aware == dt.timedelta(hours=24)
    assert due[Stage.NOTIFICATION] - aware == dt.timedelta(hours=72)
    # In Berlin wall-clock time the early warning is due at 13:00, not 12:00: the lost hour counts.
    assert due[Stage.EARLY_WARNING].astimezone(BERLIN).hour == 13


def test_dst_fall_back_in_berlin(settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    # 2026-10-25 03:00 CEST → 02:00 CET: the local day has 25 hours.
    aware = dt.datetime(2026, 10, 24, 12, 0, tzinfo=BERLIN)
    due = _due(Triggers(track=Track.INCIDENT, aware_at=aware))
    assert due[Stage.EARLY_WARNING] == dt.datetime(2026, 10, 25, 10, 0, tzinfo=UTC)
    assert due[Stage.EARLY_WARNING].astimezone(BERLIN).hour == 11


def test_shanghai_awareness_gives_the_same_instant(settings) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    aware = dt.datetime(2026, 6, 1, 7, 30, tzinfo=SHANGHAI)  # 2026-05-31 23:30 UTC
    due = _due(Triggers(track=Track.VULNERABILITY, aware_at=aware))
    assert due[Stage.EARLY_WARNING] == dt.datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    assert due[Stage.NOTIFICATION] == dt.datetime(2026, 6, 3, 23, 30, tzinfo=UTC)


def test_awareness_at_2359_utc_crosses_midnight_and_month() -> None:
    aware = dt.datetime(2026, 9, 30, 23, 59, tzinfo=UTC)
    due = _due(Triggers(track=Track.VULNERABILITY, aware_at=aware))
    assert due[Stage.EARLY_WARNING] == dt.datetime(2026, 10, 1, 23, 59, tzinfo=UTC)
    assert due[Stage.NOTIFICATION] == dt.datetime(2026, 10, 3, 23, 59, tzinfo=UTC)


def test_leap_day() -> None:
    aware = dt.datetime(2028, 2, 28, 10, 0, tzinfo=UTC)
    due = _due(Triggers(track=Track.VULNERABILITY, aware_at=aware))
    assert due[Stage.EARLY_WARNING] == dt.datetime(2028, 2, 29, 10, 0, tzinfo=UTC)
    assert due[Stage.NOTIFICATION] == dt.datetime(2028, 3, 2, 10, 0, tzinfo=UTC)
    # In a common year the same awareness gives 1 March.
    common = _due(Triggers(track=Track.VULNERABILITY, aware_at=aware.replace(year=2027)))
    assert common[Stage.EARLY_WARNING] == dt.datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "aware",
    [
        dt.datetime(2026, 12, 5, 9, 0, tzinfo=UTC),  # a Saturday
        dt.datetime(2027, 2, 6, 9, 0, tzinfo=SHANGHAI),  # Spring Festival 2027 (6-12 February off in China)
        dt.datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI),  # National Day golden week
        dt.datetime(2026, 12, 25, 9, 0, tzinfo=BERLIN),  # Christmas in Germany
    ],
)
def test_weekends_and_holidays_do_not_stop_eu_clocks(aware: dt.datetime) -> None:
    due = _due(Triggers(track=Track.VULNERABILITY, aware_at=aware))
    assert due[Stage.EARLY_WARNING] - aware == dt.timedelta(hours=24)
    assert due[Stage.NOTIFICATION] - aware == dt.timedelta(hours=72)


def test_vulnerability_final_waits_for_the_measure_then_runs_14_days() -> None:
    aware = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    waiting = {c.stage: c for c in clocks(Triggers(track=Track.VULNERABILITY, aware_at=aware))}[Stage.FINAL]
    assert Stage.FINAL not in _due(Triggers(track=Track.VULNERABILITY, aware_at=aware))
    assert waiting.due_at is None
    assert waiting.waiting_for == "measure_available"
    measure = dt.datetime(2026, 11, 20, 15, 0, tzinfo=BERLIN)
    # The notification's submission is no trigger for a vulnerability's final report.
    t = Triggers(
        track=Track.VULNERABILITY,
        aware_at=aware,
        measure_available_at=measure,
        notification_submitted_at=dt.datetime(2026, 11, 4, 8, 0, tzinfo=UTC),
    )
    assert _due(t)[Stage.FINAL] == dt.datetime(2026, 12, 4, 14, 0, tzinfo=UTC)


def test_incident_final_is_one_month_after_the_notification_was_submitted() -> None:
    aware = dt.datetime(2026, 1, 28, 8, 0, tzinfo=UTC)
    waiting = {c.stage: c for c in clocks(Triggers(track=Track.INCIDENT, aware_at=aware))}[Stage.FINAL]
    assert waiting.due_at is None
    assert waiting.waiting_for == "notification_submitted"
    # Submitted early (before its 72 h deadline): the final report counts from the submission, not the deadline;
    # and the measure-available time is no trigger for an incident.
    submitted = dt.datetime(2026, 1, 31, 6, 0, tzinfo=UTC)
    t = Triggers(
        track=Track.INCIDENT,
        aware_at=aware,
        notification_submitted_at=submitted,
        measure_available_at=dt.datetime(2026, 1, 29, tzinfo=UTC),
    )
    assert _due(t)[Stage.FINAL] == dt.datetime(2026, 2, 28, 6, 0, tzinfo=UTC)


def test_incident_final_from_the_submission_record() -> None:
    aware = dt.datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    t = Triggers(
        track=Track.INCIDENT, aware_at=aware, submitted={Stage.NOTIFICATION: dt.datetime(2026, 3, 12, 9, 0, tzinfo=UTC)}
    )
    assert _due(t)[Stage.FINAL] == dt.datetime(2026, 4, 12, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (dt.datetime(2026, 1, 31, 12, tzinfo=UTC), dt.datetime(2026, 2, 28, 12, tzinfo=UTC)),
        (dt.datetime(2028, 1, 31, 12, tzinfo=UTC), dt.datetime(2028, 2, 29, 12, tzinfo=UTC)),
        (dt.datetime(2026, 12, 15, 12, tzinfo=UTC), dt.datetime(2027, 1, 15, 12, tzinfo=UTC)),
        (dt.datetime(2026, 3, 31, 23, 59, tzinfo=UTC), dt.datetime(2026, 4, 30, 23, 59, tzinfo=UTC)),
        (dt.datetime(2026, 5, 15, 1, 0, tzinfo=SHANGHAI), dt.datetime(2026, 6, 14, 17, 0, tzinfo=UTC)),
    ],
)
def test_one_month(start: dt.datetime, expected: dt.datetime) -> None:
    assert add_one_month(start) == expected


def test_miit_two_calendar_days_by_default() -> None:
    aware = dt.datetime(2027, 2, 5, 10, 0, tzinfo=SHANGHAI)  # the Friday before Spring Festival 2027
    (clock,) = clocks(Triggers(track=Track.MIIT, aware_at=aware))
    assert clock.stage == Stage.MIIT
    assert clock.due_at == aware.astimezone(UTC) + dt.timedelta(days=2)


def test_miit_working_days_skip_spring_festival() -> None:
    aware = dt.datetime(2027, 2, 5, 10, 0, tzinfo=SHANGHAI)
    (clock,) = clocks(Triggers(track=Track.MIIT, aware_at=aware, miit_working_days=True))
    assert clock.due_at is not None
    # The holidays package has 5-10 February 2027 off (New Year's Eve to the observed days); the 2nd working day
    # after a Friday awareness is then Friday 12 February, same local time. Calendar days would give 7 February.
    assert clock.due_at.astimezone(SHANGHAI) == dt.datetime(2027, 2, 12, 10, 0, tzinfo=SHANGHAI)
    calendar_days = miit_due(aware, working_days=False)
    assert clock.due_at > calendar_days


def test_miit_working_days_over_a_weekend() -> None:
    aware = dt.datetime(2026, 12, 4, 16, 0, tzinfo=SHANGHAI)  # Friday
    due = miit_due(aware, working_days=True)
    assert due.astimezone(SHANGHAI) == dt.datetime(2026, 12, 8, 16, 0, tzinfo=SHANGHAI)  # Tuesday


def test_intermediate_request_has_its_own_due_date_and_closes_when_answered() -> None:
    aware = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    asked = dt.datetime(2026, 11, 6, 8, 0, tzinfo=UTC)
    due = dt.datetime(2026, 11, 13, 17, 0, tzinfo=BERLIN)
    answered = dt.datetime(2026, 11, 12, 9, 0, tzinfo=UTC)
    t = Triggers(
        track=Track.VULNERABILITY,
        aware_at=aware,
        intermediate=[IntermediateRequest("r1", asked, due), IntermediateRequest("r2", asked, due, answered)],
    )
    inter = [c for c in clocks(t) if c.stage == Stage.INTERMEDIATE]
    assert [c.key for c in inter] == ["r1", "r2"]
    assert inter[0].due_at == dt.datetime(2026, 11, 13, 16, 0, tzinfo=UTC)
    assert inter[0].started_at == asked
    assert not inter[0].done and inter[1].done
    assert inter[1].met() is True


def test_met_missed_overdue_and_fraction() -> None:
    aware = dt.datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    t = Triggers(
        track=Track.VULNERABILITY,
        aware_at=aware,
        submitted={Stage.EARLY_WARNING: aware + dt.timedelta(hours=25)},
    )
    ew, notif, final = clocks(t)
    assert ew.done and ew.met() is False
    now = aware + dt.timedelta(hours=36)
    assert notif.elapsed_fraction(now) == pytest.approx(0.5)
    assert not notif.overdue(now)
    assert notif.time_left(now) == dt.timedelta(hours=36)
    assert notif.overdue(aware + dt.timedelta(hours=72, seconds=1))
    assert not notif.overdue(aware + dt.timedelta(hours=72))
    assert notif.met() is None
    assert final.elapsed_fraction(now) is None and not final.overdue(now)
    # A submitted clock is never overdue.
    assert not ew.overdue(aware + dt.timedelta(days=30))


def test_naive_awareness_is_refused() -> None:
    with pytest.raises(ClockError):
        clocks(Triggers(track=Track.VULNERABILITY, aware_at=dt.datetime(2026, 1, 1, 12, 0)))


def test_unknown_track_is_refused() -> None:
    with pytest.raises(ClockError):
        clocks(Triggers(track="nis2", aware_at=dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC)))


def test_every_submission_closes_its_own_clock() -> None:
    aware = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    at: dict[str, dt.datetime] = {
        Stage.EARLY_WARNING: aware + dt.timedelta(hours=20),
        Stage.NOTIFICATION: aware + dt.timedelta(hours=70),
        Stage.FINAL: aware + dt.timedelta(days=20),
    }
    for track in (Track.VULNERABILITY, Track.INCIDENT):
        # The final stage is closed by its submission even before its own clock started.
        result = {c.stage: c.submitted_at for c in clocks(Triggers(track=track, aware_at=aware, submitted=at))}
        assert result == at
        open_ = {c.stage: c.submitted_at for c in clocks(Triggers(track=track, aware_at=aware))}
        assert set(open_.values()) == {None}
    (miit,) = clocks(Triggers(track=Track.MIIT, aware_at=aware, submitted={Stage.MIIT: at[Stage.EARLY_WARNING]}))
    assert miit.done and miit.met() is True


def test_chinese_working_days_are_counted_in_shanghai_whatever_the_server_zone(settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    aware = dt.datetime(2026, 12, 5, 0, 30, tzinfo=SHANGHAI)  # Saturday in Shanghai, still Friday in Berlin
    due = miit_due(aware, working_days=True)
    assert due == dt.datetime(2026, 12, 8, 0, 30, tzinfo=SHANGHAI)  # Tuesday, 2 working days after the weekend


def test_a_clock_with_no_span_is_fully_elapsed() -> None:
    aware = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    asked = dt.datetime(2026, 11, 5, 8, 0, tzinfo=UTC)
    t = Triggers(track=Track.INCIDENT, aware_at=aware, intermediate=[IntermediateRequest("r", asked, asked)])
    inter = clocks(t)[-1]
    assert inter.elapsed_fraction(asked - dt.timedelta(hours=1)) == 1.0
    assert inter.time_left(asked) == dt.timedelta(0)


def test_a_naive_now_is_refused_too() -> None:
    (clock,) = clocks(Triggers(track=Track.MIIT, aware_at=dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC)))
    with pytest.raises(ClockError, match="aware datetime"):
        clock.overdue(dt.datetime(2026, 1, 2, 12, 0))


def test_filed_exactly_at_the_deadline_is_met() -> None:
    aware = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    on_time: dict[str, dt.datetime] = {Stage.EARLY_WARNING: aware + dt.timedelta(hours=24)}
    (early, *_rest) = clocks(Triggers(track=Track.VULNERABILITY, aware_at=aware, submitted=on_time))
    assert early.met() is True
    late: dict[str, dt.datetime] = {Stage.EARLY_WARNING: aware + dt.timedelta(hours=24, seconds=1)}
    (early, *_rest) = clocks(Triggers(track=Track.VULNERABILITY, aware_at=aware, submitted=late))
    assert early.met() is False


def test_each_clock_starts_at_its_trigger() -> None:
    """The start is what the 50 % and 80 % reminders count from."""
    aware = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    measure = dt.datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
    notified = dt.datetime(2026, 11, 4, 8, 0, tzinfo=UTC)
    vuln = {c.stage: c.started_at for c in clocks(Triggers(Track.VULNERABILITY, aware, measure_available_at=measure))}
    assert vuln == {Stage.EARLY_WARNING: aware, Stage.NOTIFICATION: aware, Stage.FINAL: measure}
    incident = {
        c.stage: c.started_at for c in clocks(Triggers(Track.INCIDENT, aware, notification_submitted_at=notified))
    }
    assert incident == {Stage.EARLY_WARNING: aware, Stage.NOTIFICATION: aware, Stage.FINAL: notified}
    (miit,) = clocks(Triggers(Track.MIIT, aware))
    assert miit.started_at == aware
    assert miit.elapsed_fraction(aware + dt.timedelta(days=1)) == pytest.approx(0.5)


def test_a_final_report_filed_before_its_trigger_is_still_recorded() -> None:
    aware = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    filed: dict[str, dt.datetime] = {Stage.FINAL: aware + dt.timedelta(days=3)}
    for track in (Track.VULNERABILITY, Track.INCIDENT):
        t = Triggers(track=track, aware_at=aware, submitted=filed, notification_submitted_at=None)
        final = clocks(t)[2]
        if track == Track.INCIDENT:
            # The notification's submission is the trigger; the final report's own submission is not.
            assert final.due_at is None and final.submitted_at == filed[Stage.FINAL]
        else:
            assert final.due_at is None and final.done
    measured = Triggers(
        track=Track.VULNERABILITY, aware_at=aware, submitted=filed, measure_available_at=aware + dt.timedelta(days=1)
    )
    assert clocks(measured)[2].submitted_at == filed[Stage.FINAL]


def test_a_waiting_clock_has_no_time_left_and_is_not_overdue() -> None:
    aware = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    final = clocks(Triggers(track=Track.VULNERABILITY, aware_at=aware))[2]
    later = aware + dt.timedelta(days=400)
    assert final.time_left(later) is None
    assert final.elapsed_fraction(later) is None
    assert not final.overdue(later)
