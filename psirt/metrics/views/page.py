"""The metrics page for leads (and, filtered by need-to-know, everyone on the desk) and its CSV files."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from psirt.accounts.access import desk_user
from psirt.catalog.models import Product, ProductLine
from psirt.lib.access import lead_required, staff_required
from psirt.lib.severity import Severity
from psirt.metrics import charts
from psirt.metrics.drilldown import cases_url
from psirt.metrics.exceptions import MetricsError
from psirt.metrics.models import MIN_PUBLIC_COUNT, PublicStatistics
from psirt.metrics.public import forget
from psirt.metrics.public import public_statistics as public_figures
from psirt.metrics.queries import (
    DURATIONS,
    PROMISES,
    TARGET_SHARE,
    Filters,
    Metrics,
    compute_all,
    month_range,
    parse_filters,
)
from psirt.metrics.services import set_public_statistics
from psirt.metrics.tables import Table, all_tables, bins, percent, unit_label

# Spreadsheet programs run a cell that starts with one of these as a formula; a product line named
# "=HYPERLINK(…)" must stay text in the CSV file.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _filters(request: HttpRequest) -> tuple[Filters, str]:
    try:
        return parse_filters(request.GET), ""
    except MetricsError as exc:
        return parse_filters({}), str(exc.message)


def _charts(m: Metrics) -> dict[str, object]:
    out: dict[str, object] = {}
    months = month_range(set(m.reports_per_month) | set(m.cases_per_month))
    labels = [charts.month_label(mo) for mo in months]
    out["months"] = charts.line_chart(
        _("Reports received and cases opened per month"),
        _("Number of reports received and of cases opened in each month of the period."),
        labels,
        [
            charts.Series(_("Reports"), [m.reports_per_month.get(mo, 0) for mo in months]),
            charts.Series(_("Cases"), [m.cases_per_month.get(mo, 0) for mo in months]),
        ],
    )
    for name, d in m.durations.items():
        b = bins(d)
        out[f"distribution-{name}"] = charts.bar_chart(
            str(d.label),
            _("Histogram: number of cases by %(unit)s taken.") % {"unit": unit_label(d.unit)},
            [str(low) if low == high else f"{low}–{high}" for low, high, _n in b],
            [charts.Series(_("Cases"), [n for _l, _h, n in b])],
        )
    for kind, rows in m.promises.items():
        by_month = {p.month: p.share for p in rows}
        months_ = month_range(by_month)
        out[f"promise-{kind}"] = charts.share_chart(
            str(PROMISES[kind]),
            _("Bars: share kept in each month the promise fell due; dashed line: the target."),
            [charts.month_label(mo) for mo in months_],
            [by_month.get(mo) for mo in months_],
            TARGET_SHARE,
        )
    return out


@staff_required
def metrics_page(request: HttpRequest) -> HttpResponse:
    user = desk_user(request)
    filters, error = _filters(request)
    m = compute_all(user, filters)
    tables = all_tables(m)
    ack = m.promise_total("ack")
    fix = m.durations["remediate"]
    summary = [
        (_("Acknowledged in time"), percent(ack.share) or "—", cases_url(filters, "promise:ack:all")),
        (
            _("Median time to acknowledge (business days)"),
            m.durations["acknowledge"].median if m.durations["acknowledge"].count else "—",
            cases_url(filters, "duration:acknowledge"),
        ),
        (
            _("Median time to fix (days)"),
            fix.median if fix.count else "—",
            cases_url(filters, "duration:remediate"),
        ),
        (
            _("Open cases"),
            sum(sum(a.values()) for a in m.open_by_state.values()),
            cases_url(filters, "open:all"),
        ),
    ]
    return render(
        request,
        "metrics/desk/metrics.html",
        {
            "m": m,
            "filters": filters,
            "error": error,
            "tables": tables,
            "charts": _charts(m),
            "summary": summary,
            "durations": list(DURATIONS),
            "links": {name: _linked(t, filters) for name, t in tables.items()},
            "lines": ProductLine.objects.order_by("position", "name_en"),
            "products": Product.objects.order_by("name"),
            "severities": Severity.choices,
            "query": request.GET.urlencode(),
            "target": percent(TARGET_SHARE),
            "now": timezone.now(),
            "public": PublicStatistics.get() if user.is_lead else None,
            "public_figures": public_figures() if user.is_lead else None,
            "min_public_count": MIN_PUBLIC_COUNT,
        },
        status=422 if error else 200,
    )


def _linked(table: Table, filters: Filters) -> list[list[tuple[object, str, bool]]]:
    """The table's rows as (value, URL of the cases behind it or "", whether the value counts those cases)."""
    base = reverse("desk:cases:list")
    return [
        [(c.value, cases_url(filters, c.link, base=base) if c.link else "", c.counts) for c in row]
        for row in table.rows
    ]


def csv_text(table: Table) -> str:
    """The table as CSV text: a header row, then the rows; text that a spreadsheet would run as a formula is
    quoted with a leading apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in table.header])
    for row in table.rows:
        writer.writerow([_cell(c.value) for c in row])
    return buffer.getvalue()


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@staff_required
def metrics_csv(request: HttpRequest, table: str) -> HttpResponse:
    """One table of the page as a CSV file, UTF-8 with a byte-order mark so spreadsheet programs read Chinese
    correctly. Same filters, same need-to-know, same numbers as the page."""
    user = desk_user(request)
    try:
        filters = parse_filters(request.GET)
    except MetricsError as exc:
        return HttpResponse(str(exc.message), status=422, content_type="text/plain; charset=utf-8")
    tables = all_tables(compute_all(user, filters))
    if table not in tables:
        raise Http404
    body = "\ufeff" + csv_text(tables[table])
    response = HttpResponse(body.encode("utf-8"), content_type="text/csv; charset=utf-8")
    name = f"psirt-metrics-{table}-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@lead_required
@require_POST
def public_statistics(request: HttpRequest) -> HttpResponse:
    """A lead turns the public response statistics on or off and sets the minimum count behind a figure."""
    raw = (request.POST.get("min_count") or "").strip()[:6]
    try:
        if not raw.isdigit():
            raise MetricsError(_("Give the minimum number of cases as a whole number."))
        set_public_statistics(
            enabled=request.POST.get("enabled") == "1", min_count=int(raw), actor=desk_user(request), request=request
        )
    except MetricsError as exc:
        messages.error(request, str(exc.message))
    else:
        forget()
        messages.success(request, _("Public response statistics saved."))
    return redirect(f"{reverse('desk:metrics:page')}#public-statistics")
