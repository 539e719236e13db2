"""CVSS v3.1 and v4.0 scores from the `cvss` library (Red Hat's), with errors a person can act on.

We never compute a score ourselves: the library does. This module parses the vector first (so an error names
the offending metric), normalises it (FIRST's metric order, "Not Defined" values dropped) and asks the
library for these scores:

* v3.1 — FIRST's base, temporal and environmental scores;
* v4.0 — `base` = CVSS-B (the base metrics alone), `threat` = CVSS-BT (base + Exploit Maturity),
  `environmental` = CVSS-BTE (the whole vector; supplemental metrics never change a score).

`severity` is the qualitative rating of the score that takes every given metric into account (the
environmental one, which equals the base score for a base-only vector); `base_severity` is kept too.

The severity psirt states for a vulnerability — on the case, in the desk lists, on the advisory page and its
filters, in subscriber matching, mails, feeds, CSAF and the API — is decided by one rule, `decisive_rating`:
the CVSS v4.0 base + threat score (CVSS-BT) when a v4.0 vector is known, else the CVSS v3.1 temporal score
(base adjusted by the temporal metrics the vector carries). Environmental metrics never count: they describe
one customer's environment, not the vulnerability, and each customer scores their own on the public site.

Rounding: v4.0 scores are rounded half-up after adding ε = 1e-6, as the library (≥ 3.3) and Red Hat's
reference calculator since November 2024 do, so that a mathematically exact x.x5 that floating point computes
as x.x4999… is rounded up as the specification says. 522 base vectors depend on this choice; the conformance
test pins it (`generated/cvss40_base_rounding_ties.tsv`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError as LibraryCvssError
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from psirt.lib.cvss_metrics import VERSIONS, Metric, MetricValue, metrics

__all__ = [
    "MAX_VECTOR_LENGTH",
    "CvssError",
    "CvssResult",
    "Rating",
    "build_vector",
    "decisive_rating",
    "normalise_vector",
    "parse_vector",
    "score_vector",
    "severity_for",
    "vector_version",
]

# The longest valid vector (v4.0, every metric set) is under 200 characters; anything much longer is not a
# vector, and refusing it early keeps parsing cheap whatever arrives.
MAX_VECTOR_LENGTH = 300

PREFIXES = {f"CVSS:{v}": v for v in VERSIONS}


class CvssError(ValueError):
    """An invalid vector. `metric` names the offending metric (or "CVSS" for the prefix) when there is one."""

    def __init__(self, message: str, *, metric: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.metric = metric


@dataclass(frozen=True)
class CvssResult:
    """Scores of one vector. `temporal` is set for v3.1 and `threat` for v4.0; the other one is None."""

    version: str
    base: float
    temporal: float | None
    threat: float | None
    environmental: float
    severity: str
    base_severity: str
    vector: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of the API and the CLI: `temporal` (v3.1) or `threat` (v4.0), never both."""
        data: dict[str, Any] = {"version": self.version, "base": self.base}
        if self.version == "3.1":
            data["temporal"] = self.temporal
        else:
            data["threat"] = self.threat
        data.update(environmental=self.environmental, severity=self.severity, vector=self.vector)
        return data


def severity_for(score: float | Decimal) -> str:
    """FIRST's qualitative rating of a score (the same bands in v3.1 and v4.0)."""
    value = Decimal(str(score))
    if value == 0:
        return "None"
    if value <= Decimal("3.9"):
        return "Low"
    if value <= Decimal("6.9"):
        return "Medium"
    if value <= Decimal("8.9"):
        return "High"
    return "Critical"


@cache
def _metrics(version: str) -> dict[str, Metric]:
    return metrics(version)


def _name(item: Metric | MetricValue) -> str:
    """The metric's (or value's) name in the active language: errors reach the bilingual calculator."""
    return item.name_zh if (get_language() or "en").lower().startswith("zh") and item.name_zh else item.name_en


def _shown(text: str) -> str:
    """A piece of untrusted input, shortened for an error message."""
    return text if len(text) <= 24 else text[:20] + "…"


def vector_version(vector: str) -> str:
    """The CVSS version ("3.1" or "4.0") a vector declares in its prefix; CvssError otherwise."""
    if not isinstance(vector, str):
        raise CvssError(_("A CVSS vector is a text such as CVSS:3.1/AV:N/AC:L/…"), metric=None)
    if len(vector) > MAX_VECTOR_LENGTH:
        raise CvssError(
            _("This is too long to be a CVSS vector (more than %(limit)d characters).") % {"limit": MAX_VECTOR_LENGTH},
            metric=None,
        )
    text = vector.strip()
    if not text:
        raise CvssError(_("The vector is empty: paste a vector such as CVSS:3.1/AV:N/AC:L/…"), metric=None)
    head = text.split("/", 1)[0]
    if head in PREFIXES:
        return PREFIXES[head]
    if head.upper() in PREFIXES:
        raise CvssError(_("Write the prefix in capitals: %(prefix)s/") % {"prefix": head.upper()}, metric="CVSS")
    if head.upper().startswith("CVSS:"):
        raise CvssError(
            _("CVSS version %(version)r is not supported: use CVSS:3.1/ or CVSS:4.0/.") % {"version": _shown(head[5:])},
            metric="CVSS",
        )
    raise CvssError(_("A vector starts with CVSS:3.1/ or CVSS:4.0/ followed by its metrics."), metric="CVSS")


