"""The CSAF 2.0 trusted provider (CSAF section 7): the tree served under `/.well-known/csaf/`, kept on disk under
`PSIRT_VAR_DIR/csaf/`. The tree on disk is the state: no table mirrors it.

Layout (URLs relative to `<PSIRT_BASE_URL>/.well-known/csaf/`)::

    provider-metadata.json                  requirement 7 (and 9: the well-known URL)
    openpgp/<FINGERPRINT>.asc               requirement 20: the public signing key
    white/                                  the TLP:WHITE directory (directory_url), requirement 14 listings
    white/index.txt                         requirement 12: every document path, relative to white/
    white/changes.csv                       requirement 13: "path","current_release_date", newest first
    white/csaf-feed-tlp-white.json          requirement 15: the ROLIE feed (hash and signature links per entry)
    white/<YYYY>/<file>.json                requirements 2 and 11: filename rule, year of initial_release_date
    white/<YYYY>/<file>.json.sha256/.sha512 requirement 18
    white/<YYYY>/<file>.json.asc            requirement 19: detached signature of the exact bytes
    white/<YYYY>/zh-hans/<file>.json (+…)   the zh-Hans translation: same tracking ID, so same file name, so a
                                            folder of its own (see formats.csaf.csaf_translation_url)

Choices:

* **One step, only what changed.** Publishing, revising or withdrawing an advisory calls `update_documents` with
  its rendered documents: each file is compared byte for byte with what is on disk and written only when it
  differs (a signature only when its document changed, it is missing, or it is not by the current key).
  `index.txt`, `changes.csv`, the ROLIE feed and `provider-metadata.json` are regenerated from the tree's own
  state — the entries of the ROLIE feed already on disk, or a scan of the documents when the feed is missing or
  unreadable — never from a re-render of every advisory. Writes are atomic (temporary file, then
  `os.replace`), and one file lock serialises writers, so two publications at once cannot lose an entry.
* **Withdrawn advisories stay.** CSAF 2.0 has no "withdrawn" status (2.1 adds a `csaf_withdrawn` category). As
  CSAF publishers do, the document stays at its URL, in the listings and in the feed, with a final revision
  whose summary says "Withdrawn: <reason>" (the withdrawal service adds it) and a newer current_release_date,
  so every consumer that polls changes.csv or the feed sees the withdrawal. Deleting the file would leave
  mirrors and aggregators holding the last version that still reads as valid.
* **Translations are documents.** They are listed in index.txt, changes.csv and the feed (requirement 15: all
  documents of a TLP level in one feed), with the tracking ID as entry ID like their original.
* **Without a signing key** (production with no `PSIRT_SIGNING_KEY_FILE`; `check --deploy` warns) the tree has
  hashes but no `.asc`, and provider-metadata says `csaf_provider`: claiming `csaf_trusted_provider` without
  requirement 19 would be false. Signatures appear at the next sync once a key is configured.
* **Repair.** A write that fails after the publication committed is logged; the periodic task
  `sync_csaf_provider` (psirt.lib.schedule) compares every public advisory with the tree and rewrites what is
  missing or stale, and removes what is no longer public.
* No fsync per file: an export writes tens of thousands of files; a crash mid-write leaves the previous version
  (os.replace is atomic) and the next sync completes the rest.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from psirt.formats.csaf import CSAF_VERSION, SOURCE_LANG, csaf_filename, dumps_csaf
from psirt.lib.signing import SigningKey, SigningUnavailable, signing_key

logger = logging.getLogger(__name__)

JSON = dict[str, Any]

TLP_FOLDER = "white"
TLP_LABEL = "WHITE"
METADATA_NAME = "provider-metadata.json"
KEY_FOLDER = "openpgp"
FEED_NAME = "csaf-feed-tlp-white.json"
INDEX_NAME = "index.txt"
CHANGES_NAME = "changes.csv"
LOCK_NAME = ".lock"
CSAF_SCHEMA_URL = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
ROLIE_SCHEME = "urn:ietf:params:rolie:category:information-type"
HASHES: tuple[tuple[str, Callable[[bytes], Any]], ...] = (("sha256", hashlib.sha256), ("sha512", hashlib.sha512))
COMPANIONS = (".sha256", ".sha512", ".asc")

_YEAR = re.compile(r"^[0-9]{4}$")
_LANG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
_FILE = re.compile(r"^[+\-a-z0-9_]+\.json$")
# A feed entry line as `ProviderTree.entry_for` writes it (sorted keys: content.src first, updated last).
_ENTRY_HEAD = re.compile(r'^\{"content":\{"src":"([^"\\]+)","type":"application/json"\},')
_ENTRY_TAIL = re.compile(r',"updated":"([^"\\]+)"\}$')


class ProviderError(Exception):
    """A document cannot be placed in the tree (the message says why)."""


# --- entries: what the listings say about one document -------------------------------------------------------------


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


def document_path(doc: JSON) -> str:
    """Where a document lives below white/: `<YYYY>/<file>` for an original, `<YYYY>/<lang>/<file>` for a
    translation (a document whose source_lang differs from its lang). Raises ProviderError for a document whose
    tracking data cannot name a file."""
    try:
        document = doc["document"]
        tracking = document["tracking"]
        tracking_id = str(tracking["id"])
        year = str(tracking["initial_release_date"])[:4]
    except (KeyError, TypeError) as exc:
        raise ProviderError(f"the document has no {exc} in /document/tracking") from None
    if not _YEAR.match(year):
        raise ProviderError(f"initial_release_date {tracking.get('initial_release_date')!r} has no year")
    name = csaf_filename(tracking_id)
    lang = str(document.get("lang") or "")
    source = str(document.get("source_lang") or "")
    if source and lang and source.lower() != lang.lower():
        folder = lang.lower()
        if not _LANG.match(folder) or folder == SOURCE_LANG:
            raise ProviderError(f"the translation's language {lang!r} cannot name a folder")
        return f"{year}/{folder}/{name}"
    return f"{year}/{name}"


def is_document_path(path: str) -> bool:
    """Whether `path` (relative to white/) has the shape of a document path the tree writes."""
    parts = path.split("/")
    if len(parts) == 2:
        return bool(_YEAR.match(parts[0]) and _FILE.match(parts[1]))
    if len(parts) == 3:
        return bool(_YEAR.match(parts[0]) and _LANG.match(parts[1]) and _FILE.match(parts[2]))
    return False


# --- writing --------------------------------------------------------------------------------------------------------


@dataclass
class Changes:
    """What one update did: files written and removed (paths relative to the tree root)."""

    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.written or self.removed)


def _https(url: str) -> str:
    """CSAF wants https URLs (the ROLIE links, canonical_url); a dev server on http gets its https twin, the same
    rule psirt.advisories.documents applies to the documents' own URLs."""
    return "https://" + url[len("http://") :] if url.startswith("http://") else url


