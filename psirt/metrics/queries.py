"""Response-time metrics: how long the team takes, whether it keeps its promises, where the work piles up.

One computation serves the desk page, its CSV files, `/api/v1/metrics` and the public statistics, so a number
is the same wherever it is read. Everything is counted by the database in a fixed number of queries whatever
the number of cases (see `docs/metrics.md`):

* Each case is annotated with its milestones (`milestones`): received, acknowledged (the acknowledgment, or the
  first move out of "new" for a case closed without one), validated (first confirmed), remediated (first moved
  to "awaiting disclosure": a fixed release is available) and disclosed (first published). "First" makes a
  re-opened case count the milestone it reached the first time; a later pass does not move it.
* A duration is grouped by its pair of local dates (start day, end day) and counted by the database; the few
  hundred distinct pairs are converted in Python: calendar days by subtracting the dates, business days by a
  table of business-day ordinals built once per computation from the organization's calendar (the same
  `organization_calendar` every deadline is counted in), so `ordinal[end] - ordinal[start]` is exactly
  `Calendar.business_days_between(start, end)`: the start day never counts, the end day does.
* A promise is kept when the milestone came no later than the deadline stored on the case (the promise as it
  was made: acknowledgment due, remediation due, agreed disclosure date — the latter by local day), and broken
  when it came later or has not come and the deadline has passed. Cases whose deadline lies ahead and is not
  met yet, and cases that left the workflow without the milestone (rejected, duplicate…), are not counted.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Case as SqlCase
from django.db.models import (
    CharField,
    Count,
    DateField,
    DateTimeField,
    Exists,
    F,
    Func,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import BaseExpression, Expression
from django.db.models.functions import Cast, Coalesce, Concat, TruncDate, TruncMonth
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from psirt.accounts.models import User
from psirt.cases.access import visible_cases
from psirt.cases.models import Case, CaseReport, Exploitation, StateChange
from psirt.cases.services.workflow import EXITS, OPEN_STATES, CaseState
from psirt.catalog.models import Product, ProductLine
from psirt.intake.models import Report, Source
from psirt.lib.business_days import Calendar
from psirt.lib.severity import Severity
from psirt.metrics.exceptions import MetricsError
from psirt.metrics.registry import METRIC_PROVIDERS
from psirt.organization.queries import organization_calendar

# The longest period a page may ask for: ten years of months is still a readable chart.
MAX_PERIOD_DAYS = 3660
DEFAULT_PERIOD_DAYS = 365
# Age bands of open cases, in calendar days since received: (label key, lower bound inclusive, upper exclusive).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 8),
    ("8-30", 8, 31),
    ("31-90", 31, 91),
    ("91-180", 91, 181),
    ("181+", 181, None),
)
# The share of promises a team aims to keep: drawn as the target line of the promise charts.
TARGET_SHARE = 0.95
# At most this many CWEs are listed; the rest are summed as "other".
TOP_CWES = 15

# The measured durations: name → (label, start milestone, end milestone, unit).
DURATIONS: dict[str, tuple[object, str, str, str]] = {
    "acknowledge": (_("Time to acknowledge"), "m_received", "m_ack", "business"),
    "validate": (_("Time to validate"), "m_received", "m_validated", "calendar"),
    "remediate": (_("Time to remediate (fixed release available)"), "m_validated", "m_fixed", "calendar"),
    "disclose": (_("Time to disclose (advisory published)"), "m_received", "m_published", "calendar"),
}
PROMISES: dict[str, object] = {
    "ack": _("Acknowledged in time"),
    "remediation": _("Fixed in time"),
    "disclosure": _("Disclosed by the agreed date"),
}
BREAKDOWNS: dict[str, object] = {
    "severity": _("Severity"),
    "line": _("Product line"),
    "cwe": _("CWE"),
    "exploitation": _("Exploitation"),
    "source": _("Received via"),
}


# --- filters ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the page, the CSV files and the API are filtered by: cases received in [start, end] (local days),
    of one product line, one product, one severity ("" = any)."""

    start: dt.date
    end: dt.date
    line: str = ""
    product: str = ""
    severity: str = ""

    def as_query(self) -> dict[str, str]:
        """The filters as URL parameters (the same names `parse_filters` reads)."""
        query = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        for key in ("line", "product", "severity"):
            if getattr(self, key):
                query[key] = getattr(self, key)
        return query


