"""The CWE list a handler picks a weakness from, by number or by name.

There is no CWE package and no network at run time, so the entries live in `data/cwe.json`: a curated subset
of MITRE's list (the CWE Top 25 of 2024 plus the software, firmware and hardware weaknesses device vendors
cite), with MITRE's English names and our Chinese names. To add one, append an entry there (see its `_about`);
the tests check every entry's shape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import get_language

__all__ = ["CweEntry", "all_entries", "is_known", "lookup", "normalise_cwe_id", "search"]

DATA_FILE = Path(__file__).resolve().parent / "data" / "cwe.json"
MAX_QUERY_LENGTH = 200
MAX_LIMIT = 100

# "79", "CWE-79", "cwe 79", "CWE_79", "CWE79": people write all of these.
_ID_RE = re.compile(r"^\s*(?:cwe\s?[-_]?\s?)?(\d{1,7})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class CweEntry:
    """One weakness of the list."""

    id: int
    name: str
    name_zh: str
    kind: str = "weakness"
    top25_2024: int | None = None

    @property
    def cwe_id(self) -> str:
        """The identifier as CSAF and CVE records write it: "CWE-79"."""
        return f"CWE-{self.id}"

    @property
    def localized_name(self) -> str:
        """The Chinese name for Chinese visitors, the official English name otherwise."""
        return self.name_zh if (get_language() or "en").lower().startswith("zh") and self.name_zh else self.name

    @property
    def label(self) -> str:
        return f"{self.cwe_id}: {self.localized_name}"

    def __str__(self) -> str:
        return f"{self.cwe_id}: {self.name}"


@cache
def _load() -> dict[int, CweEntry]:
    with open(DATA_FILE, encoding="utf-8") as fh:
        doc = json.load(fh)
    entries = (
        CweEntry(
            id=int(item["id"]),
            name=str(item["name"]),
            name_zh=str(item.get("name_zh", "")),
            kind=str(item.get("kind", "weakness")),
            top25_2024=item.get("top25_2024"),
        )
        for item in doc["entries"]
    )
    return {e.id: e for e in sorted(entries, key=lambda e: e.id)}


def all_entries() -> list[CweEntry]:
    """Every entry, by number."""
    return list(_load().values())


def normalise_cwe_id(value: int | str) -> int | None:
    """The number of "CWE-79", "cwe 79", "79" or 79; None when it is not a CWE identifier at all."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if not isinstance(value, str) or len(value) > 32:
        return None
    match = _ID_RE.match(value)
    if not match:
        return None
    number = int(match.group(1))
    return number if number > 0 else None


def lookup(cwe_id: int | str) -> CweEntry | None:
    """The entry for a CWE identifier in any usual spelling, or None when it is not in the list."""
    number = normalise_cwe_id(cwe_id)
    return _load().get(number) if number is not None else None


def is_known(cwe_id: int | str) -> bool:
    """True when the identifier names an entry of the list."""
    return lookup(cwe_id) is not None


def search(text: str, limit: int = 20) -> list[CweEntry]:
    """Entries matching a number ("79", "CWE-7…") or words of the English or Chinese name, best first.

    A number matches its own entry first, then entries whose number starts with it. Words match when every
    word occurs in the name (case-insensitive); Top 25 weaknesses come before others, then by number.
    """
    if not isinstance(text, str):
        return []
    query = text.strip()[:MAX_QUERY_LENGTH]
    limit = max(0, min(int(limit), MAX_LIMIT))
    if not query or not limit:
        return []
    entries = _load()
    number = normalise_cwe_id(query)
    if number is not None:
        digits = str(number)
        exact = [entries[number]] if number in entries else []
        prefixed = [e for e in entries.values() if e.id != number and str(e.id).startswith(digits)]
        return (exact + prefixed)[:limit]
    words = [w for w in re.split(r"\s+", query.casefold()) if w]

    def rank(e: CweEntry) -> tuple[int, int, int]:
        starts = 0 if e.name.casefold().startswith(words[0]) or e.name_zh.startswith(words[0]) else 1
        return (e.top25_2024 or 1000, starts, e.id)

    found = [
        e
        for e in entries.values()
        if all(w in e.name.casefold() or w in e.name_zh or w in e.cwe_id.casefold() for w in words)
    ]
    return sorted(found, key=rank)[:limit]
