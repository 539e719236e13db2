"""Which URLs of the site become files, where each file goes, and how a link in an exported page is rewritten.

A URL is *static* when it names a public page or file whose answer is the same for every anonymous visitor:
the editable pages, the advisory list (with the filters and pages an export writes), every advisory, the software
updates, feeds, security.txt, the team's key, the CSAF provider tree, CVE records and the static assets. Every
other URL is *dynamic* (report form, reporter portal, subscription, "Am I affected?", the calculators' answers,
searches, sign-in, the desk, the API) and is linked on `PSIRT_APP_URL`, where the live application answers.

A URL becomes a path under the export's folder that any web server maps back to it: `…/` becomes `…/index.html`,
and a query string, which a static server ignores, becomes a folder of its own: `/en/advisories/?line=cameras&page=2`
is written to `/en/advisories/_q/line=cameras,page=2/index.html` and every link to it is rewritten to that folder.
Only names made of a small safe alphabet are accepted, after percent-decoding (the web server decodes too), so no
advisory ID, slug or query can climb out of the folder, reach a hidden file or depend on the file system's encoding.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import override

QUERY_FOLDER = "_q"
INDEX_NAME = "index.html"

# Every page of an advisory list shows how many advisories the list holds and how many pages it has, so a new
# advisory changes every page of each list it enters: all advisories, its product lines' and the current year's.
# Those lists are exported for their first LIST_PAGES pages only (the newest advisories); a link to a later page
# goes to the live application. A year that is over no longer grows: its list is exported in full, the archive
# where every advisory can be found by its year without the application.
LIST_PAGES = 5

# Public views whose answers an export writes as files, with the query parameters each may carry (any other
# parameter makes the URL dynamic). The list keeps its pagination and the filters that make archive pages:
# product line and year; a search or a severity is a question to the live site.
STATIC_VIEWS: dict[str, frozenset[str]] = {
    "pages:home": frozenset(),
    "pages:policy": frozenset(),
    "pages:process": frozenset(),
    "pages:guidelines": frozenset(),
    "pages:acknowledgments": frozenset(),
    "pages:contact": frozenset(),
    "pages:pgp_key": frozenset(),
    "advisories:list": frozenset({"page", "line", "year"}),
    "advisories:detail": frozenset(),
    "catalog:updates": frozenset(),
    "catalog:product": frozenset(),
    "catalog:release": frozenset(),
    "advisories_feed": frozenset({"lang"}),
    "line_feed": frozenset({"lang"}),
    "security_txt": frozenset(),
    "security_team_key": frozenset(),
    "csaf_provider": frozenset(),
    "csaf_provider_file": frozenset(),
    "advisory_csaf": frozenset({"lang"}),
    "advisory_cve": frozenset(),
}

# One path segment or query word after percent-decoding: letters, digits and a few marks, never starting with a
# dot (no "..", no hidden file), never a slash, backslash, NUL or space.
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._~+@-]{0,199}$")
_QUERY_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_LINK = re.compile(r"""(?P<pre>\b(?:href|src|action)=")(?P<url>[^"]*)(?P<post>")""")
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


class UnsafeUrl(ValueError):
    """A URL that cannot be written safely as a file (path tricks, odd characters, an unexpected query)."""


@dataclass(frozen=True)
class Target:
    """A static URL: what is requested from the application, where its file goes, and the link that reaches it."""

    url: str  # path and query, as requested from the app
    file: str  # relative path under the export folder, "/"-separated
    link: str  # root-relative URL of the file on a static server


def public_prefixes() -> tuple[str, ...]:
    """Absolute addresses of this site: a link starting with one of them points into the site."""
    prefixes = {str(settings.PSIRT_BASE_URL).rstrip("/")}
    return tuple(sorted(prefixes))


def app_url() -> str:
    return str(settings.PSIRT_APP_URL).rstrip("/")


def static_prefix() -> str:
    return str(settings.STATIC_URL or "/static/")


def _segments(path: str) -> list[str]:
    if not path.startswith("/") or "\\" in path:
        raise UnsafeUrl(path)
    parts = path[1:].split("/")
    decoded = [unquote(part, errors="strict") for part in parts]
    # Every segment but an empty last one (a folder URL) must be a safe name; "." and ".." never are.
    for index, part in enumerate(decoded):
        last = index == len(decoded) - 1
        if part == "" and last:
            continue
        if index == 0 and part == ".well-known":
            continue
        if not _SEGMENT.match(part):
            raise UnsafeUrl(path)
    return decoded


def _query_folder(query: str, allowed: frozenset[str]) -> str:
    pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False)
    if not pairs:
        return ""
    for key, value in pairs:
        if key not in allowed or not _QUERY_WORD.match(value):
            raise UnsafeUrl(query)
    return ",".join(f"{key}={value}" for key, value in pairs)