def parse_filters(query: Mapping[str, str], *, today: dt.date | None = None) -> Filters:
    """Read the filters from URL parameters: `from`, `to` (ISO dates; default the last 12 months up to today),
    `line` and `product` (slugs), `severity`. Raises `MetricsError` on a malformed or impossible value rather
    than silently showing other numbers than asked for."""
    today = today or timezone.localdate()
    try:
        end = dt.date.fromisoformat(query["to"][:10]) if query.get("to") else today
        start = dt.date.fromisoformat(query["from"][:10]) if query.get("from") else end - dt.timedelta(days=364)
    except ValueError as exc:
        raise MetricsError(_("Give the period as dates (YYYY-MM-DD).")) from exc
    if start > end:
        raise MetricsError(_("The start of the period is after its end."))
    if (end - start).days > MAX_PERIOD_DAYS:
        raise MetricsError(_("The period may span at most ten years."))
    severity = (query.get("severity") or "")[:20]
    if severity and severity not in Severity.values:
        raise MetricsError(_("Unknown severity."))
    line = (query.get("line") or "")[:80]
    product = (query.get("product") or "")[:80]
    if line and not ProductLine.objects.filter(slug=line).exists():
        raise MetricsError(_("Unknown product line."))
    if product and not Product.objects.filter(slug=product).exists():
        raise MetricsError(_("Unknown product."))
    return Filters(start=start, end=end, line=line, product=product, severity=severity)


def local_tz() -> dt.tzinfo:
    return timezone.get_default_timezone()


def period_bounds(filters: Filters) -> tuple[dt.datetime, dt.datetime]:
    """The period as instants: from the local midnight starting `start` to the one ending `end`."""
    tz = local_tz()
    return (
        dt.datetime.combine(filters.start, dt.time(0, 0), tzinfo=tz),
        dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time(0, 0), tzinfo=tz),
    )


# --- local days in SQL ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def fixed_offset_seconds(zone: str) -> int | None:
    """The zone's UTC offset in seconds when it is the same on every day of 2000–2060 (China, UTC, most of
    Asia), else None (zones with daylight saving time)."""
    tz = zoneinfo.ZoneInfo(zone)
    offsets = {
        dt.datetime(year, month, 1, 12, tzinfo=dt.UTC).astimezone(tz).utcoffset()
        for year in range(2000, 2061)
        for month in (1, 4, 7, 10)
    }
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return int(offset.total_seconds()) if offset is not None else None


class LocalDay(Func):
    """The local day (or, with `month`, the first day of the local month) of an instant, in the site's time zone;
    of a date column (`is_date`), the date itself or its month.

    PostgreSQL converts natively (`AT TIME ZONE`, through Django's TruncDate/TruncMonth). On SQLite Django converts
    each row in a Python function, which is what made the page slow; in a zone without daylight saving time the
    local day is `date(instant, '+N seconds')`, computed by SQLite itself. Zones with daylight saving time keep
    Django's conversion (correct, slower)."""

    output_field = DateField()

    def __init__(self, expression: object, *, month: bool = False, is_date: bool = False) -> None:
        super().__init__(expression)
        self.month = month
        self.is_date = is_date

    def _portable(self) -> Expression:
        inner = self.source_expressions[0]
        if self.is_date:
            return Cast(TruncMonth(inner), output_field=DateField()) if self.month else inner
        tz = local_tz()
        if self.month:
            return Cast(TruncMonth(inner, tzinfo=tz), output_field=DateField())
        return TruncDate(inner, tzinfo=tz)

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: object
    ) -> tuple[str, list[object]]:
        sql, params = compiler.compile(self._portable())
        return sql, list(params)

    def as_sqlite(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: object
    ) -> tuple[str, list[object]]:
        offset = 0 if self.is_date else fixed_offset_seconds(str(local_tz()))
        if offset is None:
            return self.as_sql(compiler, connection)
        sql, params = compiler.compile(self.source_expressions[0])
        modifiers = f"'{offset:+d} seconds'" + (", 'start of month'" if self.month else "")
        return f"date({sql}, {modifiers})", list(params)


# --- the annotated cases ------------------------------------------------------------------------------------


