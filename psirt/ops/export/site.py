"""The export itself: every public page rendered by the application, as an anonymous visitor, through its own URL
map and middleware (Django's test client, no network), and written as files with their links rewritten.

One source: a page's bytes are the application's bytes for the same URL, with only the links changed
(`psirt.ops.export.links`). Files that are not HTML (feeds, security.txt, CSAF documents, hashes, signatures, CVE
records, stylesheets) are written byte for byte, so every hash and signature still matches.

A full export starts from the home page in both languages and the pages no link reaches (list filters, feeds,
the CSAF tree, security.txt) and follows every link into the site. An incremental export
(`changed_since`) starts from the pages that show an advisory changed since then and follows links only to pages
not yet on disk (see `psirt.ops.export.changes`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http.request import validate_host
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from psirt.ops.export import changes, files, links
from psirt.pages import generation

logger = logging.getLogger(__name__)

MAX_FILES = 2_000_000  # a guard against a link loop the URL rules did not foresee
ROOT_PAGE = (
    b'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Security Response Center</title>\n'
    b'<meta http-equiv="refresh" content="0; url=/en/"><link rel="alternate" hreflang="zh-Hans" href="/zh-hans/">'
    b'</head>\n<body><p><a href="/en/">English</a> \xc2\xb7 <a href="/zh-hans/" lang="zh-Hans">'
    b"\xe7\xae\x80\xe4\xbd\x93\xe4\xb8\xad\xe6\x96\x87</a></p></body></html>\n"
)


def request_host(public: str) -> str:
    """The Host the export's requests carry: the public address's when the site accepts it, else the first host it
    accepts. Pages build their links from PSIRT_BASE_URL, never from the Host header, so the bytes are the same."""
    if validate_host(public.partition(":")[0] if not public.startswith("[") else public, settings.ALLOWED_HOSTS):
        return public
    concrete = [h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")]
    return concrete[0] if concrete else public


@dataclass
class Fetched:
    status: int
    content_type: str
    body: bytes
    location: str = ""


@dataclass
class ExportSummary:
    root: Path
    pages: int = 0  # files rendered or copied in this run
    written: int = 0  # of which new or changed on disk
    removed: int = 0
    seconds: float = 0.0
    incremental: bool = False
    failed: list[str] = field(default_factory=list)
    written_files: list[str] = field(default_factory=list)


class SiteExporter:
    """One export run into `root`. `known` holds the files already on disk that an incremental run trusts."""

    def __init__(self, root: Path, *, known: set[str] | None = None) -> None:
        self.root = root
        self.known = known or set()
        base = urlsplit(str(settings.PSIRT_BASE_URL))
        self.https = base.scheme == "https"
        self.client = Client(HTTP_HOST=request_host(base.netloc), raise_request_exception=False)
        self.results: dict[str, str | None] = {}  # URL -> its static link, or None (dynamic, missing, failed)
        # Fetched pages wait here, first in first out: a list page's advisories are written before the next list
        # page is, so only about one page's worth of answers is held in memory at a time.
        self.pending: deque[tuple[links.Target, Fetched]] = deque()
        self.summary = ExportSummary(root=root, incremental=bool(known))
        self.written: set[str] = set()

    # -- fetching -------------------------------------------------------------------------------------------

    def fetch(self, url: str) -> Fetched:
        """The application's answer to an anonymous GET of `url` (path and query)."""
        if url.startswith(links.static_prefix()):
            return self._asset(url)
        self.client.cookies.clear()  # every request is a new anonymous visitor
        response = self.client.get(url, secure=self.https)
        body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
        return Fetched(response.status_code, response.get("Content-Type", ""), body, response.get("Location", ""))

    def _asset(self, url: str) -> Fetched:
        # The bytes whitenoise serves: the collected (hashed) file, or in development the file the finders find.
        name = urlsplit(url).path[len(links.static_prefix()) :]
        try:
            path = staticfiles_storage.path(name)
        except NotImplementedError:  # pragma: no cover - a remote storage
            path = ""
        candidate = Path(path) if path else None
        if candidate is None or not candidate.is_file():
            found = finders.find(name)
            candidate = Path(found) if isinstance(found, str) else None
        if candidate is None or not candidate.is_file():
            return Fetched(404, "", b"")
        content_type = "text/css" if name.endswith(".css") else ""
        return Fetched(200, content_type, candidate.read_bytes())

    # -- the crawl --------------------------------------------------------------------------------------------

    def link_for(self, url: str) -> str | None:
        """The static link of `url`, fetching it when it is neither done in this run nor trusted on disk; None
        sends the link to the live application."""
        if url in self.results:
            return self.results[url]
        try:
            target = links.target(url)
        except (links.UnsafeUrl, UnicodeDecodeError):
            self.results[url] = None
            return None
        if target.file in self.known and target.file not in self.written:
            self.results[url] = target.link
            return target.link
        return self._visit(target)

    def _visit(self, target: links.Target, redirects: int = 0) -> str | None:
        self.results[target.url] = target.link  # before fetching: a page linking to itself is fine
        try:
            fetched = self.fetch(target.url)
        except Exception as exc:  # one broken page must not stop the export of the others
            logger.exception("export: %s failed", target.url)
            self.summary.failed.append(f"{target.url}: {type(exc).__name__}")
            self.results[target.url] = None
            return None
        if fetched.status in (301, 302, 307, 308) and fetched.location and redirects < 5:
            # A static server cannot redirect: links to this URL go straight to where it leads.
            new = links.internal(fetched.location, target.url)
            link = self.link_for(links.split_fragment(new)[0]) if new is not None else None
            self.results[target.url] = link
            return link
        if fetched.status != 200:
            if fetched.status != 404:
                self.summary.failed.append(f"{target.url}: HTTP {fetched.status}")
            self.results[target.url] = None
            return None
        self.pending.append((target, fetched))
        return target.link

    def run(self, seeds: Iterable[str]) -> None:
        for url in seeds:
            self.link_for(url)
            self._drain()

    def refresh(self, urls: Iterable[str]) -> None:
        """Render `urls` again even when their files exist (the pages that show what changed)."""
        for url in urls:
            try:
                target = links.target(url)
            except (links.UnsafeUrl, UnicodeDecodeError):
                continue
            if target.url in self.results and target.file in self.written:
                continue
            self._visit(target)
            self._drain()

    def _drain(self) -> None:
        while self.pending:
            if len(self.written) > MAX_FILES:
                raise files.ExportRefused(f"more than {MAX_FILES} files: the export stopped (a link loop?).")
            target, fetched = self.pending.popleft()
            self._write(target, fetched)

    def _write(self, target: links.Target, fetched: Fetched) -> None:
        body = fetched.body
        kind = fetched.content_type.split(";")[0].strip()
        if kind == "text/html":
            text = body.decode("utf-8")
            for url in links.links_in_html(text, target.url):
                self.link_for(url)
            body = links.rewrite_html(text, target, self.link_for).encode("utf-8")
        elif kind == "text/css" or target.file.endswith(".css"):
            for url in links.links_in_css(body.decode("utf-8", "replace"), target.url):
                self.link_for(url)
        self.summary.pages += 1
        self.written.add(target.file)
        if files.write_atomic(self.root, target.file, body):
            self.summary.written += 1
            self.summary.written_files.append(target.file)