class ProviderTree:
    """A provider tree rooted at `root`, published at `base_url` (the URL of the folder holding
    provider-metadata.json). `key` signs; None writes no signatures."""

    def __init__(self, root: Path, *, base_url: str, key: SigningKey | None) -> None:
        self.root = Path(root)
        self.base_url = _https(base_url.rstrip("/"))
        self.key = key
        self.changes = Changes()
        self._made: set[Path] = set()

    # URLs

    @property
    def directory_url(self) -> str:
        return f"{self.base_url}/{TLP_FOLDER}"

    @property
    def feed_url(self) -> str:
        return f"{self.directory_url}/{FEED_NAME}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/{METADATA_NAME}"

    def document_url(self, path: str) -> str:
        return f"{self.directory_url}/{path}"

    @property
    def tlp_dir(self) -> Path:
        return self.root / TLP_FOLDER

    # files

    def _write(self, path: Path, data: bytes, *, compare: bool = True) -> bool:
        """Write `data` atomically unless the file already holds exactly these bytes. True when written."""
        if compare:
            try:
                if path.stat().st_size == len(data) and path.read_bytes() == data:
                    return False
            except FileNotFoundError:
                pass
        folder = path.parent
        if folder not in self._made:
            folder.mkdir(parents=True, exist_ok=True)
            self._made.add(folder)
        tmp = folder / f".{path.name}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        self.changes.written.append(str(path.relative_to(self.root)))
        return True

    def _remove(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            self.changes.removed.append(str(path.relative_to(self.root)))

    def _signature_current(self, data: bytes, asc: Path) -> bool:
        """The .asc on disk signs `data` with the current key (a rotated key re-signs everything)."""
        if self.key is None:
            return True
        try:
            signature = asc.read_text(encoding="ascii")
        except (FileNotFoundError, UnicodeDecodeError):
            return False
        return _verifier(self.key.public_key)(data, signature)

    def put(self, doc: JSON, *, fresh: bool = False) -> Entry:
        """Place one document with its hashes and signature; rewrite only what differs. `fresh` says the tree
        was empty (export): nothing to compare with."""
        rel = document_path(doc)
        data = dumps_csaf(doc).encode("utf-8")
        target = self.tlp_dir / rel
        changed = self._write(target, data, compare=not fresh)
        name = target.name
        for algorithm, make in HASHES:
            line = f"{make(data).hexdigest()}  {name}\n".encode("ascii")
            self._write(target.with_name(f"{name}.{algorithm}"), line, compare=not fresh)
        asc = target.with_name(f"{name}.asc")
        if self.key is None:
            if changed:
                self._remove(asc)  # an old signature of other bytes would only mislead
        elif fresh or changed or not self._signature_current(data, asc):
            self._write(asc, self.key.sign_detached(data).encode("ascii"), compare=False)
        signed = self.key is not None or asc.exists()
        return self.entry_for(doc, signed=signed)

    def remove_document(self, rel: str) -> None:
        target = self.tlp_dir / rel
        for suffix in ("", *COMPANIONS):
            self._remove(target.with_name(target.name + suffix))
        with contextlib.suppress(OSError):
            target.parent.rmdir()  # only when empty

    # listings

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

    def document_paths(self) -> Iterator[str]:
        """Every document path (relative to white/) present on disk."""
        if not self.tlp_dir.is_dir():
            return
        for year in sorted(os.scandir(self.tlp_dir), key=lambda e: e.name):
            if not (year.is_dir(follow_symlinks=False) and _YEAR.match(year.name)):
                continue
            for item in sorted(os.scandir(year.path), key=lambda e: e.name):
                if item.is_file(follow_symlinks=False) and _FILE.match(item.name):
                    yield f"{year.name}/{item.name}"
                elif item.is_dir(follow_symlinks=False) and _LANG.match(item.name):
                    for sub in sorted(os.scandir(item.path), key=lambda e: e.name):
                        if sub.is_file(follow_symlinks=False) and _FILE.match(sub.name):
                            yield f"{year.name}/{item.name}/{sub.name}"

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
            "updated": newest[0].current if newest else _now(),
        }
        closing = json.dumps(tail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        body = ",\n".join(e.line for e in newest)
        text = f"{self._feed_head()}\n{body}{chr(10) if body else ''}],{closing[1:]}}}\n"
        return text.encode("utf-8")

    def write_key(self) -> None:
        if self.key is not None:
            self._write(self.root / KEY_FOLDER / f"{self.key.fingerprint}.asc", self.key.public_key.encode("ascii"))

    def metadata(self, publisher: JSON, last_updated: str) -> JSON:
        out: JSON = {
            "canonical_url": self.metadata_url,
            "distributions": [
                {
                    "directory_url": self.directory_url,
                    "rolie": {
                        "feeds": [
                            {
                                "summary": f"All TLP:WHITE advisories of {publisher.get('name', 'psirt')}.",
                                "tlp_label": TLP_LABEL,
                                "url": self.feed_url,
                            }
                        ]
                    },
                }
            ],
            "last_updated": last_updated,
            "list_on_CSAF_aggregators": True,
            "metadata_version": "2.0",
            "mirror_on_CSAF_aggregators": True,
            "publisher": publisher,
            "role": "csaf_trusted_provider" if self.key is not None else "csaf_provider",
        }
        if self.key is not None:
            out["public_openpgp_keys"] = [
                {"fingerprint": self.key.fingerprint, "url": f"{self.base_url}/{KEY_FOLDER}/{self.key.fingerprint}.asc"}
            ]
        return out

    def write_metadata(self, publisher: JSON) -> None:
        """provider-metadata.json; last_updated moves only when something else in it changed."""
        path = self.root / METADATA_NAME
        with contextlib.suppress(OSError, ValueError):
            old = json.loads(path.read_bytes())
            if old == self.metadata(publisher, old.get("last_updated", "")):
                return
        self._write(path, _dumps(self.metadata(publisher, _now())), compare=False)

    def key_changed(self) -> bool:
        """The tree was written without this key (another key, or none): every document needs its signature."""
        if self.key is None or not (self.root / METADATA_NAME).exists():
            return False
        return self.metadata_fingerprint() != self.key.fingerprint

    def metadata_fingerprint(self) -> str | None:
        """The key fingerprint provider-metadata.json names now (None: no file or no key)."""
        try:
            keys = json.loads((self.root / METADATA_NAME).read_bytes()).get("public_openpgp_keys") or []
            return str(keys[0]["fingerprint"]).upper() if keys else None
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None


def _csv(value: str) -> str:
    return value.replace('"', '""')


def _dumps(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


_verifiers: dict[str, Callable[[bytes, str], bool]] = {}


def _verifier(public_key: str) -> Callable[[bytes, str], bool]:
    """A detached-signature check against one key, the certificate parsed once (a sync checks thousands)."""
    if public_key not in _verifiers:
        import pysequoia

        cert = pysequoia.Cert.from_bytes(public_key.encode("ascii"))

        def check(data: bytes, signature: str) -> bool:
            try:
                sig = pysequoia.Sig.from_bytes(signature.encode("ascii"))
                return bool(pysequoia.verify(bytes=data, store=lambda _ids: [cert], signature=sig).valid_sigs)
            except Exception:
                return False

        _verifiers.clear()
        _verifiers[public_key] = check
    return _verifiers[public_key]


# --- the site's tree ------------------------------------------------------------------------------------------------


def provider_root() -> Path:
    return Path(settings.PSIRT_VAR_DIR) / "csaf"


def base_url() -> str:
    from psirt.advisories.documents import document_base_url

    return document_base_url()


def current_key() -> SigningKey | None:
    try:
        return signing_key()
    except SigningUnavailable as exc:
        logger.warning("CSAF tree written without signatures: %s", exc)
        return None


def publisher_json() -> JSON:
    """The publisher object of the documents (psirt.advisories.documents.publisher), for provider-metadata.json:
    requirement 7 asks that the two match."""
    from psirt.advisories.documents import publisher

    p = publisher()
    out: JSON = {"category": "vendor", "name": p.name, "namespace": p.namespace}
    if p.contact_details:
        out["contact_details"] = p.contact_details
    if p.issuing_authority:
        out["issuing_authority"] = p.issuing_authority
    return out


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One writer at a time per tree, across processes (web workers, task workers, the export command)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_NAME, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def open_tree(root: Path | None = None) -> ProviderTree:
    return ProviderTree(root or provider_root(), base_url=base_url(), key=current_key())


def update_documents(docs: Sequence[JSON], *, root: Path | None = None, publisher: JSON | None = None) -> Changes:
    """Put `docs` (an advisory's English document and translation) into the tree and regenerate the listings from
    the tree's state. Rewrites only files whose bytes change. A changed signing key re-signs the whole tree."""
    tree = open_tree(root)
    with _locked(tree.root):
        if tree.key_changed():
            logger.info("CSAF tree: the signing key changed; re-signing every document")
            entries = tree.scan_entries()
            for rel in entries:
                _resign(tree, rel)
            entries = tree.scan_entries()
        else:
            listed = tree.read_entries()
            entries = listed if listed is not None else tree.scan_entries()
        paths = {document_path(doc) for doc in docs}
        names = {path.rsplit("/", 1)[-1] for path in paths}
        for rel, entry in list(entries.items()):
            if entry.name in names and rel not in paths:  # e.g. a translation the revision dropped
                tree.remove_document(rel)
                del entries[rel]
        for doc in docs:
            entry = tree.put(doc)
            entries[entry.path] = entry
        publisher = publisher or publisher_json()
        tree.write_key()
        tree.write_listings(entries, publisher=publisher)
        tree.write_metadata(publisher)
    return tree.changes


def _resign(tree: ProviderTree, rel: str) -> None:
    path = tree.tlp_dir / rel
    data = path.read_bytes()
    asc = path.with_name(path.name + ".asc")
    if tree.key is not None and not tree._signature_current(data, asc):
        tree._write(asc, tree.key.sign_detached(data).encode("ascii"), compare=False)


@dataclass
class ExportSummary:
    root: Path
    documents: int
    translations: int
    signed: bool
    fingerprint: str
    files: int


def export_tree(
    root: Path,
    docs: Iterable[JSON],
    *,
    base: str | None = None,
    key: SigningKey | None = None,
    publisher: JSON | None = None,
) -> ExportSummary:
    """Write a whole tree from scratch into `root` (an empty folder): the same writer as the live tree, without
    the comparisons a fresh folder does not need."""
    tree = ProviderTree(root, base_url=base or base_url(), key=key)
    entries: dict[str, Entry] = {}
    translations = 0
    with _locked(tree.root):
        for doc in docs:
            entry = tree.put(doc, fresh=True)
            if entry.path in entries:
                raise ProviderError(f"two documents want {entry.path}: their tracking IDs differ only in case or signs")
            entries[entry.path] = entry
            translations += entry.path.count("/") == 2
        publisher = publisher or publisher_json()
        tree.write_key()
        tree.write_listings(entries, publisher=publisher, fresh=True)
        tree.write_metadata(publisher)
    return ExportSummary(
        root=tree.root,
        documents=len(entries) - translations,
        translations=translations,
        signed=key is not None,
        fingerprint=key.fingerprint if key else "",
        files=len(tree.changes.written),
    )


# --- advisories -----------------------------------------------------------------------------------------------------


def advisory_documents(advisory: Any) -> list[JSON]:
    """The documents the tree holds for a public advisory: English, then the translation when there is one."""
    from psirt.advisories.documents import csaf_documents

    english, translation = csaf_documents(advisory)
    return [english] if translation is None else [english, translation]


@dataclass
class SyncSummary:
    checked: int = 0
    rendered: int = 0
    failed: list[str] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)


def sync_provider(*, full: bool = False, root: Path | None = None) -> SyncSummary:
    """Bring the tree in line with the public advisories: render what is missing or stale, remove what is no longer
    public, regenerate the listings. The quick check (default) renders only advisories whose tree entry is missing
    or has another current_release_date; `full` renders every one and compares bytes (catches edits that change a
    document without a revision, e.g. the organisation's name)."""
    from django.db.models import Max

    from psirt.advisories.documents import DocumentError, advisory_queryset

    summary = SyncSummary()
    tree = open_tree(root)
    with _locked(tree.root):
        listed = None if full else tree.read_entries()
        on_disk = listed if listed is not None else tree.scan_entries()
        present = set(tree.document_paths())
        by_name: dict[str, list[Entry]] = {}
        for entry in on_disk.values():
            by_name.setdefault(entry.name, []).append(entry)
        key_changed = tree.key_changed()
        rows = advisory_queryset().annotate(last_revision=Max("revisions__date"))
        expected: set[str] = set()
        entries: dict[str, Entry] = {}
        for advisory in rows:
            summary.checked += 1
            known = by_name.get(csaf_filename(advisory.advisory_id), [])
            if not full and not key_changed and _looks_current(tree, advisory, known, present):
                for entry in known:
                    expected.add(entry.path)
                    entries[entry.path] = entry
                continue
            try:
                docs = advisory_documents(advisory)
            except DocumentError as exc:
                # By design without a document (e.g. an imported VEX saying "not affected" for every release):
                # nothing to list, nothing to repair, no alarm on every run.
                logger.debug("CSAF tree: %s has no document: %s", advisory.advisory_id, exc)
                continue
            except Exception:
                logger.exception("CSAF tree: %s cannot be rendered; left as it is", advisory.advisory_id)
                summary.failed.append(advisory.advisory_id)
                for entry in known:  # keep what is there rather than drop a published advisory
                    expected.add(entry.path)
                    entries[entry.path] = entry
                continue
            summary.rendered += 1
            for doc in docs:
                entry = tree.put(doc)
                expected.add(entry.path)
                entries[entry.path] = entry
        for rel in sorted(present - expected):
            logger.info("CSAF tree: removing %s (no public advisory has it)", rel)
            tree.remove_document(rel)
        publisher = publisher_json()
        tree.write_key()
        tree.write_listings(entries, publisher=publisher)
        tree.write_metadata(publisher)
    summary.changes = tree.changes
    return summary


def _looks_current(tree: ProviderTree, advisory: Any, known: list[Entry], present: set[str]) -> bool:
    """Cheap check without rendering: the tree has this advisory's documents (and translation when it has Chinese
    text) with the current_release_date its revisions give, and all companion files."""
    from psirt.formats._text import rfc3339

    if not known or advisory.published_at is None:
        return False
    last = advisory.last_revision or advisory.published_at
    current = rfc3339(max(last, advisory.published_at))
    wants_translation = bool(advisory.title_zh.strip())
    if len(known) != (2 if wants_translation else 1):
        return False
    for entry in known:
        if entry.current != current or entry.path not in present:
            return False
        target = tree.tlp_dir / entry.path
        suffixes = (".sha256", ".sha512", ".asc") if tree.key is not None else (".sha256", ".sha512")
        if not all(target.with_name(target.name + s).exists() for s in suffixes):
            return False
    return True


def find_document(tracking_id: str, *, translation: bool = False, root: Path | None = None) -> str | None:
    """The path (relative to white/) of a tracking ID's document in the tree, or None. Looks in each year folder:
    a handful of stat calls, no listing read."""
    base = (root or provider_root()) / TLP_FOLDER
    name = csaf_filename(tracking_id)
    try:
        years = sorted((e.name for e in os.scandir(base) if _YEAR.match(e.name)), reverse=True)
    except FileNotFoundError:
        return None
    for year in years:
        rel = f"{year}/zh-hans/{name}" if translation else f"{year}/{name}"
        if (base / rel).is_file():
            return rel
    return None