# The milestones that are a case's first state change of a kind: name → what the change matches.
FIRST_CHANGES: dict[str, dict[str, str]] = {
    "first_left_new": {"from_state": CaseState.NEW},
    "first_fixed": {"to_state": CaseState.AWAITING_DISCLOSURE},
    "first_published": {"to_state": CaseState.PUBLISHED},
}


def _first_change(**conditions: object) -> Subquery:
    return Subquery(
        StateChange.objects.filter(case=OuterRef("pk"), **conditions)
        .order_by()
        .values("case")
        .annotate(first=Min("at"))
        .values("first")[:1],
        output_field=DateTimeField(),
    )


def opening_links() -> QuerySet[CaseReport]:
    """Each case's opening report (as its link): the first of its reports that is not a duplicate (by time
    added, then id). A case opened by the team has none."""
    own = CaseReport.objects.filter(case=OuterRef("case"), is_duplicate=False)
    earlier = own.filter(Q(added_at__lt=OuterRef("added_at")) | Q(added_at=OuterRef("added_at"), id__lt=OuterRef("id")))
    return CaseReport.objects.filter(is_duplicate=False).exclude(Exists(earlier))


def milestones(qs: QuerySet[Case], *, grouped: bool = False) -> QuerySet[Case]:
    """`qs` with each case's milestones (instants) and the source of its opening report, as aliases that
    filters and later annotations read (nothing more is selected).

    `grouped` computes the first state changes as aggregates over the joined state changes (one pass over the
    table, one row per case), for the computation of every figure at once; otherwise each is a subquery per
    case, so the queryset stays a plain list of cases that filters compose with (the cases behind a number).
    Both read the same `FIRST_CHANGES`."""
    firsts: dict[str, Expression | Subquery]
    if grouped:
        firsts = {
            name: Min("state_changes__at", filter=Q(**{f"state_changes__{k}": v for k, v in cond.items()}))
            for name, cond in FIRST_CHANGES.items()
        }
    else:
        firsts = {name: _first_change(**cond) for name, cond in FIRST_CHANGES.items()}
    opening_source = Subquery(
        opening_links().filter(case=OuterRef("pk")).values("report__source")[:1], output_field=CharField()
    )
    return qs.alias(**firsts).alias(
        m_received=F("received_at"),
        m_ack=Coalesce(F("acknowledged_at"), F("first_left_new")),
        m_validated=F("confirmed_at"),
        m_fixed=F("first_fixed"),
        m_published=F("first_published"),
        m_source=Coalesce(opening_source, Value(""), output_field=CharField()),
    )


class Organization:
    """Stands for "every case of the organization" where a figure is computed for nobody in particular: the
    public statistics, which only ever show totals above a minimum count. Never a signed-in person."""


ORGANIZATION = Organization()
Viewer = User | Organization


def _cases_of(user: Viewer) -> QuerySet[Case]:
    return Case.objects.all() if isinstance(user, Organization) else visible_cases(user)


def filtered_cases(user: Viewer, filters: Filters) -> QuerySet[Case]:
    """The cases behind every number: those `user` may see (need-to-know, one query), received in the period,
    of the chosen line, product and severity, annotated with their milestones."""
    return milestones(_period_cases(user, filters))


def _period_cases(user: Viewer, filters: Filters) -> QuerySet[Case]:
    since, until = period_bounds(filters)
    qs = _cases_of(user).filter(received_at__gte=since, received_at__lt=until)
    if filters.line:
        qs = qs.filter(product_line__slug=filters.line)
    if filters.product:
        qs = qs.filter(product__slug=filters.product)
    if filters.severity:
        qs = qs.filter(severity=filters.severity)
    return qs