def parse_vector(vector: str) -> dict[str, str]:
    """The metrics of a valid vector as {key: value} in FIRST's order, "Not Defined" (X) values left out.

    Any order of metrics is accepted on input; every other deviation raises CvssError naming the metric.
    """
    version = vector_version(vector)
    text = vector.strip()
    rest = text.split("/", 1)[1] if "/" in text else ""
    known = _metrics(version)
    given: dict[str, str] = {}
    for field in rest.split("/") if rest else []:
        if not field:
            raise CvssError(_("The vector has an empty field (two slashes in a row, or a trailing slash)."))
        key, sep, value = field.partition(":")
        if not sep:
            raise CvssError(
                _("%(field)r is not a metric: write KEY:VALUE, e.g. AV:N.") % {"field": _shown(field)},
                metric=_shown(field),
            )
        metric = known.get(key)
        if metric is None:
            message = (
                _("Unknown metric %(key)r in a CVSS %(version)s vector (metric names are upper-case).")
                if key.upper() in known
                else _("Unknown metric %(key)r in a CVSS %(version)s vector.")
            )
            raise CvssError(message % {"key": _shown(key), "version": version}, metric=_shown(key))
        if key in given:
            raise CvssError(
                _("The metric %(key)s (%(name)s) appears twice.") % {"key": key, "name": _name(metric)}, metric=key
            )
        if value not in metric.codes:
            allowed = ", ".join(f"{v.code} ({_name(v)})" for v in metric.values)
            raise CvssError(
                _("%(value)r is not a value of %(key)s (%(name)s); use one of: %(allowed)s.")
                % {"value": _shown(value), "key": key, "name": _name(metric), "allowed": allowed},
                metric=key,
            )
        given[key] = value
    return _complete(version, given)


def _complete(version: str, given: dict[str, str]) -> dict[str, str]:
    known = _metrics(version)
    missing = [key for key, m in known.items() if m.mandatory and key not in given]
    if missing:
        names = ", ".join(f"{k} ({_name(known[k])})" for k in missing)
        message = ngettext("Missing base metric: %(names)s.", "Missing base metrics: %(names)s.", len(missing))
        raise CvssError(message % {"names": names}, metric=missing[0])
    return {key: given[key] for key in known if key in given and given[key] != "X"}


def build_vector(version: str, values: dict[str, str]) -> str:
    """The normalised vector for metric values (e.g. from a calculator form); empty and "X" values are skipped.

    `build_vector(v, parse_vector(s)) == normalise_vector(s)` and
    `parse_vector(build_vector(v, d)) == d` without its X values.
    """
    if version not in VERSIONS:
        raise CvssError(
            _("CVSS version %(version)r is not supported: use 3.1 or 4.0.") % {"version": _shown(str(version))},
            metric="CVSS",
        )
    fields = [f"{k}:{v}" for k, v in values.items() if v not in (None, "")]
    vector = f"CVSS:{version}/" + "/".join(fields)
    parsed = parse_vector(vector)
    return _join(version, parsed)


def _join(version: str, parsed: dict[str, str]) -> str:
    return f"CVSS:{version}/" + "/".join(f"{k}:{v}" for k, v in parsed.items())


def normalise_vector(vector: str) -> str:
    """The same vector in FIRST's metric order without "Not Defined" values; CvssError when invalid."""
    return _join(vector_version(vector), parse_vector(vector))


def _float(value: object) -> float:
    # Decimal("9.8") → 9.8 exactly as written; avoids 9.800000000000001 style surprises in JSON.
    return float(str(value))


def score_vector(vector: str) -> CvssResult:
    """Scores, severity and normalised form of a CVSS v3.1 or v4.0 vector; CvssError when invalid."""
    version = vector_version(vector)
    parsed = parse_vector(vector)
    normalised = _join(version, parsed)
    try:
        if version == "3.1":
            c3 = CVSS3(normalised)
            base, temporal, environmental = c3.scores()
            return CvssResult(
                version=version,
                base=_float(base),
                temporal=_float(temporal),
                threat=None,
                environmental=_float(environmental),
                severity=severity_for(environmental),
                base_severity=severity_for(base),
                vector=normalised,
            )
        known = _metrics(version)
        base_only = {k: v for k, v in parsed.items() if known[k].mandatory}
        with_threat = {k: v for k, v in parsed.items() if known[k].mandatory or k == "E"}
        b = _float(CVSS4(_join(version, base_only)).base_score)
        bt = _float(CVSS4(_join(version, with_threat)).base_score)
        bte = _float(CVSS4(normalised).base_score)
    except LibraryCvssError as exc:  # pragma: no cover - our parser refuses first; kept as a safety net
        raise CvssError(_("Invalid CVSS vector: %(problem)s") % {"problem": exc}) from exc
    return CvssResult(
        version=version,
        base=b,
        temporal=None,
        threat=bt,
        environmental=bte,
        severity=severity_for(bte),
        base_severity=severity_for(b),
        vector=normalised,
    )


@dataclass(frozen=True)
class Rating:
    """The score that decides the severity psirt states for a vulnerability (see `decisive_rating`)."""

    version: str
    score: Decimal
    severity: str
    vector: str


def decisive_rating(cvss31_vector: str = "", cvss40_vector: str = "") -> Rating | None:
    """The one severity rule: the v4.0 base + threat score when a v4.0 vector is given, else the v3.1 temporal
    score; its FIRST rating is the severity. None without any vector; CvssError for an invalid one."""
    if cvss40_vector and cvss40_vector.strip():
        result = score_vector(cvss40_vector)
        decisive = result.threat
    elif cvss31_vector and cvss31_vector.strip():
        result = score_vector(cvss31_vector)
        decisive = result.temporal
    else:
        return None
    assert decisive is not None  # v4.0 results carry `threat`, v3.1 results `temporal`
    score = Decimal(str(decisive))
    return Rating(version=result.version, score=score, severity=severity_for(score), vector=result.vector)
