"""The environmental score calculator on each advisory page, as a plain GET form.

The form's fields are the environmental metrics of the published vector's version (security requirements and
modified base metrics). Submitting it redirects to `?env=<vector>` so the result can be shared: the vector in
the URL is the published vector plus the chosen environmental metrics. Only environmental metrics are taken
from a shared URL; the base (and temporal/threat) metrics always come from the advisory, so a crafted link
cannot show a different base score under this advisory's name. Scores come from `psirt.lib.cvss`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from psirt.lib.cvss import MAX_VECTOR_LENGTH, CvssError, CvssResult, parse_vector, score_vector, vector_version
from psirt.lib.cvss_metrics import Metric, metric_groups

if TYPE_CHECKING:
    from psirt.advisories.views.presenters import ScoreView

FORM_FLAG = "calc"


def env_metrics(version: str) -> tuple[Metric, ...]:
    """The environmental metrics of `version` in specification order."""
    return next(g.metrics for g in metric_groups(version) if g.key == "environmental")


def _zh() -> bool:
    return (get_language() or "en").lower().startswith("zh")


@dataclass
class MetricChoice:
    """One select of the form: the metric, its values in the visitor's language, the current value."""

    metric: Metric
    selected: str
    field_name: str

    @property
    def label(self) -> str:
        return self.metric.name_zh if _zh() else self.metric.name_en

    @property
    def options(self) -> list[tuple[str, str]]:
        return [(v.code, v.name_zh if _zh() else v.name_en) for v in self.metric.values]

    @property
    def option_tags(self) -> SafeString:
        """The <option> elements, escaped, built here: some forty options a page through the template engine
        were a large share of an advisory page's rendering time."""
        return mark_safe(  # noqa: S308 — every interpolated text is escaped right here
            "".join(
                f'<option value="{escape(code, quote=True)}"{" selected" if code == self.selected else ""}>'
                f"{escape(str(label), quote=True)}</option>"
                for code, label in self.options
            )
        )


@dataclass(eq=False)
class Calculator:
    """The environmental calculator for one published vector.

    Two calculators are equal when they show the same form (`shown`), so the page renders the form once per
    process for each set of calculators and language (`{% memo %}` in `advisories/detail.html`)."""

    version: str
    published: ScoreView
    choices: list[MetricChoice] = field(default_factory=list)
    result: CvssResult | None = None
    error: str = ""

    def shown(self) -> tuple[Any, ...]:
        """Everything `advisories/_environmental.html` shows of this calculator (the metrics' names and values
        follow from the version and the language)."""
        result = self.result
        return (
            self.version,
            tuple((c.metric.key, c.field_name, c.selected) for c in self.choices),
            None if result is None else (result.vector, result.environmental, result.severity),
            self.error,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Calculator) and self.shown() == other.shown()

    def __hash__(self) -> int:
        return hash(self.shown())

    @property
    def anchor(self) -> str:
        return "env-" + self.version.replace(".", "")

    @property
    def severity_class(self) -> str:
        return f"sev-{self.result.severity.lower()}" if self.result else ""


def _env_values(version: str, vectors: Sequence[str]) -> tuple[dict[str, str], str]:
    """The environmental metric values of the first `env` vector of `version`, and an error message."""
    keys = {m.key for m in env_metrics(version)}
    for raw in vectors:
        if len(raw) > MAX_VECTOR_LENGTH:
            return {}, _("The shared vector is too long to be a CVSS vector.")
        try:
            if vector_version(raw) != version:
                continue
            parsed = parse_vector(raw)
        except CvssError as exc:
            return {}, _("The shared vector is not valid: %(msg)s") % {"msg": exc.message}
        return {k: v for k, v in parsed.items() if k in keys}, ""
    return {}, ""


def combined_vector(published_vector: str, env: Mapping[str, str]) -> str:
    """The published vector (base and temporal/threat metrics) with the environmental metrics `env` added."""
    version = vector_version(published_vector)
    keys = {m.key for m in env_metrics(version)}
    base = {k: v for k, v in parse_vector(published_vector).items() if k not in keys}
    fields = [f"{k}:{v}" for k, v in {**base, **env}.items() if v and v != "X"]
    return score_vector(f"CVSS:{version}/" + "/".join(fields)).vector


def calculators_for(scores: Sequence[ScoreView], params: Mapping[str, Any]) -> list[Calculator]:
    """One calculator per published vector, filled from the `env` parameters of the URL."""
    getlist = getattr(params, "getlist", None)
    vectors = [v for v in (getlist("env") if getlist else [params.get("env", "")]) if v][:2]
    out = []
    for score in scores:
        version = score.version
        values, error = _env_values(version, vectors)
        calc = Calculator(version=version, published=score, error=error)
        prefix = "v" + version.replace(".", "")
        calc.choices = [
            MetricChoice(metric=m, selected=values.get(m.key, "X"), field_name=f"{prefix}_{m.key}")
            for m in env_metrics(version)
        ]
        if values:
            try:
                calc.result = score_vector(combined_vector(score.result.vector, values))
            except CvssError as exc:
                calc.error = _("The shared vector is not valid: %(msg)s") % {"msg": exc.message}
        out.append(calc)
    return out


def redirect_query(scores: Sequence[ScoreView], params: Mapping[str, Any]) -> str | None:
    """For a submitted calculator form: the query string `env=…` (plus the other calculator's kept vector)
    to redirect to; None when the request is not a form submission or names no published version."""
    version = params.get(FORM_FLAG, "")
    target = next((s for s in scores if s.version == version), None)
    if target is None:
        return None
    prefix = "v" + version.replace(".", "")
    env: dict[str, str] = {}
    for metric in env_metrics(version):
        value = params.get(f"{prefix}_{metric.key}", "X")
        if value in metric.codes and value != "X":
            env[metric.key] = value
    getlist = getattr(params, "getlist", None)
    kept = [v for v in (getlist("env") if getlist else []) if v and not v.startswith(f"CVSS:{version}/")][:1]
    query: list[tuple[str, str]] = [("env", v[:MAX_VECTOR_LENGTH]) for v in kept]
    if env:
        query.append(("env", combined_vector(target.result.vector, env)))
    return urlencode(query, safe=":/")