def _promise_outcome(kind: str, now: dt.datetime) -> SqlCase:
    """SQL: "kept", "missed" or NULL (not decided yet, or nothing owed) for one promise of a case."""
    today = timezone.localdate(now)
    if kind == "ack":
        return SqlCase(
            When(ack_due_at__isnull=True, then=Value(None)),
            When(m_ack__isnull=False, m_ack__lte=F("ack_due_at"), then=Value("kept")),
            When(m_ack__isnull=False, then=Value("missed")),
            When(ack_due_at__lt=now, then=Value("missed")),
            default=Value(None),
            output_field=CharField(),
        )
    if kind == "remediation":
        return SqlCase(
            When(remediation_due_at__isnull=True, then=Value(None)),
            When(m_fixed__isnull=False, m_fixed__lte=F("remediation_due_at"), then=Value("kept")),
            When(m_fixed__isnull=False, then=Value("missed")),
            When(state__in=EXITS, then=Value(None)),
            When(remediation_due_at__lt=now, then=Value("missed")),
            default=Value(None),
            output_field=CharField(),
        )
    if kind == "disclosure":
        return SqlCase(
            When(disclosure_date__isnull=True, then=Value(None)),
            When(m_published__isnull=False, m_published_day__lte=F("disclosure_date"), then=Value("kept")),
            When(m_published__isnull=False, then=Value("missed")),
            When(state__in=EXITS, then=Value(None)),
            When(disclosure_date__lt=today, then=Value("missed")),
            default=Value(None),
            output_field=CharField(),
        )
    raise MetricsError(f"unknown promise {kind!r}")


PROMISE_DUE: dict[str, str] = {
    "ack": "ack_due_at",
    "remediation": "remediation_due_at",
    "disclosure": "disclosure_date",
}


def with_promises(qs: QuerySet[Case], now: dt.datetime) -> QuerySet[Case]:
    """Each promise's outcome and the local month it fell due in, as aliases."""
    qs = qs.alias(m_published_day=LocalDay("m_published"))
    for kind, due in PROMISE_DUE.items():
        month = LocalDay(due, month=True, is_date=due == "disclosure_date")
        qs = qs.alias(**{f"p_{kind}": _promise_outcome(kind, now), f"p_{kind}_month": month})
    return qs


def _age_band(now: dt.datetime) -> SqlCase:
    whens = []
    for key, low, high in AGE_BANDS:
        cond = Q(received_at__lte=now - dt.timedelta(days=low))
        if high is not None:
            cond &= Q(received_at__gt=now - dt.timedelta(days=high))
        whens.append(When(cond, then=Value(key)))
    return SqlCase(*whens, default=Value(AGE_BANDS[0][0]), output_field=CharField())


def _span_key(start: str, end: str) -> Concat:
    return Concat(
        Cast(LocalDay(start), output_field=CharField()),
        Value("/"),
        Cast(LocalDay(end), output_field=CharField()),
        output_field=CharField(),
    )


# --- the figures --------------------------------------------------------------------------------------------


@dataclass
class Distribution:
    """How long one step took, over the cases that made it: count, median and 90th percentile (nearest rank:
    each is a duration some case really had), and the number of cases per whole day."""

    name: str
    label: object
    unit: str
    histogram: dict[int, int]

    @property
    def count(self) -> int:
        return sum(self.histogram.values())

    def percentile(self, p: float) -> int | None:
        n = self.count
        if not n:
            return None
        rank = max(1, math.ceil(p * n))
        seen = 0
        for value in sorted(self.histogram):
            seen += self.histogram[value]
            if seen >= rank:
                return value
        return None  # pragma: no cover - rank <= n always reaches a value

    @property
    def median(self) -> int | None:
        return self.percentile(0.5)

    @property
    def p90(self) -> int | None:
        return self.percentile(0.9)


@dataclass
class PromiseMonth:
    month: dt.date
    kept: int
    missed: int

    @property
    def total(self) -> int:
        return self.kept + self.missed

    @property
    def share(self) -> float | None:
        return self.kept / self.total if self.total else None


@dataclass
class Metrics:
    filters: Filters
    now: dt.datetime
    durations: dict[str, Distribution]
    promises: dict[str, list[PromiseMonth]]
    open_by_state: dict[str, dict[str, int]]
    reports_per_month: dict[dt.date, int]
    cases_per_month: dict[dt.date, int]
    breakdowns: dict[str, list[tuple[str, object, int]]]
    extra: list[object] = field(default_factory=list)

    @property
    def case_count(self) -> int:
        return sum(self.cases_per_month.values())

    def promise_total(self, kind: str) -> PromiseMonth:
        rows = self.promises[kind]
        return PromiseMonth(
            month=self.filters.start, kept=sum(r.kept for r in rows), missed=sum(r.missed for r in rows)
        )


