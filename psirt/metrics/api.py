"""`GET /api/v1/metrics`: the numbers of the desk's metrics page as JSON, with the same filters and the same
need-to-know (token scope `cases:read`; a product engineer's token counts only the cases of their lines)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from psirt.accounts.access import TokenAuth
from psirt.metrics.queries import TARGET_SHARE, Metrics, compute_all, parse_filters
from psirt.metrics.tables import Table

router = Router(tags=["metrics"])


class MetricsParams(Schema):
    start: dt.date | None = Field(None, alias="from", description="First day of the period (local); default a year ago")
    end: dt.date | None = Field(None, alias="to", description="Last day of the period (local); default today")
    line: str = Field("", max_length=80, description="Product line slug")
    product: str = Field("", max_length=80, description="Product slug")
    severity: str = Field("", max_length=20, description="None, Low, Medium, High or Critical")


class Bin(Schema):
    days: int
    cases: int


class DurationOut(Schema):
    unit: str = Field(description='"business" (days of the organization\'s calendar) or "calendar"')
    cases: int
    median: int | None
    p90: int | None
    histogram: list[Bin]


class PromiseMonthOut(Schema):
    month: str = Field(description="YYYY-MM in which the promise fell due")
    kept: int
    missed: int
    share: float | None


class OpenOut(Schema):
    state: str
    age: str = Field(description="Age band in calendar days since received: 0-7, 8-30, 31-90, 91-180, 181+")
    cases: int


class MonthOut(Schema):
    month: str
    reports: int
    cases: int


class CountOut(Schema):
    value: str
    cases: int


class TableOut(Schema):
    name: str
    header: list[str]
    rows: list[list[str]]


class MetricsOut(Schema):
    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")
    line: str
    product: str
    severity: str
    target_share: float
    durations: dict[str, DurationOut]
    promises: dict[str, list[PromiseMonthOut]]
    open: list[OpenOut]
    months: list[MonthOut]
    breakdowns: dict[str, list[CountOut]]
    extra: list[TableOut] = Field(description="Tables of registered providers (e.g. regulatory clocks)")


@router.get(
    "",
    response=MetricsOut,
    by_alias=True,
    auth=TokenAuth(scopes=["cases:read"]),
    summary="Response-time metrics of the cases you may see",
)
def metrics(request: HttpRequest, params: Query[MetricsParams]) -> dict[str, object]:
    query = {"line": params.line, "product": params.product, "severity": params.severity}
    if params.start:
        query["from"] = params.start.isoformat()
    if params.end:
        query["to"] = params.end.isoformat()
    filters = parse_filters(query)
    return as_json(compute_all(request.auth.user, filters))  # type: ignore[attr-defined]


def as_json(m: Metrics) -> dict[str, object]:
    """The figures as plain values (also what the tests compare with the page)."""
    months = sorted(set(m.reports_per_month) | set(m.cases_per_month))
    return {
        "from": m.filters.start,
        "to": m.filters.end,
        "line": m.filters.line,
        "product": m.filters.product,
        "severity": m.filters.severity,
        "target_share": TARGET_SHARE,
        "durations": {
            name: {
                "unit": d.unit,
                "cases": d.count,
                "median": d.median,
                "p90": d.p90,
                "histogram": [{"days": k, "cases": v} for k, v in sorted(d.histogram.items())],
            }
            for name, d in m.durations.items()
        },
        "promises": {
            kind: [
                {"month": p.month.strftime("%Y-%m"), "kept": p.kept, "missed": p.missed, "share": p.share} for p in rows
            ]
            for kind, rows in m.promises.items()
        },
        "open": [
            {"state": state, "age": age, "cases": n}
            for state, ages in sorted(m.open_by_state.items())
            for age, n in sorted(ages.items())
        ],
        "months": [
            {
                "month": mo.strftime("%Y-%m"),
                "reports": m.reports_per_month.get(mo, 0),
                "cases": m.cases_per_month.get(mo, 0),
            }
            for mo in months
        ],
        "breakdowns": {
            name: [{"value": value, "cases": n} for value, _label, n in rows] for name, rows in m.breakdowns.items()
        },
        "extra": [
            {
                "name": t.name,
                "header": [str(h) for h in t.header],
                "rows": [[str(c.value) for c in row] for row in t.rows],
            }
            for t in m.extra
            if isinstance(t, Table)
        ],
    }
