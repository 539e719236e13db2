"""Each figure against the hand-computed history of conftest.py (Spring Festival 2026, Shanghai time)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from psirt.accounts.models import User
from psirt.metrics.exceptions import MetricsError
from psirt.metrics.queries import (
    AGE_BANDS,
    BusinessOrdinals,
    Filters,
    Metrics,
    cell_cases,
    compute,
    parse_filters,
)
from psirt.metrics.tests.conftest import NOW, History, at, make_case
from psirt.organization.queries import organization_calendar

PERIOD = Filters(start=dt.date(2026, 1, 1), end=dt.date(2026, 4, 15))
FEB, MAR, APR, JUN = (dt.date(2026, m, 1) for m in (2, 3, 4, 6))


def figures(user: User, filters: Filters = PERIOD) -> Metrics:
    return compute(user, filters, now=NOW)


def test_durations_count_business_days_across_the_spring_festival(lead: User, history: History) -> None:
    m = figures(lead)
    ack = m.durations["acknowledge"]
    # A and B: Fri 13 Feb → Fri 27 Feb is 5 business days (14 Feb worked, 15–23 Feb off); C and F: 1.
    assert ack.unit == "business"
    assert ack.histogram == {5: 2, 1: 2}
    assert (ack.count, ack.median, ack.p90) == (4, 1, 5)
    # Calendar days for the steps promised in calendar days; the re-opened case C counts its first passes.
    assert m.durations["validate"].histogram == {3: 1}
    assert m.durations["remediate"].histogram == {15: 1}
    assert m.durations["disclose"].histogram == {23: 1}
    assert m.durations["disclose"].unit == "calendar"


def test_promises_per_month_at_the_boundary(lead: User, history: History) -> None:
    m = figures(lead)
    ack = {p.month: (p.kept, p.missed) for p in m.promises["ack"]}
    # February: A acknowledged at the due instant itself (kept), B one second later (missed).
    # March: C and F (rejected straight from "new": the move out of "new" answers). April: D overdue, not
    # acknowledged (missed); E is due later and not counted.
    assert ack == {FEB: (1, 1), MAR: (2, 0), APR: (0, 1)}
    assert {p.month: (p.kept, p.missed) for p in m.promises["remediation"]} == {JUN: (1, 0)}
    assert {p.month: (p.kept, p.missed) for p in m.promises["disclosure"]} == {MAR: (1, 0)}
    assert m.promise_total("ack").share == pytest.approx(3 / 5)


def test_disclosure_is_kept_by_the_local_day(lead: User, history: History) -> None:
    # Published at 00:30 Shanghai time on the day after the agreed date: still the previous day in UTC, but
    # the agreed date is a local day and it had passed.
    from psirt.cases.services.workflow import CaseState as S

    make_case(
        state=S.PUBLISHED,
        received_at=at(3, 2),
        disclosure_date=dt.date(2026, 3, 20),
        changes=[(S.AWAITING_DISCLOSURE, S.PUBLISHED, at(3, 21, 0, 30))],
    )
    m = figures(lead)
    assert {p.month: (p.kept, p.missed) for p in m.promises["disclosure"]} == {MAR: (1, 1)}


def test_open_cases_by_state_and_age(lead: User, history: History) -> None:
    m = figures(lead)
    assert m.open_by_state == {
        "acknowledged": {"31-90": 1},
        "triage": {"31-90": 1},
        "remediation": {"31-90": 1},
        "new": {"8-30": 1, "0-7": 1},
    }


def test_per_month_counts_and_breakdowns(lead: User, history: History) -> None:
    m = figures(lead)
    assert m.cases_per_month == {FEB: 2, MAR: 2, APR: 2}
    assert m.reports_per_month == {FEB: 1, MAR: 1}
    b = {name: {value: n for value, _label, n in rows} for name, rows in m.breakdowns.items()}
    assert b["severity"] == {"Critical": 1, "High": 1, "Medium": 1, "Low": 1, "": 2}
    assert b["line"] == {"cams": 3, "routers": 2, "": 1}
    assert b["cwe"] == {"79": 2, "787": 1, "": 3}
    assert b["exploitation"] == {"none": 5, "poc": 1}
    assert b["source"] == {"web": 1, "email": 1, "": 4}


def test_an_engineer_counts_only_the_lines_they_are_invited_to(cams_engineer: User, history: History) -> None:
    m = figures(cams_engineer)
    assert m.durations["acknowledge"].histogram == {5: 2, 1: 1}
    assert m.durations["acknowledge"].median == 5
    assert {p.month: (p.kept, p.missed) for p in m.promises["ack"]} == {FEB: (1, 1), MAR: (1, 0)}
    assert set(m.open_by_state) == {"acknowledged", "triage", "remediation"}
    assert m.cases_per_month == {FEB: 2, MAR: 1}
    assert {v for v, _l, _n in m.breakdowns["line"]} == {"cams"}
    assert m.reports_per_month == {FEB: 1, MAR: 1}


def test_a_handler_without_cases_sees_no_number(handler: User, history: History) -> None:
    m = figures(handler)
    assert m.case_count == 0
    assert all(d.count == 0 for d in m.durations.values())
    assert m.reports_per_month == {}
    assert all(not rows for rows in m.promises.values())


def test_filters_narrow_every_figure(lead: User, history: History) -> None:
    m = figures(lead, Filters(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), line="cams"))
    assert m.cases_per_month == {MAR: 1}
    assert m.durations["acknowledge"].histogram == {1: 1}
    m = figures(lead, Filters(start=PERIOD.start, end=PERIOD.end, severity="High"))
    assert m.durations["acknowledge"].histogram == {5: 1}


def every_cell(m: Metrics) -> list[tuple[str, int]]:
    """Each number of the page with the link naming the cases behind it."""
    cells: list[tuple[str, int]] = []
    for name, d in m.durations.items():
        cells.append((f"duration:{name}", d.count))
        cells += [(f"duration:{name}:{days}", n) for days, n in d.histogram.items()]
    for kind, months in m.promises.items():
        for p in months:
            month = p.month.strftime("%Y-%m")
            cells += [(f"promise:{kind}:{month}:kept", p.kept), (f"promise:{kind}:{month}:missed", p.missed)]
            cells.append((f"promise:{kind}:{month}", p.total))
    for state, ages in m.open_by_state.items():
        cells.append((f"open:{state}", sum(ages.values())))
        cells += [(f"open:{state}:{age}", n) for age, n in ages.items()]
    cells += [(f"cases:{month:%Y-%m}", n) for month, n in m.cases_per_month.items()]
    for name, rows in m.breakdowns.items():
        cells += [(f"by:{name}:{value}", n) for value, _label, n in rows]
    return cells


@pytest.mark.parametrize("who", ["lead", "cams_engineer"])
def test_every_number_links_to_exactly_its_cases(who: str, request: pytest.FixtureRequest, history: History) -> None:
    user = request.getfixturevalue(who)
    m = figures(user)
    cells = every_cell(m)
    assert len(cells) > 30
    for cell, n in cells:
        assert cell_cases(user, PERIOD, cell, now=NOW).count() == n, cell
    visible = set(cell_cases(user, PERIOD, "all", now=NOW).values_list("pk", flat=True))
    for cell, _n in cells:
        assert set(cell_cases(user, PERIOD, cell, now=NOW).values_list("pk", flat=True)) <= visible


def test_the_number_of_queries_does_not_grow_with_the_cases(lead: User, history: History) -> None:
    compute(lead, PERIOD, now=NOW)  # warm the calendar tables
    with CaptureQueriesContext(connection) as few:
        compute(lead, PERIOD, now=NOW)
    from psirt.cases.services.workflow import CaseState as S

    for day in range(1, 28):
        make_case(
            state=S.ACKNOWLEDGED,
            severity="Low",
            cwe_id=day,
            received_at=at(1, day),
            ack_due_at=at(1, day) + dt.timedelta(days=7),
            acknowledged_at=at(1, day, 15),
            changes=[(S.NEW, S.ACKNOWLEDGED, at(1, day, 15))],
        )
    with CaptureQueriesContext(connection) as many:
        compute(lead, PERIOD, now=NOW)
    assert len(many) == len(few)


def test_business_ordinals_agree_with_the_calendar(shanghai: None, db: None) -> None:
    calendar = organization_calendar()
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(0, 400)]
    ordinals = BusinessOrdinals(calendar, days)
    for a in days[::37]:
        for b in days[::23]:
            if a <= b:
                assert ordinals.between(a, b) == calendar.business_days_between(a, b), (a, b)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2026-13-01"}, "dates"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, "after its end"),
        ({"from": "1990-01-01", "to": "2026-04-01"}, "ten years"),
        ({"severity": "<script>"}, "severity"),
        ({"line": "../../etc"}, "product line"),
        ({"product": "x" * 5000}, "product"),
    ],
)
def test_bad_filters_are_refused_with_a_message(db: None, query: dict[str, str], message: str) -> None:
    with pytest.raises(MetricsError, match=message):
        parse_filters(query, today=dt.date(2026, 4, 15))


def test_default_period_is_the_last_twelve_months(db: None) -> None:
    f = parse_filters({}, today=dt.date(2026, 4, 15))
    assert (f.start, f.end) == (dt.date(2025, 4, 16), dt.date(2026, 4, 15))


@pytest.mark.parametrize("cell", ["nonsense", "duration:x", "promise:ack:2026-99", "open:new:1-2", "by:cwe:abc"])
def test_bad_cells_are_refused(lead: User, history: History, cell: str) -> None:
    with pytest.raises(MetricsError):
        cell_cases(lead, PERIOD, cell, now=NOW)


def test_age_bands_cover_every_age() -> None:
    assert AGE_BANDS[0][1] == 0
    for (_a, _lo, hi), (_b, lo, _hi) in itertools.pairwise(AGE_BANDS):
        assert hi == lo
    assert AGE_BANDS[-1][2] is None


@pytest.mark.parametrize(
    ("zone", "received", "confirmed", "days"),
    [
        # Berlin keeps daylight saving time (Django's conversion); 00:30 local on 3 June is still 2 June in UTC.
        ("Europe/Berlin", "2026-06-01T10:00:00+02:00", "2026-06-03T00:30:00+02:00", 2),
        # Shanghai has one offset all year (SQLite's own date arithmetic); 07:30 local on 3 June is 2 June in UTC.
        ("Asia/Shanghai", "2026-06-01T10:00:00+08:00", "2026-06-03T07:30:00+08:00", 2),
        ("UTC", "2026-06-01T10:00:00+00:00", "2026-06-02T23:59:59+00:00", 1),
    ],
)
def test_days_are_counted_in_the_site_time_zone(
    settings: pytest.FixtureRequest, lead: User, zone: str, received: str, confirmed: str, days: int
) -> None:
    settings.TIME_ZONE = zone  # type: ignore[attr-defined]
    from psirt.cases.services.workflow import CaseState as S

    start, end = dt.datetime.fromisoformat(received), dt.datetime.fromisoformat(confirmed)
    make_case(state=S.CONFIRMED, received_at=start, confirmed_at=end, changes=[(S.TRIAGE, S.CONFIRMED, end)])
    m = compute(lead, Filters(start=dt.date(2026, 5, 1), end=dt.date(2026, 6, 30)), now=NOW)
    assert m.durations["validate"].histogram == {days: 1}
    assert m.cases_per_month == {dt.date(2026, 6, 1): 1}
    assert (
        cell_cases(
            lead, Filters(start=dt.date(2026, 5, 1), end=dt.date(2026, 6, 30)), f"duration:validate:{days}"
        ).count()
        == 1
    )