class BusinessOrdinals:
    """Business-day ordinals over a range of days: `ordinal(b) - ordinal(a)` is the number of business days d
    with a < d <= b — `Calendar.business_days_between(a, b)` for every pair, built in one pass."""

    def __init__(self, calendar: Calendar, days: Iterable[dt.date]) -> None:
        days = list(days)
        self._ord: dict[dt.date, int] = {}
        if not days:
            return
        first, last = min(days), max(days)
        if (last - first).days > MAX_PERIOD_DAYS * 2:
            raise MetricsError("These dates are too far apart to count business days between them.")
        count = 0
        day = first
        while day <= last:
            if calendar.is_business_day(day):
                count += 1
            self._ord[day] = count
            day += dt.timedelta(days=1)

    def between(self, a: dt.date, b: dt.date) -> int:
        return self._ord[b] - self._ord[a]


def _spans(qs: QuerySet[Case], start: str, end: str) -> list[tuple[dt.date, dt.date, int]]:
    """(start day, end day, number of cases) for the cases that reached `end`, grouped by the database. The
    cases without the milestone form groups of their own (one per start day), dropped here: filtering them in
    SQL would evaluate the milestone's subquery a second time for every case."""
    rows = (
        qs.annotate(s_day=LocalDay(start), e_day=LocalDay(end))
        .order_by()
        .values("s_day", "e_day")
        .annotate(n=Count("id"))
    )
    return [(r["s_day"], r["e_day"], int(r["n"])) for r in rows if r["s_day"] and r["e_day"]]


def measure(unit: str, a: dt.date, b: dt.date, ordinals: BusinessOrdinals) -> int:
    """Days from `a` to `b` in `unit`; a step that ended before it started (a back-dated correction) counts 0."""
    days = ordinals.between(a, b) if unit == "business" else (b - a).days
    return max(days, 0)


def compute(user: Viewer, filters: Filters, *, now: dt.datetime | None = None) -> Metrics:
    """Every figure of the metrics page for `user` (need-to-know applies), in a fixed number of queries."""
    now = now or timezone.now()
    counts = _per_case_counts(user, filters, now)
    calendar = organization_calendar()

    spans = {name: counts.get(f"duration:{name}", []) for name in DURATIONS}
    all_days = {d for rows in spans.values() for s, e, _x, _y, _n in rows for d in (s, e) if d is not None}
    ordinals = BusinessOrdinals(calendar, all_days)
    durations: dict[str, Distribution] = {}
    for name, (label, _start, _end, unit) in DURATIONS.items():
        histogram: dict[int, int] = defaultdict(int)
        for s, e, _x, _y, n in spans[name]:
            assert s is not None and e is not None
            histogram[measure(unit, s, e, ordinals)] += n
        durations[name] = Distribution(name=name, label=label, unit=unit, histogram=dict(histogram))

    promises: dict[str, list[PromiseMonth]] = {}
    for kind in PROMISE_DUE:
        months: dict[dt.date, PromiseMonth] = {}
        for month, _e, outcome, _y, n in counts.get(f"promise:{kind}", []):
            assert month is not None
            entry = months.setdefault(month, PromiseMonth(month=month, kept=0, missed=0))
            if outcome == "kept":
                entry.kept += n
            else:
                entry.missed += n
        promises[kind] = sorted(months.values(), key=lambda m: m.month)

    open_by_state: dict[str, dict[str, int]] = {}
    for _s, _e, state, age, n in counts.get("open", []):
        open_by_state.setdefault(str(state), {})[str(age)] = n

    cases_per_month = {month: n for month, _e, _x, _y, n in counts.get("cases", []) if month is not None}
    reports_per_month = {
        r["month"]: int(r["n"])
        for r in visible_reports(user, filters)
        .annotate(month=LocalDay("created_at", month=True))
        .order_by()
        .values("month")
        .annotate(n=Count("id"))
    }
    return Metrics(
        filters=filters,
        now=now,
        durations=durations,
        promises=promises,
        open_by_state=open_by_state,
        reports_per_month=dict(sorted(reports_per_month.items())),
        cases_per_month=dict(sorted(cases_per_month.items())),
        breakdowns=breakdowns(_period_cases(user, filters), sum(cases_per_month.values())),
    )


CountRow = tuple[dt.date | None, dt.date | None, str | None, str | None, int]


