"""What the advisory page shows, built once for the public page and the desk preview (the same template and
the same context, so the preview is exactly the public page)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from psirt.advisories.models import Advisory, AffectedProduct
from psirt.advisories.queries import AffectedRow, affected_rows, revisions_of
from psirt.advisories.views.environmental import calculators_for
from psirt.lib.cvss import CvssError, CvssResult, score_vector, severity_for
from psirt.lib.cwe import CweEntry
from psirt.lib.cwe import lookup as lookup_cwe
from psirt.lib.severity import label as severity_label


@dataclass
class ScoreView:
    """One published vector with its scores as the page shows them. Its severity is the rating of the score the
    severity rule reads for its version (v3.1 temporal, v4.0 base + threat; `psirt.lib.cvss.decisive_rating`);
    `decisive` marks the vector whose rating is the advisory's severity."""

    version: str
    result: CvssResult
    has_threat: bool
    decisive: bool = False

    @property
    def severity(self) -> str:
        score = self.result.temporal if self.version == "3.1" else self.result.threat
        return severity_for(score if score is not None else self.result.base)

    @property
    def severity_class(self) -> str:
        return f"sev-{self.severity.lower()}"

    @property
    def severity_label(self) -> str:
        """The rating in the visitor's language ("Critical" / "严重")."""
        return severity_label(self.severity)


def score_view(vector: str) -> ScoreView | None:
    if not vector:
        return None
    try:
        result = score_vector(vector)
    except CvssError:  # a vector that no longer parses is not shown rather than crashing the page
        return None
    metrics = {part.split(":")[0] for part in result.vector.split("/")[1:]}
    threat = bool(metrics & ({"E", "RL", "RC"} if result.version == "3.1" else {"E"}))
    return ScoreView(version=result.version, result=result, has_threat=threat)


def scores_of(advisory: Advisory) -> list[ScoreView]:
    """The advisory's vectors, v4.0 first; the first one shown is the one that decides the severity."""
    views = [s for s in (score_view(advisory.cvss40_vector), score_view(advisory.cvss31_vector)) if s is not None]
    if views:
        views[0].decisive = True
    return views


def page_context(
    request: HttpRequest,
    advisory: Advisory,
    *,
    preview: bool = False,
    table: Sequence[AffectedProduct] | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The context of `advisories/detail.html` (environmental calculator included); `table` replaces the
    advisory's affected rows (the preview of an open revision); `data`: `page_data(advisory)` when the caller has
    it already."""
    data = data if data is not None else page_data(advisory, table)
    return {
        **data,
        "calculators": calculators_for(data["scores"], request.GET),
        "preview": preview,
    }


def page_data(advisory: Advisory, table: Sequence[AffectedProduct] | None = None) -> dict[str, Any]:
    """What the advisory page shows that depends on the advisory and the catalog only, not on the visitor's request
    nor language: the advisory, its affected rows, scores, weakness and revisions. Read only once built: the public
    page keeps it per published revision."""
    rows: list[AffectedRow] = affected_rows(advisory, table)
    cwe: CweEntry | None = lookup_cwe(advisory.cwe_id) if advisory.cwe_id else None
    return {
        "advisory": advisory,
        "rows": rows,
        "fixes": [r for r in rows if r.fixed is not None],
        "unfixed": [r for r in rows if r.fixed is None],
        "cwe": cwe,
        "scores": scores_of(advisory),
        "revisions": revisions_of(advisory),
    }
