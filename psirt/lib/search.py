"""The search text of public search boxes (products, advisories): bounded and cleaned before it reaches a query."""

from __future__ import annotations

import unicodedata

# Search text longer than this is refused: names are short, and a long query is a mistake or a probe.
MAX_QUERY_CHARS = 100


class QueryTooLong(ValueError):
    """The search text is longer than MAX_QUERY_CHARS."""


def clean_query(raw: str) -> str:
    """The search text as typed, without control or format characters and with runs of spaces collapsed.
    Raises QueryTooLong (checked before any other work, so a huge query costs nothing)."""
    if len(raw) > MAX_QUERY_CHARS:
        raise QueryTooLong(raw[:MAX_QUERY_CHARS])
    kept = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C")
    return " ".join(kept.split())