class OfTheCase(Func):
    """A value of the case itself in a query grouped by the case's key (one row per case): it does not extend
    the GROUP BY clause. Django would group by every selected expression as well; each is the case's own
    (functionally dependent on its key), so the longer clause only made both engines sort every joined row by
    all of them (twice the time on SQLite, a sort spilled to disk on PostgreSQL)."""

    template = "%(expressions)s"

    def get_group_by_cols(self) -> list[BaseExpression]:
        return []


def _per_case_rows(user: Viewer, filters: Filters, now: dt.datetime) -> QuerySet[Case]:
    """One row per case: the local day of each milestone, each promise's outcome and the month it fell due,
    the state and age band of an open case, the month received. The same milestones and promises as the cases
    behind a number (`cell_cases`), with the first state changes as aggregates over the joined changes, grouped
    by the case's key alone."""
    # `.values("pk")` first makes the case's key the GROUP BY; the rows are chosen below (the type plugin
    # tracks the row type of the moment).
    by_case: QuerySet[Case] = _period_cases(user, filters).values("pk")  # type: ignore[assignment]
    qs = with_promises(milestones(by_case, grouped=True), now)
    milestone_names = sorted({m for _label, start, end, _unit in DURATIONS.values() for m in (start, end)})
    is_open = Q(state__in=OPEN_STATES)
    columns: dict[str, Expression | F] = {f"d_{m}": LocalDay(m) for m in milestone_names}
    columns["o_state"] = SqlCase(When(is_open, then=F("state")), default=Value(None), output_field=CharField())
    columns["o_age"] = SqlCase(When(is_open, then=_age_band(now)), default=Value(None), output_field=CharField())
    columns["c_month"] = LocalDay("received_at", month=True)
    for kind in PROMISE_DUE:
        columns[f"p_{kind}"] = F(f"p_{kind}")
        columns[f"p_{kind}_month"] = F(f"p_{kind}_month")
    qs = qs.annotate(**{f"x_{name}": OfTheCase(column) for name, column in columns.items()})
    return qs.order_by().values(*(f"x_{name}" for name in columns))  # type: ignore[no-any-return]


