"""The listings of the TLP folder, regenerated from the tree's own state: index.txt, changes.csv and the ROLIE feed
(one entry per line, so that a republication reads the entries back without parsing the whole feed)."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import mmap
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from psirt.advisories.csaf.provider.lines import Insert, LineFile, Piece, write_all, write_pieces
from psirt.formats.csaf import CSAF_VERSION

# One logger for the whole provider tree (the package name), so one log setting covers all its parts.
logger = logging.getLogger("psirt.advisories.csaf.provider")

# A feed entry line as `ProviderTree.entry_for` writes it (sorted keys: content.src first, updated last).
_ENTRY_HEAD = re.compile(r'^\{"content":\{"src":"([^"\\]+)","type":"application/json"\},')
_ENTRY_TAIL = re.compile(r',"updated":"([^"\\]+)"\}$')
_CHANGES_LINE = re.compile(r'^"((?:[^"]|"")*)","((?:[^"]|"")*)"$')
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


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
        changes = "".join(f"{_changes_line(e)}\n" for e in newest)
        self._write(self.tlp_dir / CHANGES_NAME, changes.encode("utf-8"), compare=not fresh)
        self._write(self.tlp_dir / FEED_NAME, self._feed(newest, publisher), compare=not fresh)

    def _feed_head(self) -> str:
        category = json.dumps([{"scheme": ROLIE_SCHEME, "term": "csaf"}], separators=(",", ":"))
        return f'{{"feed":{{"category":{category},"entry":['

    def _feed(self, newest: list[Entry], publisher: JSON) -> bytes:
        """The ROLIE feed: sorted keys, compact, one entry per line between a fixed first line and the closing
        line, so that `read_entries` can take it apart without parsing megabytes of JSON."""
        body = ",\n".join(e.line for e in newest)
        closing = self._feed_closing(newest[0].current if newest else utc_now(), publisher)
        text = f"{self._feed_head()}\n{body}{chr(10) if body else ''}{closing}"
        return text.encode("utf-8")

    def _feed_closing(self, updated: str, publisher: JSON) -> str:
        """The feed's last line: the end of the entry list and the feed's other keys (`updated`: the newest
        entry's date)."""
        tail = {
            "id": "csaf-feed-tlp-white",
            "link": [{"href": self.feed_url, "rel": "self"}],
            "title": f"{publisher.get('name', 'psirt')} CSAF feed (TLP:WHITE)",
            "updated": updated,
        }
        closing = json.dumps(tail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return f"],{closing[1:]}}}\n"

    def splice_listings(self, old: dict[str, str], new: list[Entry], *, publisher: JSON) -> bool:
        """Replace the entries of the documents at `old` (path: its current_release_date as listed) by `new`, in
        the listings on disk, without reading them whole: each line is found by bisection (the listings are
        sorted, newest first, ties by path) and the new files are the old bytes around the changed lines. Cost:
        O(log n) line reads plus one copy of each rewritten file. False, with nothing written, when a listing is
        missing, not in the shape this writer makes, or does not list an old entry where its date puts it: the
        caller then regenerates the listings whole."""
        with contextlib.ExitStack() as stack:
            feed = stack.enter_context(_mapped(self.tlp_dir / FEED_NAME))
            changes = stack.enter_context(_mapped(self.tlp_dir / CHANGES_NAME))
            index = stack.enter_context(_mapped(self.tlp_dir / INDEX_NAME))
            if feed is None or changes is None or index is None:
                return False
            try:
                plan = self._splice_plan(feed[1], changes[1], index[1], old, new, publisher)
            except ValueError:  # a line not in the shape this writer makes
                return False
            if plan is None:
                return False
            for name, source, (lines, pieces, head, closing) in zip(
                (INDEX_NAME, CHANGES_NAME, FEED_NAME), (index, changes, feed), plan, strict=True
            ):
                if lines is not None:
                    self._write_lines(name, source, lines, pieces, head=head, closing=closing)
        return True

    def _splice_plan(
        self,
        feed: mmap.mmap | bytes,
        changes: mmap.mmap | bytes,
        index: mmap.mmap | bytes,
        old: dict[str, str],
        new: list[Entry],
        publisher: JSON,
    ) -> list[_Rewrite] | None:
        """What `splice_listings` writes to index.txt, changes.csv and the feed (in that order; no LineFile: left
        as it is), or None when an old entry is not where its date puts it."""
        feed_lines = self._feed_body(feed)
        if feed_lines is None or any(len(data) and data[-1:] != b"\n" for data in (changes, index)):
            return None
        changes_lines = LineFile(changes, 0, len(changes))
        index_lines = LineFile(index, 0, len(index))
        feed_key = functools.partial(_feed_key, len(self.directory_url) + 1)
        listed: dict[str, bytes] = {}
        feed_out: set[int] = set()
        changes_out: set[int] = set()
        for path, current in old.items():
            target = _order_key(path, current)
            at = feed_lines.bisect(feed_key, target)
            line = feed_lines.line(at)[0] if at < feed_lines.end else b""
            if not line or feed_key(line) != target:
                return None
            feed_out.add(at)
            listed[path] = line
            at = changes_lines.bisect(_changes_key, target)
            if at >= changes_lines.end or _changes_key(changes_lines.line(at)[0]) != target:
                return None
            changes_out.add(at)
        new_paths = {e.path for e in new}
        index_out: set[int] = set()
        index_in: list[Insert] = []
        for path in sorted(old):
            encoded = path.encode("utf-8")
            at = index_lines.bisect(bytes, encoded)
            if at >= index_lines.end or index_lines.line(at)[0] != encoded:
                return None
            if path not in new_paths:
                index_out.add(at)
        unchanged = new_paths == set(old) and all(listed[e.path] == e.line.encode("utf-8") for e in new)
        if unchanged and feed[feed_lines.end :] == self._closing_after(
            feed_lines, feed_lines.pieces(set(), []), publisher
        ):
            return [_LEAVE, _LEAVE, _LEAVE]  # every entry as listed: nothing to write
        for path in sorted(new_paths - set(old)):
            encoded = path.encode("utf-8")
            index_in.append(Insert(index_lines.bisect(bytes, encoded), encoded, encoded))
        feed_in, changes_in = [], []
        for e in new:
            key = _order_key(e.path, e.current)
            feed_in.append(Insert(feed_lines.bisect(feed_key, key), key, e.line.encode("utf-8")))
            changes_in.append(Insert(changes_lines.bisect(_changes_key, key), key, _changes_line(e).encode("utf-8")))
        pieces = feed_lines.pieces(feed_out, feed_in)
        head = f"{self._feed_head()}\n".encode()
        return [
            (index_lines, index_lines.pieces(index_out, index_in), b"", b"") if index_out or index_in else _LEAVE,
            (changes_lines, changes_lines.pieces(changes_out, changes_in), b"", b""),
            (feed_lines, pieces, head, self._closing_after(feed_lines, pieces, publisher)),
        ]

    def _closing_after(self, lines: LineFile, pieces: list[Piece], publisher: JSON) -> bytes:
        """The feed's closing line for a body made of `pieces` (its `updated`: the date of the first entry)."""
        first = lines.first_line(pieces)
        updated = _ENTRY_TAIL.search(first.decode("utf-8")) if first is not None else None
        return self._feed_closing(updated.group(1) if updated else utc_now(), publisher).encode("utf-8")

    def _feed_body(self, data: mmap.mmap | bytes) -> LineFile | None:
        """The entry lines of a feed this writer made for this base URL (None: another shape)."""
        head = f"{self._feed_head()}\n".encode()
        if data[: len(head)] != head or data[-2:] != b"}\n":
            return None
        closing = data.rfind(b"\n", 0, len(data) - 1) + 1
        if closing < len(head) or data[closing : closing + 2] != b"],":
            return None
        if closing > len(head) and data[closing - 2 : closing - 1] == b",":
            return None
        prefix = f'{{"content":{{"src":"{self.directory_url}/'.encode()
        if closing > len(head) and data[len(head) : len(head) + len(prefix)] != prefix:
            return None
        return LineFile(data, len(head), closing, b",\n")

    def _write_lines(
        self,
        name: str,
        source: tuple[int, mmap.mmap | bytes],
        lines: LineFile,
        pieces: list[Piece],
        *,
        head: bytes = b"",
        closing: bytes = b"",
    ) -> None:
        def fill(fd: int) -> None:
            write_all(fd, head)
            write_pieces(fd, lines, pieces, source[0])
            write_all(fd, closing)

        self._replace(self.tlp_dir / name, fill)


# A listing's next version: its lines, the pieces of its new body, the bytes before and after the body.
_Rewrite = tuple[LineFile | None, list[Piece], bytes, bytes]
_LEAVE: _Rewrite = (None, [], b"", b"")


@contextlib.contextmanager
def _mapped(path: Path) -> Iterator[tuple[int, mmap.mmap | bytes] | None]:
    """A listing opened and mapped read-only (an empty file: empty bytes), or None when it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        yield None
        return
    try:
        size = os.fstat(fd).st_size
        data: mmap.mmap | bytes = mmap.mmap(fd, size, access=mmap.ACCESS_READ) if size else b""
        try:
            yield fd, data
        finally:
            if isinstance(data, mmap.mmap):
                data.close()
    finally:
        os.close(fd)


def _order_key(path: str, current: str) -> tuple[int, str]:
    """The listings' order: newest current_release_date first, ties by path."""
    moment = _parse_time(current)
    return (-((moment - _EPOCH) // _MICROSECOND), path)


def _feed_key(prefix: int, line: bytes) -> tuple[int, str]:
    """The order key of a feed entry line whose document URL has `prefix` characters before the path."""
    text = line.decode("utf-8")
    head, tail = _ENTRY_HEAD.match(text), _ENTRY_TAIL.search(text)
    if head is None or tail is None:
        raise ValueError("not a feed entry line")
    return _order_key(head.group(1)[prefix:], tail.group(1))


def _changes_key(line: bytes) -> tuple[int, str]:
    match = _CHANGES_LINE.match(line.decode("utf-8"))
    if match is None:
        raise ValueError("not a changes.csv line")
    return _order_key(match.group(1).replace('""', '"'), match.group(2).replace('""', '"'))


def _changes_line(entry: Entry) -> str:
    """A changes.csv line without its newline: every field quoted, as in the spec's example (RFC 4180 quoting: a
    quote inside is doubled)."""
    return f'"{_csv(entry.path)}","{_csv(entry.current)}"'


def _csv(value: str) -> str:
    return value.replace('"', '""')


def utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
