"""The tables of the metrics page, built once from `psirt.metrics.queries.Metrics`: the page renders them with a
link behind each number, the CSV files write the same rows. One source, so the file and the page agree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from psirt.cases.services.workflow import OPEN_STATES, CaseState
from psirt.metrics.queries import AGE_BANDS, BREAKDOWNS, PROMISES, Distribution, Metrics, age_band_labels

# A histogram has at most this many bars; longer spans are grouped into ranges of whole days.
MAX_BINS = 12


@dataclass(frozen=True)
class Cell:
    """One value of a table; `link` names the cases behind it (a `cell_cases` key), empty when none."""

    value: object
    link: str = ""
    # True when the value is the number of cases the link lists (a median or a share links to the cases it
    # was computed from, which are more).
    counts: bool = True


@dataclass
class Table:
    name: str
    title: object
    header: Sequence[object]
    rows: list[list[Cell]] = field(default_factory=list)


def percent(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.0f} %"


def _month(month: dt.date) -> str:
    return month.strftime("%Y-%m")


def bins(d: Distribution) -> list[tuple[int, int, int]]:
    """(first day, last day, number of cases) for the histogram: single days, or ranges of whole days so that
    there are at most `MAX_BINS` bars."""
    if not d.histogram:
        return []
    top = max(d.histogram)
    width = max(1, -(-(top + 1) // MAX_BINS))
    out = []
    for low in range(0, top + 1, width):
        high = low + width - 1
        out.append((low, high, sum(n for days, n in d.histogram.items() if low <= days <= high)))
    return out


def unit_label(unit: str) -> object:
    return _("business days") if unit == "business" else _("calendar days")


def duration_table(m: Metrics) -> Table:
    t = Table("durations", _("Response times"), [_("Step"), _("Unit"), _("Cases"), _("Median"), _("90th percentile")])
    for name, d in m.durations.items():
        link = f"duration:{name}"
        t.rows.append(
            [
                Cell(d.label),
                Cell(unit_label(d.unit)),
                Cell(d.count, link),
                Cell("" if d.median is None else d.median, link, counts=False),
                Cell("" if d.p90 is None else d.p90, link, counts=False),
            ]
        )
    return t


def distribution_table(m: Metrics, name: str) -> Table:
    d = m.durations[name]
    t = Table(f"distribution-{name}", d.label, [unit_label(d.unit), _("Cases")])
    for low, high, n in bins(d):
        label = str(low) if low == high else f"{low}–{high}"
        t.rows.append(
            [Cell(label), Cell(n, f"duration:{name}:{low}" if low == high else f"duration:{name}:{low}-{high}")]
        )
    return t


def promise_table(m: Metrics, kind: str) -> Table:
    t = Table(f"promise-{kind}", PROMISES[kind], [_("Month due"), _("Kept"), _("Missed"), _("Share kept")])
    for p in m.promises[kind]:
        month = _month(p.month)
        t.rows.append(
            [
                Cell(month),
                Cell(p.kept, f"promise:{kind}:{month}:kept"),
                Cell(p.missed, f"promise:{kind}:{month}:missed"),
                Cell(percent(p.share), f"promise:{kind}:{month}", counts=False),
            ]
        )
    return t


def open_table(m: Metrics) -> Table:
    labels = age_band_labels()
    t = Table("open", _("Open cases by state and age"), [_("State"), *(labels[b[0]] for b in AGE_BANDS), _("Total")])
    states = dict(CaseState.choices)
    for state in CaseState.values:
        if state not in OPEN_STATES or state not in m.open_by_state:
            continue
        ages = m.open_by_state[state]
        t.rows.append(
            [
                Cell(states[state]),
                *(Cell(ages.get(b[0], 0), f"open:{state}:{b[0]}" if ages.get(b[0]) else "") for b in AGE_BANDS),
                Cell(sum(ages.values()), f"open:{state}"),
            ]
        )
    return t


def months_table(m: Metrics) -> Table:
    t = Table("months", _("Reports received and cases opened per month"), [_("Month"), _("Reports"), _("Cases")])
    months = sorted(set(m.reports_per_month) | set(m.cases_per_month))
    for month in months:
        t.rows.append(
            [
                Cell(_month(month)),
                Cell(m.reports_per_month.get(month, 0)),
                Cell(m.cases_per_month.get(month, 0), f"cases:{_month(month)}" if m.cases_per_month.get(month) else ""),
            ]
        )
    return t


def breakdown_table(m: Metrics, name: str) -> Table:
    t = Table(f"by-{name}", BREAKDOWNS[name], [BREAKDOWNS[name], _("Cases")])
    for value, label, n in m.breakdowns[name]:
        t.rows.append([Cell(label), Cell(n, f"by:{name}:{value}")])
    return t


def all_tables(m: Metrics) -> dict[str, Table]:
    """Every table of the page, by name (the CSV file's name)."""
    tables = [duration_table(m), *(distribution_table(m, n) for n in m.durations)]
    tables += [promise_table(m, k) for k in m.promises]
    tables += [open_table(m), months_table(m), *(breakdown_table(m, n) for n in m.breakdowns)]
    tables += [t for t in m.extra if isinstance(t, Table)]
    return {t.name: t for t in tables}