def _per_case_counts(user: Viewer, filters: Filters, now: dt.datetime) -> dict[str, list[CountRow]]:
    """Every grouped count of the page in one statement: the rows of `_per_case_rows` are computed once (a
    materialized common table expression) and grouped for each figure (durations by their pair of days,
    promises by month and outcome, open cases by state and age, cases by month), the groups joined with UNION
    ALL. Answers figure → rows (day or month, day, label, label, number of cases)."""
    rows = _per_case_rows(user, filters, now)
    connection = connections[rows.db]
    q = connection.ops.quote_name
    inner, params = rows.query.sql_with_params()
    no_day, no_label = "CAST(NULL AS DATE)", "CAST(NULL AS TEXT)"

    def branch(figure: str, columns: Sequence[str], group: Sequence[str], where: str) -> str:
        # Every name is a literal of this module or an alias quoted by the backend; no value reaches the text.
        return (
            f"SELECT '{figure}', {', '.join(columns)}, COUNT(*) FROM m "  # noqa: S608
            f"WHERE {where} GROUP BY {', '.join(group)}"
        )

    branches: list[str] = []
    for name, (_label, start, end, _unit) in DURATIONS.items():
        a, b = q(f"x_d_{start}"), q(f"x_d_{end}")
        where = f"{a} IS NOT NULL AND {b} IS NOT NULL"
        branches.append(branch(f"duration:{name}", [a, b, no_label, no_label], [a, b], where))
    for kind in PROMISE_DUE:
        month, outcome = q(f"x_p_{kind}_month"), q(f"x_p_{kind}")
        where = f"{month} IS NOT NULL AND {outcome} IN ('kept', 'missed')"
        branches.append(branch(f"promise:{kind}", [month, no_day, outcome, no_label], [month, outcome], where))
    state, age = q("x_o_state"), q("x_o_age")
    branches.append(branch("open", [no_day, no_day, state, age], [state, age], f"{state} IS NOT NULL"))
    month = q("x_c_month")
    branches.append(branch("cases", [month, no_day, no_label, no_label], [month], f"{month} IS NOT NULL"))
    sql = f"WITH m AS MATERIALIZED ({inner}) " + " UNION ALL ".join(branches)
    out: dict[str, list[CountRow]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        for figure, day, other, label, label2, n in cursor.fetchall():
            out[figure].append((_day(day), _day(other), label, label2, int(n)))
    return out


def _day(value: object) -> dt.date | None:
    """A day read straight from the cursor: a date on PostgreSQL, ISO text on SQLite."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def visible_reports(user: Viewer, filters: Filters) -> QuerySet[Report]:
    """Reports received in the period that `user` may know of: every report for a lead; for anyone else the
    reports of the cases they may see (an untriaged report in the inbox is the leads' alone)."""
    since, until = period_bounds(filters)
    qs = Report.objects.filter(created_at__gte=since, created_at__lt=until)
    if isinstance(user, User) and not user.is_lead:
        qs = qs.filter(Exists(visible_cases(user).filter(case_reports__report=OuterRef("pk"))))
    if filters.line:
        qs = qs.filter(product__line__slug=filters.line)
    if filters.product:
        qs = qs.filter(product__slug=filters.product)
    if filters.severity:
        qs = qs.filter(case_link__case__severity=filters.severity)
    return qs


def breakdowns(qs: QuerySet[Case], case_count: int) -> dict[str, list[tuple[str, object, int]]]:
    """(value, label, number of cases) by severity, product line, CWE, exploitation and report source, over
    `qs` (the filtered cases, `case_count` of them)."""
    out: dict[str, list[tuple[str, object, int]]] = {}
    sev = dict(qs.order_by().values_list("severity").annotate(n=Count("id")))
    labels = {"": _("Not scored"), **dict(Severity.choices)}
    out["severity"] = [(v, labels[v], int(sev[v])) for v in [*reversed(Severity.values), ""] if sev.get(v)]
    lines = qs.order_by().values("product_line__slug", "product_line__name_en", "product_line__name_zh")
    out["line"] = [
        (r["product_line__slug"] or "", _line_label(r), int(r["n"]))
        for r in lines.annotate(n=Count("id")).order_by("-n", "product_line__slug")
    ]
    cwes = list(qs.order_by().values_list("cwe_id").annotate(n=Count("id")).order_by("-n", "cwe_id"))
    named = [(str(c), f"CWE-{c}", int(n)) for c, n in cwes if c is not None]
    out["cwe"] = named[:TOP_CWES] + [("", _("Not classified"), int(n)) for c, n in cwes if c is None]
    exp = dict(qs.order_by().values_list("exploitation").annotate(n=Count("id")))
    out["exploitation"] = [(v, label, int(exp[v])) for v, label in Exploitation.choices if exp.get(v)]
    # Grouped over the opening links themselves (one pass, an anti-join on PostgreSQL) rather than a subquery
    # per case; the cases without an opening report are the rest.
    src: dict[str, int] = {
        source: int(n)
        for source, n in opening_links()
        .filter(case__in=qs.values("pk"))
        .order_by()
        .values_list("report__source")
        .annotate(n=Count("id"))
    }
    src[""] = src.get("", 0) + case_count - sum(src.values())
    source_labels = {**dict(Source.choices), "": _("No report")}
    out["source"] = [(v, source_labels[v], src[v]) for v in [*Source.values, ""] if src.get(v)]
    return out


def _line_label(row: Mapping[str, str | None]) -> object:
    if not row["product_line__slug"]:
        return _("No product line")
    if (get_language() or "").startswith("zh") and row["product_line__name_zh"]:
        return row["product_line__name_zh"]
    return row["product_line__name_en"] or row["product_line__slug"]


# --- the cases behind a number ------------------------------------------------------------------------------


def cell_cases(user: User, filters: Filters, cell: str, *, now: dt.datetime | None = None) -> QuerySet[Case]:
    """The cases behind one number of the page, named by `cell` ("kind:value[:value]"), over the same filtered
    and annotated cases as `compute`: what the link of each number shows in the case list.

    duration:<name>[:<days>[-<days>]]  cases that made the step (that took so many days)
    promise:<kind>:<YYYY-MM|all>[:<kept|missed>]  (without an outcome: every decided promise)
    open:<state|all>[:<age band>]
    cases:<YYYY-MM> (received that month) · reports are not cases and link nowhere
    by:<breakdown>:<value>
    """
    now = now or timezone.now()
    qs = filtered_cases(user, filters)
    kind, _sep, rest = cell.partition(":")
    parts = rest.split(":") if rest else []
    if kind == "all":
        return qs
    if kind == "duration" and parts and parts[0] in DURATIONS:
        _label, start, end, unit = DURATIONS[parts[0]]
        qs = qs.filter(**{f"{start}__isnull": False, f"{end}__isnull": False})
        if len(parts) == 1:
            return qs
        low_text, _dash, high_text = parts[1].partition("-")
        low = _int(low_text)
        high = _int(high_text) if high_text else low
        spans = _spans(qs, start, end)
        ordinals = BusinessOrdinals(organization_calendar(), {d for s, e, _n in spans for d in (s, e)})
        keys = [
            f"{s.isoformat()}/{e.isoformat()}" for s, e, _n in spans if low <= measure(unit, s, e, ordinals) <= high
        ]
        return qs.annotate(span=_span_key(start, end)).filter(span__in=keys)
    if kind == "promise" and len(parts) >= 2 and parts[0] in PROMISE_DUE:
        promised = with_promises(qs, now)
        if parts[1] != "all":
            promised = promised.filter(**{f"p_{parts[0]}_month": _month(parts[1])})
        outcome = parts[2] if len(parts) > 2 else "all"
        if outcome in ("kept", "missed"):
            return promised.filter(**{f"p_{parts[0]}": outcome})
        if outcome == "all":
            return promised.filter(**{f"p_{parts[0]}__isnull": False})
    if kind == "open" and parts:
        qs = qs.filter(state__in=OPEN_STATES)
        if parts[0] != "all":
            qs = qs.filter(state=parts[0])
        if len(parts) > 1:
            if parts[1] not in {b[0] for b in AGE_BANDS}:
                raise MetricsError(_("Unknown age band."))
            qs = qs.annotate(age=_age_band(now)).filter(age=parts[1])
        return qs
    if kind == "cases" and parts:
        month = _month(parts[0])
        return qs.annotate(month=LocalDay("received_at", month=True)).filter(month=month)
    if kind == "by" and len(parts) >= 2 and parts[0] in BREAKDOWNS:
        value = ":".join(parts[1:])
        column = {
            "severity": "severity",
            "line": "product_line__slug",
            "cwe": "cwe_id",
            "exploitation": "exploitation",
            "source": "m_source",
        }[parts[0]]
        if parts[0] == "cwe":
            return qs.filter(cwe_id=_int(value)) if value else qs.filter(cwe_id__isnull=True)
        if parts[0] == "line" and not value:
            return qs.filter(product_line__isnull=True)
        return qs.filter(**{column: value})
    raise MetricsError(_("This link does not name a number of the metrics page."))


def _int(text: str) -> int:
    if not text.isdigit() or len(text) > 6:
        raise MetricsError(_("This link does not name a number of the metrics page."))
    return int(text)


def _month(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{text[:7]}-01")
    except ValueError as exc:
        raise MetricsError(_("This link does not name a number of the metrics page.")) from exc


def month_range(months: Iterable[dt.date]) -> list[dt.date]:
    """Every first-of-month from the earliest to the latest of `months`, so a chart shows the months without
    a value as gaps instead of leaving them out."""
    months = sorted(months)
    if not months:
        return []
    out, month = [], months[0]
    while month <= months[-1]:
        out.append(month)
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def age_band_labels() -> dict[str, object]:
    return {
        "0-7": _("up to 7 days"),
        "8-30": _("8–30 days"),
        "31-90": _("31–90 days"),
        "91-180": _("91–180 days"),
        "181+": _("over 180 days"),
    }


__all__ = [
    "AGE_BANDS",
    "BREAKDOWNS",
    "DURATIONS",
    "ORGANIZATION",
    "PROMISES",
    "TARGET_SHARE",
    "BusinessOrdinals",
    "Distribution",
    "Filters",
    "Metrics",
    "PromiseMonth",
    "age_band_labels",
    "cell_cases",
    "compute",
    "compute_all",
    "filtered_cases",
    "month_range",
    "parse_filters",
    "visible_reports",
]


def compute_all(user: Viewer, filters: Filters, *, now: dt.datetime | None = None) -> Metrics:
    """`compute`, plus the tables of the registered providers (`psirt.metrics.registry`), e.g. the regulatory
    clocks met or missed."""
    m = compute(user, filters, now=now)
    for provider in METRIC_PROVIDERS.values():
        m.extra.extend(provider(user, filters, m.now))
    return m