def static_view(path: str) -> str | None:
    """The name of the static view `path` resolves to, or None when it is dynamic or unknown."""
    if path.startswith(static_prefix()):
        return "static"
    # Language-prefixed patterns match only the active language's prefix: resolve in the path's language.
    first = path.split("/")[1] if path.count("/") >= 2 else ""
    lang = first if first in {code for code, _name in settings.LANGUAGES} else None
    try:
        with override(lang):
            match = resolve(path)
    except Resolver404:
        return None
    name = match.view_name
    return name if name in STATIC_VIEWS else None


def list_page_exported(pairs: list[tuple[str, str]], *, year_now: int | None = None) -> bool:
    """Whether the advisory list page with these query parameters is written by an export (see LIST_PAGES)."""
    params = dict(pairs)
    page = params.get("page", "1")
    if not page.isdigit() or int(page) <= LIST_PAGES:
        return True  # the list's first pages (the application answers the first page for a malformed number)
    year = params.get("year", "")
    current = year_now if year_now is not None else timezone.localdate().year
    return year.isdigit() and int(year) < current


def target(url: str) -> Target:
    """Where the static `url` (path and query, no host) is written; UnsafeUrl when it is dynamic or unsafe."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        raise UnsafeUrl(url)
    view = static_view(parts.path)
    if view is None:
        raise UnsafeUrl(url)
    segments = _segments(parts.path)
    folder = _query_folder(parts.query, frozenset() if view == "static" else STATIC_VIEWS[view])
    if view == "advisories:list" and not list_page_exported(parse_qsl(parts.query)):
        raise UnsafeUrl(url)
    *dirs, name = segments
    if folder:
        dirs = [*dirs, QUERY_FOLDER, folder]
    file_name = name or INDEX_NAME
    file = "/".join([*dirs, file_name])
    link = "/" + "".join(f"{d}/" for d in dirs) + name
    clean = parts.path + (f"?{parts.query}" if parts.query else "")
    return Target(url=clean, file=file, link=link)


def url_of(file: str) -> str:
    """The URL (path and query) whose answer an export writes to `file`: the reverse of `target`."""
    parts = file.split("/")
    query = ""
    if QUERY_FOLDER in parts[:-1]:
        at = parts.index(QUERY_FOLDER)
        query = "?" + parts[at + 1].replace(",", "&")
        parts = parts[:at] + parts[at + 2 :]
    if parts[-1] == INDEX_NAME:
        parts[-1] = ""
    return "/" + "/".join(parts) + query


def internal(href: str, base: str) -> str | None:
    """`href` as a root-relative URL (path, query, fragment) when it points into this site, else None."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    parts = urlsplit(href)
    if parts.scheme and parts.scheme not in {"http", "https"}:
        return None  # mailto:, data:, …
    if parts.netloc:
        for prefix in public_prefixes():
            if href == prefix or href.startswith(prefix + "/"):
                return href[len(prefix) :] or "/"
        return None
    return urljoin(base, href)


def split_fragment(url: str) -> tuple[str, str]:
    head, sep, fragment = url.partition("#")
    return head, (sep + fragment)


def rewrite_html(body: str, page: Target, resolve_link: Callable[[str], str | None]) -> str:
    """The page with every link into the site rewritten: `resolve_link(url)` answers the static link of a URL or
    None (then the link goes to the live application). A form always sends its input to the live application:
    what it answers depends on what the visitor types. A relative link that still reaches its file from the
    page's own place is left as the application wrote it."""
    page_url = page.url

    def rewrite(match: re.Match[str]) -> str:
        raw = html.unescape(match.group("url"))
        if match.group("pre").startswith("action="):
            url = urljoin(page_url, raw) if raw.startswith("#") or not raw else internal(raw, page_url)
            new = None if url is None else app_url() + url
        else:
            url = internal(raw, page_url)
            if url is None:
                return match.group(0)
            head, fragment = split_fragment(url)
            local = resolve_link(head)
            relative = not urlsplit(raw).scheme and not raw.startswith("/")
            if local is not None and relative and urljoin(page.link, split_fragment(raw)[0]) == local:
                return match.group(0)
            new = (local + fragment) if local is not None else app_url() + url
        if new is None:
            return match.group(0)
        return f"{match.group('pre')}{html.escape(new, quote=True)}{match.group('post')}"

    return _LINK.sub(rewrite, body)


def links_in_html(body: str, page_url: str) -> list[str]:
    """Every root-relative URL (fragment cut) a page links to inside the site, forms excluded."""
    found = []
    for match in _LINK.finditer(body):
        if match.group("pre").startswith("action="):
            continue
        url = internal(html.unescape(match.group("url")), page_url)
        if url is not None:
            found.append(split_fragment(url)[0])
    return found


def links_in_css(body: str, css_url: str) -> list[str]:
    found = []
    for match in _CSS_URL.finditer(body):
        ref = match.group(2).strip()
        if ref.startswith("data:"):
            continue
        url = internal(ref, css_url)
        if url is not None:
            found.append(split_fragment(url)[0].partition("?")[0])
    return found
