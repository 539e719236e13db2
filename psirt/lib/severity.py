"""The one severity vocabulary: FIRST's qualitative ratings, their order, and the thresholds built on them.

Every stored severity (case, advisory, remediation time) is one of `Severity`'s values, or "" when no vector is
known. Every threshold (a subscriber's minimum severity, the publication policy's minimum) is one of
`MinimumSeverity`'s values: the same strings, where the lowest one ("None") lets every advisory through, even
one without a score. Comparisons go through `rank` / `meets_minimum`; nothing else orders severities.

Which score decides a vulnerability's severity is `psirt.lib.cvss.decisive_rating`; its `severity` is always one
of these values.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["ORDER", "MinimumSeverity", "Severity", "at_or_below", "label", "meets_minimum", "rank"]


class Severity(models.TextChoices):
    """FIRST's qualitative severity ratings (CVSS v3.1 and v4.0 share them), lowest first."""

    NONE = "None", _("None")
    LOW = "Low", _("Low")
    MEDIUM = "Medium", _("Medium")
    HIGH = "High", _("High")
    CRITICAL = "Critical", _("Critical")


# The ratings from lowest to highest; the position is the rank.
ORDER: tuple[str, ...] = tuple(Severity.values)


class MinimumSeverity(models.TextChoices):
    """A threshold "this severity or higher", one per rating of `Severity` (same values, same order). The
    lowest, ANY, admits every advisory, including one that has no score yet."""

    ANY = Severity.NONE.value, _("Any severity")
    LOW = Severity.LOW.value, _("Low and above")
    MEDIUM = Severity.MEDIUM.value, _("Medium and above")
    HIGH = Severity.HIGH.value, _("High and above")
    CRITICAL = Severity.CRITICAL.value, _("Critical only")


if tuple(MinimumSeverity.values) != ORDER:  # pragma: no cover - a programming error caught at import
    raise ImportError("MinimumSeverity must have exactly one threshold per Severity, in the same order")


def label(severity: str) -> str:
    """A rating in the visitor's language ("Critical" / "严重"), as `get_severity_display` gives it: an unknown
    value as it is. Without the hashing of every lazy label that `get_severity_display` does on each call."""
    try:
        return str(Severity(severity).label)
    except ValueError:
        return severity


def rank(severity: str | None) -> int:
    """The position of a rating in `ORDER` (None = 0 … Critical = 4); -1 for "" (no score) or an unknown value."""
    try:
        return ORDER.index(severity or "")
    except ValueError:
        return -1


def meets_minimum(severity: str | None, minimum: str) -> bool:
    """Whether an advisory of `severity` passes the threshold `minimum` (a `MinimumSeverity` value). The lowest
    threshold passes everything, even no severity at all; an unknown threshold passes nothing."""
    if minimum == MinimumSeverity.ANY:
        return True
    wanted = rank(minimum)
    return wanted >= 0 and rank(severity) >= wanted


def at_or_below(severity: str | None) -> list[str]:
    """The thresholds an advisory of `severity` passes, for a database filter (`min_severity__in=…`)."""
    return [minimum for minimum in MinimumSeverity.values if meets_minimum(severity, minimum)]
