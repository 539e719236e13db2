"""Likely duplicates of an inbox report: cases about the same product with similar text.

Report texts are encrypted at rest, so the database cannot compare them: we load a bounded set of candidate
cases (the same product first, then the most recent others), decrypt the description of each case's first
report in Python, and rank by word/character-bigram overlap (Jaccard) plus a bonus for the same product.
Bounded work whatever the size of the database: at most `MAX_CANDIDATES` cases, two queries.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass

from psirt.accounts.models import User
from psirt.cases.access import visible_cases
from psirt.cases.models import Case, CaseReport
from psirt.intake.models import Report
from psirt.intake.services import description_for_staff

MAX_CANDIDATES = 200
# Only the start of a description counts: the gist is there, and a 200 KB paste must not slow the page.
TEXT_PREFIX = 4000
SAME_PRODUCT_BONUS = 0.25
MIN_SCORE = 0.12

_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "have",
        "has",
        "are",
        "was",
        "were",
        "not",
        "but",
        "you",
        "your",
        "our",
        "can",
        "could",
        "would",
        "into",
        "when",
        "which",
        "there",
        "their",
        "then",
        "than",
        "been",
        "also",
        "via",
        "use",
        "used",
        "using",
    ]
)


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def tokens(text: str) -> frozenset[str]:
    """Words of three letters or more (lower-cased, without common English words) and, for Chinese text
    (no spaces between words), overlapping character pairs."""
    text = unicodedata.normalize("NFKC", (text or "")[:TEXT_PREFIX]).casefold()
    out: set[str] = set()
    for word in _WORD_RE.findall(text):
        cjk = [ch for ch in word if _is_cjk(ch)]
        if cjk:
            out.update(a + b for a, b in itertools.pairwise(cjk))
            latin = "".join(ch if not _is_cjk(ch) else " " for ch in word).split()
            out.update(w for w in latin if len(w) >= 3 and w not in _STOP)
        elif len(word) >= 3 and word not in _STOP:
            out.add(word)
    return frozenset(out)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard overlap of two token sets (0 … 1)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Suggestion:
    """A case that may describe the same vulnerability as the report, with why."""

    case: Case
    score: float
    same_product: bool


def _report_text(report: Report) -> str:
    try:
        text = description_for_staff(report).text
    except Exception:  # an undecryptable report just does not match anything
        text = ""
    return " ".join([report.product_label or "", text or ""])


def suggest_duplicates(*, report: Report, user: User, limit: int = 5) -> list[Suggestion]:
    """Cases `user` may see that look like `report`, best first (at most `limit`)."""
    mine = tokens(_report_text(report))
    base = visible_cases(user).exclude(case_reports__report=report)
    product_id = report.product_id
    same = list(base.filter(product_id=product_id).order_by("-created_at")[:MAX_CANDIDATES]) if product_id else []
    others = list(
        base.exclude(product_id=product_id).order_by("-created_at")[: max(0, MAX_CANDIDATES - len(same))]
        if product_id
        else base.order_by("-created_at")[:MAX_CANDIDATES]
    )
    candidates = same + others
    if not candidates:
        return []
    firsts: dict[int, Report] = {}
    links = (
        CaseReport.objects.filter(case__in=candidates, is_duplicate=False)
        .select_related("report", "report__product")
        .order_by("added_at")
    )
    for link in links:
        firsts.setdefault(link.case_id, link.report)
    found: list[Suggestion] = []
    for case in candidates:
        first = firsts.get(case.pk)
        theirs = tokens(case.title + " " + (_report_text(first) if first is not None else ""))
        same_product = product_id is not None and case.product_id == product_id
        score = similarity(mine, theirs) + (SAME_PRODUCT_BONUS if same_product else 0.0)
        if score >= MIN_SCORE:
            found.append(Suggestion(case=case, score=round(score, 3), same_product=same_product))
    found.sort(key=lambda s: (-s.score, -s.case.pk))
    return found[:limit]
