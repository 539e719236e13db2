"""Is version V of a package inside an affected range? Pure functions, no database.

Ranges are OSV-style event lists (`introduced`, `fixed`, `last_affected`, `limit`) plus explicit version lists,
whatever format the data came in. Versions are compared by the rules of the package's ecosystem through univers
(pypi, npm, maven, deb, rpm, golang, cargo, gem, nuget, composer, apk, …). Packages of the `generic` type — C
libraries and the kernel, whose versions follow no scheme univers can check (its GenericVersion orders 5.10.201
before 5.10.99) — are compared by `c_version_key`: runs of digits compare as numbers, runs of letters as text,
so OpenSSL 3.0.13 < 3.0.14, 1.1.1w < 1.1.1x, BusyBox 1.36.1 < 1.36.10, kernel 5.10.99 < 5.10.201. OpenSSL has
its own univers scheme and uses it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from univers.version_range import RANGE_CLASS_BY_SCHEMES
from univers.versions import InvalidVersion, OpensslVersion

# Ecosystems whose univers version class orders real-world versions; others fall back to c_version_key.
UNIVERS_SCHEMES = frozenset(
    {"pypi", "npm", "maven", "deb", "rpm", "golang", "cargo", "gem", "nuget", "composer", "apk", "hex", "conan"}
)

_TOKEN = re.compile(r"\d+|[a-z]+")
_UNKNOWN = object()


def c_version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """A sort key for C-style versions: "v5.10.201" → ((1,5,''), (1,10,''), (1,201,'')). Letters sort before
    digits at the same position (1.0.a < 1.0.1) and a longer version after its prefix (1.1.1 < 1.1.1w)."""
    parts: list[tuple[int, int, str]] = []
    for token in _TOKEN.findall(version.lower().lstrip("v")):
        parts.append((1, int(token[:30]), "") if token.isdigit() else (0, 0, token))
    return tuple(parts)


@lru_cache(maxsize=65536)
def version_key(purl_type: str, name: str, version: str) -> Any:
    """A comparable key for `version` under the package's scheme; None when the scheme refuses the string."""
    if purl_type == "generic" and name == "openssl":
        try:
            return (1, OpensslVersion(version))
        except (InvalidVersion, ValueError, TypeError):
            return (0, c_version_key(version))
    if purl_type in UNIVERS_SCHEMES:
        try:
            version_class: Any = RANGE_CLASS_BY_SCHEMES[purl_type].version_class
            return (1, version_class(version))
        except Exception:
            return None
    return (0, c_version_key(version))


def _less(a: Any, b: Any) -> bool | None:
    if a is None or b is None or a[0] != b[0]:
        return None
    try:
        return bool(a[1] < b[1])
    except TypeError:
        return None


def _event_order(purl_type: str, name: str, events: Iterable[Mapping[str, str]]) -> list[Mapping[str, str]]:
    """Events by version (OSV evaluates them sorted; data often lists them in any order)."""
    listed = [e for e in events if isinstance(e, Mapping)]

    def key(event: Mapping[str, str]) -> Any:
        value = next(iter(event.values()), "")
        return (0,) if value == "0" else (1, version_key(purl_type, name, str(value)))

    try:
        return sorted(listed, key=key)
    except TypeError:
        return listed


def in_ranges(
    purl_type: str, name: str, version: str, events: Iterable[Mapping[str, str]], versions: Iterable[str]
) -> bool:
    """Whether `version` is affected: listed explicitly, or inside an introduced…fixed (exclusive) or
    introduced…last_affected (inclusive) span of `events` ("0" introduced means from the first version).
    A version the scheme cannot read matches only when listed explicitly."""
    return AffectedRanges(purl_type, name, events, versions).contains(version)


class AffectedRanges:
    """The ranges of one affected package, prepared once (explicit versions as a set, events in version order)
    and asked for many versions: matching a record against the stored versions of its package, or a new component
    version against the stored records, prepares each package once rather than once per version."""

    __slots__ = ("name", "purl_type", "steps", "versions")

    def __init__(self, purl_type: str, name: str, events: Iterable[Mapping[str, str]], versions: Iterable[str]) -> None:
        self.purl_type = purl_type
        self.name = name
        self.versions = frozenset(versions)
        # Each event as (kind, key of its version): "start" (introduced; key None for "0", from the first
        # version), "end" (fixed or limit, exclusive), "last" (last_affected, inclusive).
        steps: list[tuple[str, Any]] = []
        for event in _event_order(purl_type, name, events):
            if "introduced" in event:
                start = str(event["introduced"])
                steps.append(("start", None if start == "0" else version_key(purl_type, name, start)))
            elif "fixed" in event or "limit" in event:
                end = str(event.get("fixed", event.get("limit", "")))
                steps.append(("end", version_key(purl_type, name, end)))
            elif "last_affected" in event:
                steps.append(("last", version_key(purl_type, name, str(event["last_affected"]))))
        self.steps = steps

    def contains(self, version: str, key: Any = _UNKNOWN) -> bool:
        """Whether `version` is affected; `key`, when the caller has it, is its `version_key`."""
        if version in self.versions:
            return True
        if key is _UNKNOWN:
            key = version_key(self.purl_type, self.name, version)
        if key is None:
            return False
        affected = False
        for kind, bound in self.steps:
            if kind == "start":
                affected = bound is None or _less(key, bound) is False
            elif affected and kind == "end":
                if _less(key, bound) is True:
                    return True
                affected = False
            elif affected and kind == "last":
                if _less(bound, key) is False:
                    return True
                affected = False
        return affected
