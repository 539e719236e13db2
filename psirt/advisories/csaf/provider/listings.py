"""The listings of the TLP folder, regenerated from the tree's own state: index.txt, changes.csv and the ROLIE feed
(one entry per line, so that a republication reads the entries back without parsing the whole feed)."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from psirt.advisories.csaf.provider.files import TreeFiles
from psirt.advisories.csaf.provider.layout import (
    CHANGES_NAME,
    CSAF_SCHEMA_URL,
    FEED_NAME,
    HASHES,
    INDEX_NAME,
    JSON,
    ROLIE_SCHEME,
    ProviderError,
    document_path,
)
from psirt.formats.csaf import CSAF_VERSION

# One logger for the whole provider tree (the package name), so one log setting covers all its parts.
logger = logging.getLogger("psirt.advisories.csaf.provider")

# A feed entry line as `ProviderTree.entry_for` writes it (sorted keys: content.src first, updated last).
_ENTRY_HEAD = re.compile(r'^\{"content":\{"src":"([^"\\]+)","type":"application/json"\},')
_ENTRY_TAIL = re.compile(r',"updated":"([^"\\]+)"\}$')


@dataclass(frozen=True)
class Entry:
    """One document as the listings see it. `path` is relative to the TLP folder (white/); `line` is its ROLIE feed
    entry, serialised once (re-encoding ten thousand entries for every republication would dominate its cost)."""

    path: str
    current: str  # /document/tracking/current_release_date, verbatim
    line: str

    @property
    def name(self) -> str:
        """The file name: csaf_filename(tracking ID), shared by a document and its translation."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def current_sort_key(self) -> datetime:
        return _parse_time(self.current)


def _parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class TreeListings(TreeFiles):
    """The listings of a provider tree: feed entries, read back or scanned, and index.txt, changes.csv and the
    ROLIE feed written from them."""

    def entry_for(self, doc: JSON, *, signed: bool) -> Entry:
        tracking = doc["document"]["tracking"]
        path = document_path(doc)
        url = self.document_url(path)
        links = [{"href": url, "rel": "self"}]
        links += [{"href": f"{url}.{algorithm}", "rel": "hash"} for algorithm, _ in HASHES]
        if signed:
            links.append({"href": f"{url}.asc", "rel": "signature"})
        item: JSON = {
            "content": {"src": url, "type": "application/json"},
            "format": {"schema": CSAF_SCHEMA_URL, "version": CSAF_VERSION},
            "id": str(tracking["id"]),
            "link": links,
            "published": str(tracking["initial_release_date"]),
            "title": str(doc["document"].get("title") or tracking["id"]),
            "updated": str(tracking["current_release_date"]),
        }
        line = json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return Entry(path=path, current=str(item["updated"]), line=line)

    def read_entries(self) -> dict[str, Entry] | None:
        """The entries of the ROLIE feed on disk, read line by line (the writer puts one entry per line and sorts
        keys, so each line starts with its URL and ends with its date), or None when there is no feed this writer
        made for this base URL: the caller then scans the documents."""
        try:
            text = (self.tlp_dir / FEED_NAME).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        lines = text.split("\n")
        if len(lines) < 3 or lines[0] != self._feed_head():
            return None
        prefix = self.directory_url + "/"
        out: dict[str, Entry] = {}
        for raw in lines[1:]:
            if raw.startswith("],"):
                return out
            line = raw[:-1] if raw.endswith(",") else raw
            head, tail = _ENTRY_HEAD.match(line), _ENTRY_TAIL.search(line)
            if head is None or tail is None or not head.group(1).startswith(prefix):
                return None
            path = head.group(1)[len(prefix) :]
            out[path] = Entry(path=path, current=tail.group(1), line=line)
        return None  # no end of the entry list: a cut file

    def scan_entries(self) -> dict[str, Entry]:
        """Entries from the documents on disk (slow: reads every document); for repairs."""
        out: dict[str, Entry] = {}
        for rel in self.document_paths():
            path = self.tlp_dir / rel
            try:
                doc = json.loads(path.read_bytes())
                entry = self.entry_for(doc, signed=path.with_name(path.name + ".asc").exists())
            except (OSError, ValueError, KeyError, TypeError, ProviderError):
                logger.warning("CSAF tree: %s is not a readable CSAF document; left out of the listings", rel)
                continue
            if entry.path != rel:
                logger.warning("CSAF tree: %s belongs at %s; left out of the listings", rel, entry.path)
                continue
            out[rel] = entry
        return out

    def write_listings(self, entries: dict[str, Entry], *, publisher: JSON, fresh: bool = False) -> None:
        ordered = sorted(entries.values(), key=lambda e: e.path)
        newest = sorted(ordered, key=lambda e: e.current_sort_key, reverse=True)  # stable: ties by path
        index = "".join(f"{e.path}\n" for e in ordered)
        self._write(self.tlp_dir / INDEX_NAME, index.encode("utf-8"), compare=not fresh)
        # Every field quoted, as in the spec's example (RFC 4180 quoting: a quote inside is doubled).
        changes = "".join(f'"{_csv(e.path)}","{_csv(e.current)}"\n' for e in newest)
        self._write(self.tlp_dir / CHANGES_NAME, changes.encode("utf-8"), compare=not fresh)
        self._write(self.tlp_dir / FEED_NAME, self._feed(newest, publisher), compare=not fresh)

    def _feed_head(self) -> str:
        category = json.dumps([{"scheme": ROLIE_SCHEME, "term": "csaf"}], separators=(",", ":"))
        return f'{{"feed":{{"category":{category},"entry":['

    def _feed(self, newest: list[Entry], publisher: JSON) -> bytes:
        """The ROLIE feed: sorted keys, compact, one entry per line between a fixed first line and the closing
        line, so that `read_entries` can take it apart without parsing megabytes of JSON."""
        tail = {
            "id": "csaf-feed-tlp-white",
            "link": [{"href": self.feed_url, "rel": "self"}],
            "title": f"{publisher.get('name', 'psirt')} CSAF feed (TLP:WHITE)",
            "updated": newest[0].current if newest else utc_now(),
        }
        closing = json.dumps(tail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        body = ",\n".join(e.line for e in newest)
        text = f"{self._feed_head()}\n{body}{chr(10) if body else ''}],{closing[1:]}}}\n"
        return text.encode("utf-8")


def _csv(value: str) -> str:
    return value.replace('"', '""')


def utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
