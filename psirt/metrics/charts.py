"""Charts of the metrics page as SVG written on the server.

The site's Content-Security-Policy allows no inline `<style>` element, no `style` attribute and no script, so the
charts are drawn with SVG presentation attributes only (`fill`, `stroke`, `font-size`: attributes, not styles,
which the policy does not cover) and themed by classes of the one stylesheet. Each chart carries a `<title>` and
a `<desc>` (read by screen readers through `aria-labelledby`); the page puts the same numbers in a table next to
it, so the chart is never the only way to read them. No script: it reads and prints the same without one.

Every text is escaped (`escape`): labels come from product lines and other things people type.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

WIDTH = 560
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 22, 44
# Colours of the series, readable on white and in grey print; the stylesheet may override them by class.
COLOURS = ("#1f5fa8", "#d97a18", "#2e8b57", "#8e1520")
_ids = itertools.count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def _nice_max(value: float) -> float:
    """The smallest 1-2-5 step ceiling at or above `value` (at least 1), for the y axis."""
    if value <= 1:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)  # pragma: no cover - the loop always returns


def _frame(title: str, desc: str, body: list[str], *, css: str) -> SafeString:
    n = next(_ids)
    return mark_safe(  # noqa: S308 - every text below is escaped
        f'<svg class="chart {css}" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-labelledby="chart-{n}-t chart-{n}-d" font-family="sans-serif" font-size="12">'
        f'<title id="chart-{n}-t">{escape(title)}</title><desc id="chart-{n}-d">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _axes(labels: Sequence[str], top: float, *, percent: bool = False) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    out = [
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#4a5565" stroke-width="1"/>'
    ]
    # Whole steps: 1, 2 or 5 ticks up to 5; five ticks for 10, 20, 50… (2, 4, 10 each); quarters for shares.
    ticks = 4 if percent else (int(top) if top <= 5 else 5)
    for i in range(ticks + 1):
        value = top * i / ticks
        y = TOP + plot_h - plot_h * i / ticks
        text = f"{value * 100:.0f} %" if percent else (f"{value:.0f}" if value == int(value) else f"{value:.1f}")
        out.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#dde3ea" '
            f'stroke-width="1"/><text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#4a5565">{text}</text>'
        )
    if labels:
        step = max(1, -(-len(labels) // 8))  # at most 8 labels under the axis
        slot = plot_w / len(labels)
        for i, label in enumerate(labels):
            if i % step:
                continue
            x = LEFT + slot * (i + 0.5)
            out.append(
                f'<text x="{x:.1f}" y="{TOP + plot_h + 14}" text-anchor="middle" fill="#4a5565">{escape(label)}</text>'
            )
    return out


def _legend(series: Sequence[Series]) -> list[str]:
    out = []
    x = LEFT
    for i, s in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        out.append(
            f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" fill="{colour}" class="s{i}"/>'
            f'<text x="{x + 14}" y="{HEIGHT - 5}" fill="#1d2733">{escape(s.name)}</text>'
        )
        x += 24 + 7 * len(s.name)
    return out


def bar_chart(title: str, desc: str, labels: Sequence[str], series: Sequence[Series]) -> SafeString:
    """Grouped bars: one group per label (a month, a number of days), one bar per series."""
    values = [v or 0 for s in series for v in s.values]
    top = _nice_max(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    body = _axes(labels, top)
    slot = plot_w / max(len(labels), 1)
    bar_w = max(slot * 0.8 / max(len(series), 1), 1.0)
    for si, s in enumerate(series):
        colour = COLOURS[si % len(COLOURS)]
        for i, v in enumerate(s.values):
            if not v:
                continue
            h = plot_h * v / top
            x = LEFT + slot * i + slot * 0.1 + bar_w * si
            body.append(
                f'<rect class="bar s{si}" x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(labels[i])}: {escape(s.name)} {v:g}</title></rect>'
            )
    if len(series) > 1:
        body += _legend(series)
    return _frame(title, desc, body, css="chart-bar")


def line_chart(title: str, desc: str, labels: Sequence[str], series: Sequence[Series]) -> SafeString:
    """Lines over months, a dot per value with its number as a tooltip."""
    values = [v or 0 for s in series for v in s.values]
    top = _nice_max(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    body = _axes(labels, top)
    slot = plot_w / max(len(labels), 1)
    for si, s in enumerate(series):
        colour = COLOURS[si % len(COLOURS)]
        points = [
            (LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * (v or 0) / top, v or 0) for i, v in enumerate(s.values)
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _v in points)
            body.append(
                f'<polyline class="line s{si}" points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for i, (x, y, v) in enumerate(points):
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(labels[i])}: '
                f"{escape(s.name)} {v:g}</title></circle>"
            )
    body += _legend(series)
    return _frame(title, desc, body, css="chart-line")


def share_chart(
    title: str, desc: str, labels: Sequence[str], shares: Sequence[float | None], target: float
) -> SafeString:
    """The share of promises kept per month as bars (0–100 %), with the target as a dashed line. A month without
    a decided promise has no bar (not a zero bar: nothing was due)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    body = _axes(labels, 1.0, percent=True)
    slot = plot_w / max(len(labels), 1)
    for i, share in enumerate(shares):
        if share is None:
            continue
        h = plot_h * share
        colour = COLOURS[2] if share >= target else COLOURS[1]
        kind = "met" if share >= target else "below"
        body.append(
            f'<rect class="bar {kind}" x="{LEFT + slot * i + slot * 0.15:.1f}" y="{TOP + plot_h - h:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{colour}"><title>{escape(labels[i])}: '
            f"{share * 100:.0f} %</title></rect>"
        )
    y = TOP + plot_h - plot_h * target
    body.append(
        f'<line class="target" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#8e1520" '
        f'stroke-width="1.5" stroke-dasharray="6 4"/>'
        f'<text x="{WIDTH - RIGHT}" y="{TOP - 8}" text-anchor="end" fill="#8e1520">- - {escape(_target_label(target))}'
        "</text>"
    )
    return _frame(title, desc, body, css="chart-share")


def _target_label(target: float) -> str:
    return gettext("target %(share)s %%") % {"share": f"{target * 100:.0f}"}


def month_label(month: dt.date) -> str:
    return month.strftime("%Y-%m")