def full_seeds() -> list[str]:
    """Where a full export starts: both home pages and what no page links to."""
    return changes.entry_urls()


def export_site(*, root: Path, force: bool = False, changed_since: dt.datetime | None = None) -> ExportSummary:
    """Write the public site into `root` (see the module docstring). With `changed_since`, rewrite only the
    pages that show an advisory changed since then, plus any page they link to that is not on disk yet."""
    began = time.monotonic()
    started_at = timezone.now()
    incremental = changed_since is not None
    manifest = files.check_root(root, force=force, incremental=incremental)
    with files.locked(root), override_settings(PSIRT_PUBLIC_PAGE_CACHE=0):
        token = generation.current()[1]
        gone: set[str] = set()
        if incremental:
            assert manifest is not None and changed_since is not None
            gone = changes.files_of_removed(since=changed_since, on_disk=manifest.files)
            exporter = SiteExporter(root, known=set(manifest.files) - gone)
            urls = changes.urls_showing_changes(since=changed_since, on_disk=manifest.files, root=root)
            # The CSAF folder listings that named a document the tree no longer holds.
            tree = reverse("csaf_provider").lstrip("/")
            folders = {name.rpartition("/")[0] for name in gone if name.startswith(tree)}
            urls += sorted(links.url_of(f"{folder}/{links.INDEX_NAME}") for folder in folders)
            exporter.refresh(urls)
        else:
            exporter = SiteExporter(root)
            exporter.run(full_seeds())
        summary = exporter.summary
        if files.write_atomic(root, links.INDEX_NAME, ROOT_PAGE):
            summary.written += 1
        exporter.written.add(links.INDEX_NAME)
        done = set(exporter.written)
        if incremental:
            assert manifest is not None
            summary.removed = files.remove_stale(root, gone - done)
            done |= manifest.files - gone
        elif manifest is not None:
            summary.removed = files.remove_stale(root, manifest.files - done)
        new_manifest = files.Manifest(exported_at=started_at, generation=token, files=done)
        files.write_atomic(root, files.MANIFEST_NAME, new_manifest.dumps())
    summary.seconds = time.monotonic() - began
    return summary


def keep_current(*, root: Path) -> ExportSummary:
    """Bring the export in `root` up to date (the worker's task): a full export into an empty folder, or when the
    site itself changed since the last export (catalog, profile, editable pages: the site generation moved),
    else an incremental export of the advisories changed since the last one started."""
    manifest = files.read_manifest(root) if root.is_dir() else None
    if manifest is None or manifest.exported_at is None:
        return export_site(root=root)
    if manifest.generation != generation.current()[1]:
        return export_site(root=root, force=True)
    if timezone.localtime(manifest.exported_at).year != timezone.localdate().year:
        # A year ended: its list is now exported in full (psirt.ops.export.links.LIST_PAGES).
        return export_site(root=root, force=True)
    return export_site(root=root, changed_since=manifest.exported_at)
