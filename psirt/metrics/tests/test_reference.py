"""The database's figures against a plain-Python reference over many generated cases.

Each case gets a random story (acknowledged or not, confirmed, fixed, published, re-opened, left the workflow,
back-dated steps, steps at local midnight) around China's 2026 Spring Festival, in Shanghai time; the reference
walks every case and its state changes one by one with `Calendar.business_days_between` and the local dates of
Python, which is what the page promises to show. Runs on SQLite and on PostgreSQL (the test database engine).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict

import pytest
from django.utils import timezone

from psirt.accounts.models import User
from psirt.cases.models import Case
from psirt.cases.services.workflow import EXITS, OPEN_STATES
from psirt.cases.services.workflow import CaseState as S
from psirt.metrics.queries import AGE_BANDS, Filters, compute
from psirt.metrics.tests.conftest import NOW, SHANGHAI, make_case
from psirt.organization.queries import organization_calendar

PERIOD = Filters(start=dt.date(2025, 12, 1), end=dt.date(2026, 4, 15))
PATH = [S.ACKNOWLEDGED, S.TRIAGE, S.CONFIRMED, S.REMEDIATION, S.AWAITING_DISCLOSURE, S.PUBLISHED, S.CLOSED]


def generate(count: int, seed: int) -> None:
    rng = random.Random(seed)
    first = dt.datetime(2025, 11, 25, tzinfo=SHANGHAI)
    for _n in range(count):
        # Whole hours, some at 00:00 and 23:00 local, so day boundaries are crossed both ways.
        received = first + dt.timedelta(hours=rng.randint(0, 24 * 140))
        fields: dict[str, object] = {
            "received_at": received,
            "ack_due_at": received + dt.timedelta(days=rng.choice([3, 7, 9])),
            "state": S.NEW,
        }
        changes: list[tuple[str, str, dt.datetime]] = []
        at, state = received, S.NEW
        for step in PATH[: rng.randint(0, len(PATH))]:
            at = at + dt.timedelta(hours=rng.choice([-30, 1, 5, 23, 24, 48, 100, 300]))  # some back-dated
            if at > NOW:
                break
            if rng.random() < 0.08 and state in (S.NEW, S.ACKNOWLEDGED, S.TRIAGE):
                changes.append((state, S.REJECTED, at))
                state = S.REJECTED
                break
            changes.append((state, step, at))
            state = step
            if step == S.ACKNOWLEDGED and rng.random() < 0.9:
                fields["acknowledged_at"] = at
            if step == S.CONFIRMED:
                fields["confirmed_at"] = at
                fields["remediation_due_at"] = at + dt.timedelta(days=rng.choice([5, 20, 90]))
            if step == S.REMEDIATION and rng.random() < 0.7:
                fields["disclosure_date"] = (at + dt.timedelta(days=rng.randint(-2, 20))).astimezone(SHANGHAI).date()
        if state == S.CLOSED and rng.random() < 0.5:  # re-opened, fixed and published again later
            for source, target in ((S.CLOSED, S.TRIAGE), (S.TRIAGE, S.CONFIRMED), (S.CONFIRMED, S.REMEDIATION)):
                at += dt.timedelta(hours=30)
                changes.append((source, target, at))
            changes.append((S.REMEDIATION, S.AWAITING_DISCLOSURE, at + dt.timedelta(hours=5)))
            changes.append((S.AWAITING_DISCLOSURE, S.PUBLISHED, at + dt.timedelta(hours=9)))
            state = S.PUBLISHED
        fields["state"] = state
        make_case(changes=changes, **fields)


def local(instant: dt.datetime) -> dt.date:
    return timezone.localtime(instant).date()


def first(case: Case, **conditions: str) -> dt.datetime | None:
    ats = [
        c.at for c in case.state_changes.all() if all(getattr(c, name) == value for name, value in conditions.items())
    ]
    return min(ats) if ats else None


def reference(now: dt.datetime) -> dict[str, object]:
    """Every figure, case by case."""
    calendar = organization_calendar()
    since = dt.datetime.combine(PERIOD.start, dt.time(0), tzinfo=SHANGHAI)
    until = dt.datetime.combine(PERIOD.end + dt.timedelta(days=1), dt.time(0), tzinfo=SHANGHAI)
    durations: dict[str, Counter[int]] = defaultdict(Counter)
    promises: dict[str, dict[dt.date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    open_by_state: dict[str, Counter[str]] = defaultdict(Counter)
    per_month: Counter[dt.date] = Counter()
    for case in Case.objects.filter(received_at__gte=since, received_at__lt=until).prefetch_related("state_changes"):
        ack = case.acknowledged_at or first(case, from_state=S.NEW)
        fixed = first(case, to_state=S.AWAITING_DISCLOSURE)
        published = first(case, to_state=S.PUBLISHED)
        steps = {
            "acknowledge": (case.received_at, ack),
            "validate": (case.received_at, case.confirmed_at),
            "remediate": (case.confirmed_at, fixed),
            "disclose": (case.received_at, published),
        }
        for name, (start, end) in steps.items():
            if start is None or end is None:
                continue
            a, b = local(start), local(end)
            days = calendar.business_days_between(a, b) if name == "acknowledge" else (b - a).days
            durations[name][max(days, 0)] += 1

        def decide(
            kind: str,
            due_month: dt.date,
            done: dt.datetime | None,
            kept: bool,
            overdue: bool,
            exits: bool,
            *,
            promises: dict[str, dict[dt.date, list[int]]] = promises,
        ) -> None:
            if done is not None:
                promises[kind][due_month][0 if kept else 1] += 1
            elif not exits and overdue:
                promises[kind][due_month][1] += 1

        left = case.state in EXITS
        if case.ack_due_at:
            due = case.ack_due_at
            decide("ack", local(due).replace(day=1), ack, bool(ack and ack <= due), due < now, False)
        if case.remediation_due_at:
            due = case.remediation_due_at
            decide("remediation", local(due).replace(day=1), fixed, bool(fixed and fixed <= due), due < now, left)
        if case.disclosure_date:
            agreed = case.disclosure_date
            kept = bool(published and local(published) <= agreed)
            decide("disclosure", agreed.replace(day=1), published, kept, agreed < local(now), left)
        if case.state in OPEN_STATES:
            age = (now - case.received_at).total_seconds() / 86400
            band = next(key for key, low, high in AGE_BANDS if age >= low and (high is None or age < high))
            open_by_state[case.state][band] += 1
        per_month[local(case.received_at).replace(day=1)] += 1
    return {
        "durations": {name: dict(c) for name, c in durations.items() if c},
        "promises": {kind: {m: tuple(v) for m, v in months.items() if sum(v)} for kind, months in promises.items()},
        "open": {state: dict(c) for state, c in open_by_state.items()},
        "per_month": dict(per_month),
    }


@pytest.mark.parametrize("seed", [17, 2026])
def test_every_figure_equals_the_case_by_case_reference(shanghai: None, lead: User, seed: int) -> None:
    generate(120, seed)
    expected = reference(NOW)
    m = compute(lead, PERIOD, now=NOW)
    assert {name: d.histogram for name, d in m.durations.items() if d.histogram} == expected["durations"]
    got_promises = {
        kind: {p.month: (p.kept, p.missed) for p in months} for kind, months in m.promises.items() if months
    }
    assert got_promises == {kind: v for kind, v in expected["promises"].items() if v}  # type: ignore[attr-defined]
    assert m.open_by_state == expected["open"]
    assert m.cases_per_month == expected["per_month"]
    # The generated stories reach every kind of figure, so the comparison above has something to compare.
    assert set(m.durations) == {name for name, d in m.durations.items() if d.count > 3}
    assert all(sum(p.total for p in months) > 3 for months in m.promises.values())
