"""A cache of rendered public advisory pages for anonymous visitors (on by default: `PSIRT_PUBLIC_PAGE_CACHE`
seconds, 0 switches it off).

Rendering the list or an advisory costs tens of milliseconds; a hit costs about what a trivial view costs: the
version probe (one plain-SQL statement of indexed lookups, asked on every request) and a dictionary lookup. A
stored page is used only while the version it was rendered under is still the current one, so every change shows
on the very next request, in every process:
- the advisory stamp (the newest change of the public advisories, or of the advisory itself) moves with
  publishing, revising and withdrawing;
- the site generation (`psirt.pages.generation`, a scalar subquery of the same statement) moves, in the same
  transaction, with every change of the catalog (product lines, products, firmware releases), the organization
  profile and the editable pages;
- an advisory page also carries the state of the CSAF provider tree (its links), written after publication.
`PSIRT_PUBLIC_PAGE_CACHE` remains an upper bound on the age of a stored page, for whatever none of these cover
(a raw SQL edit, the year in the footer).

Two levels: this process's memory, then a directory of files under the var dir shared by every worker
process, so a page is rendered once per change, not once per worker. When a change makes a much-visited page stale,
the requests that find it so at the same moment, in every process, do not all render it: the first takes the page's
render lock (a lock file in the same directory), the others wait for it and serve what it stored — one render per
page and change, not a stampede. A wait is bounded (`LOCK_WAIT`): past it, a request renders on its own.

A hit is answered early (`PageCacheMiddleware`, right after the security-header middlewares): the stored page
carries the headers the rest of the middleware stack gave it (Vary, Content-Language, X-Frame-Options, ETag,
Last-Modified, …), and its freshness check — the same function of the request the view asked for its version, kept
with the entry — is the only work: no session, no URL resolution, no template, no ORM. Whatever the early answer
cannot settle goes the whole way to the view, which still serves the stored body: a conditional request (the view
answers 304), a page not stored yet or stored under another version, a page holding a CSRF token, a CSRF cookie
that Django would replace (malformed).

Nothing personal is ever stored or served: only GET requests without a session or pending messages, from
visitors who are not signed in, and only plain 200/404 answers that set no cookie. A CSRF token, should a
page ever carry one, is cut out of the stored page and the requesting visitor's own is put back (by the view:
such a page is never answered early), and the answer carries no validators (ETag, Last-Modified): a 304 would
keep a copy whose token may belong to a secret the visitor no longer holds. A page without a token is the same
bytes for every visitor whatever CSRF cookie they hold, so its validators and its early answer are shared by all
of them. The key holds the language (taken from the URL's language prefix, the one LocaleMiddleware activates)
and the full path, so a page is never served in another language.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.cache.backends.filebased import FileBasedCache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CSRF_SECRET_LENGTH, CSRF_TOKEN_LENGTH, get_token
from django.utils.translation import get_language, get_language_from_path

from psirt.lib.paths import folder_lock

MAX_MEMORY_BYTES = 32 * 1024 * 1024  # per process
MAX_SHARED_ENTRIES = 4000  # files; a third are dropped when full (Django’s file cache culling)
MAX_PATH_CHARS = 2000  # longer URLs are rendered every time rather than risk two sharing a key
LOCK_WAIT = 5.0  # seconds a request waits for another one rendering the same page
_LOCK_POLL = 0.002
_TOKEN = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')
_SLOT = b"\x00csrf\x00"


#: A page's freshness check: its current version from the request alone (before the session, the user and the
#: language are set up). Kept with the stored page, in the shared store too, so it must pickle: a module-level
#: function or a functools.partial of one.
Check = Callable[[HttpRequest], "str | None"]


@dataclasses.dataclass(frozen=True)
class _Entry:
    stamp: str
    at: float  # wall clock: entries are shared between processes
    status: int
    content_type: str
    body: bytes
    check: Check | None = None
    # The headers of the answer as it left the middlewares below PageCacheMiddleware; None until the first answer
    # of this version came back through it (only then can a hit be answered early). They hold the page's
    # validators, which the views give per clock hour: kept for the hour they were recorded in.
    headers: tuple[tuple[str, str], ...] | None = None
    headers_hour: int = -1


_entries: OrderedDict[str, _Entry] = OrderedDict()
_size = 0
_lock = threading.Lock()
_shared_store: FileBasedCache | None = None


def seconds() -> float:
    return float(getattr(settings, "PSIRT_PUBLIC_PAGE_CACHE", 0) or 0)


def _folder() -> Path:
    return Path(settings.PSIRT_VAR_DIR) / "cache" / "public-pages"


def _shared() -> FileBasedCache:
    global _shared_store
    if _shared_store is None:
        _shared_store = FileBasedCache(
            str(_folder()),
            {"TIMEOUT": None, "OPTIONS": {"MAX_ENTRIES": MAX_SHARED_ENTRIES}},
        )
    return _shared_store


def clear() -> None:
    """Forget every stored page, in this process and in the shared directory."""
    global _size
    with _lock:
        _entries.clear()
        _size = 0
    _shared().clear()


def _anonymous_get(request: HttpRequest) -> bool:
    # Signed-in people see a different footer; a session or pending messages make a page personal. Without a
    # session cookie nobody is signed in: that much is known before the session and user middlewares ran.
    cookies = request.COOKIES
    return (
        request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
        and "HTTP_AUTHORIZATION" not in request.META
        and len(request.get_full_path()) <= MAX_PATH_CHARS
    )


def _cacheable(request: HttpRequest) -> bool:
    return _anonymous_get(request) and not request.user.is_authenticated


def _key(language: str | None, request: HttpRequest) -> str:
    return f"{language}|{request.get_full_path()}"


def _shared_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _remember(key: str, entry: _Entry) -> None:
    global _size
    with _lock:
        old = _entries.pop(key, None)
        if old is not None:
            _size -= len(old.body)
        _entries[key] = entry
        _size += len(entry.body)
        while _size > MAX_MEMORY_BYTES and _entries:
            _key, dropped = _entries.popitem(last=False)
            _size -= len(dropped.body)


def _recall(key: str) -> _Entry | None:
    with _lock:
        entry = _entries.get(key)
        if entry is not None:
            _entries.move_to_end(key)
    return entry


def _fresh(entry: _Entry | None, stamp: str, now: float, ttl: float) -> bool:
    return entry is not None and entry.stamp == stamp and 0 <= now - entry.at < ttl


def _render_lock(shared_key: str) -> contextlib.AbstractContextManager[bool]:
    """Hold the render lock of the page `shared_key` (a flock, so it also works between threads and across worker
    processes); yields False when it could not be had within LOCK_WAIT seconds (or not at all) — the caller then
    renders without it. 256 lock files: two pages share one only when their keys' hashes share the first byte."""
    return folder_lock(_folder() / "locks", f"{shared_key[:2]}.lock", wait=LOCK_WAIT, poll=_LOCK_POLL)


def _storable(response: HttpResponse) -> bool:
    return response.status_code in (200, 404) and not response.streaming and not response.cookies


def _store(
    key: str, shared_key: str, version: str, now: float, ttl: float, response: HttpResponse, check: Check | None
) -> _Entry | None:
    if not _storable(response):
        return None
    body = _TOKEN.sub(rb"\1" + _SLOT + rb"\2", response.content)
    entry = _Entry(version, now, response.status_code, response["Content-Type"], body, check)
    _remember(key, entry)
    _shared().set(shared_key, entry, timeout=ttl)
    return entry


@dataclasses.dataclass(frozen=True)
class _Served:
    """Left on the request by `cached_page` for PageCacheMiddleware: which stored page the answer came from."""

    key: str
    shared_key: str
    entry: _Entry


def cached_page(
    request: HttpRequest, version: str | None, render: Callable[[], HttpResponse], *, check: Check | None = None
) -> HttpResponse:
    """The stored page when it was rendered under the same `version` (everything the page shows that can change:
    see the module docstring) and is younger than the TTL, else `render()` — stored for the next visitor when it
    is a plain 200 or 404 page. With `check` (the function of the request that gave `version`), a later hit is
    answered by PageCacheMiddleware before the rest of the stack runs."""
    ttl = seconds()
    if ttl <= 0 or not _cacheable(request):
        response = render()
        if not response.streaming and _TOKEN.search(response.content):
            request._psirt_page_token = True  # type: ignore[attr-defined]
        return response
    key = _key(get_language(), request)
    version = version or "-"
    now = time.time()
    entry = _recall(key)
    shared_key = _shared_key(key)
    if not _fresh(entry, version, now, ttl):
        entry = _shared().get(shared_key)
        if not _fresh(entry, version, now, ttl):
            with _render_lock(shared_key):
                # Whoever held the lock may have stored this very version meanwhile.
                entry = _shared().get(shared_key)
                if not _fresh(entry, version, time.time(), ttl):
                    response = render()
                    stored = _store(key, shared_key, version, now, ttl, response, check)
                    if stored is not None:
                        request._psirt_page_served = _Served(key, shared_key, stored)  # type: ignore[attr-defined]
                    if not response.streaming and _TOKEN.search(response.content):
                        request._psirt_page_token = True  # type: ignore[attr-defined]
                    return response
        assert entry is not None
        _remember(key, entry)
    assert entry is not None
    request._psirt_page_served = _Served(key, shared_key, entry)  # type: ignore[attr-defined]
    body = entry.body
    if _SLOT in body:
        body = body.replace(_SLOT, get_token(request).encode())
        request._psirt_page_token = True  # type: ignore[attr-defined]
    return HttpResponse(body, status=entry.status, content_type=entry.content_type)


def _answer_early(request: HttpRequest) -> HttpResponse | None:
    """The stored page, with its stored headers, when its own check says it is still current; None otherwise."""
    ttl = seconds()
    if ttl <= 0 or not _headers_shareable(request) or not _anonymous_get(request):
        return None
    language = get_language_from_path(request.path_info)
    if language is None:
        return None
    request.get_host()  # a Host outside ALLOWED_HOSTS is refused (400) here too, as CommonMiddleware would
    key = _key(language, request)
    now = time.time()
    entry = _recall(key)
    if entry is None or entry.headers is None or not 0 <= now - entry.at < ttl:
        entry = _shared().get(_shared_key(key))
        if entry is None or entry.headers is None:
            return None
        _remember(key, entry)
    if entry.check is None or entry.headers is None or entry.headers_hour != _hour(now):
        return None
    if not _fresh(entry, entry.check(request) or "-", now, ttl):
        return None
    response = HttpResponse(entry.body, status=entry.status)
    for name, value in entry.headers:
        response.headers[name] = value
    return response


def _hour(now: float) -> int:
    return int(now // 3600)


def _headers_shareable(request: HttpRequest) -> bool:
    """Whether the stored headers are the ones the view would give this request: not for a conditional request
    (the view answers 304), nor with a CSRF cookie Django's CSRF middleware would replace with a new one (a
    Set-Cookie the stored headers lack). A well-formed CSRF cookie changes nothing: a page with a token is never
    answered early, and one without is the same for every visitor."""
    meta = request.META
    if "HTTP_IF_NONE_MATCH" in meta or "HTTP_IF_MODIFIED_SINCE" in meta:
        return False
    csrf_cookie = request.COOKIES.get(settings.CSRF_COOKIE_NAME)
    return csrf_cookie is None or _well_formed_csrf_cookie(csrf_cookie)


def _well_formed_csrf_cookie(value: str) -> bool:
    # What Django's CSRF middleware keeps as it is: a secret (32) or a masked secret (64) of ASCII letters and
    # digits. Anything else it replaces on its way out.
    return len(value) in (CSRF_SECRET_LENGTH, CSRF_TOKEN_LENGTH) and value.isascii() and value.isalnum()


def _complete(request: HttpRequest, response: HttpResponse) -> None:
    """Keep the headers of an answer that came from (or went into) the store, so the next hit can be answered
    early; only for a page whose language is the one its URL names, and without a CSRF token to put back."""
    served: _Served | None = request.__dict__.get("_psirt_page_served")
    now = time.time()
    if served is None or served.entry.check is None or served.entry.headers_hour == _hour(now):
        return
    if _SLOT in served.entry.body or not _storable(response) or response.status_code != served.entry.status:
        return
    if response.content != served.entry.body:
        return
    if not _headers_shareable(request) or served.key != _key(get_language_from_path(request.path_info), request):
        return
    entry = dataclasses.replace(served.entry, headers=tuple(response.items()), headers_hour=_hour(now))
    _remember(served.key, entry)
    remaining = seconds() - (now - entry.at)
    if remaining > 0:
        _shared().set(served.shared_key, entry, timeout=remaining)


class PageCacheMiddleware:
    """Answers a page-cache hit before the session, locale, CSRF, user and message middlewares and the view run
    (see the module docstring); placed right after the middlewares that add the security headers, which every
    answer keeps."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        early = _answer_early(request)
        if early is not None:
            return early
        response = self.get_response(request)
        if request.__dict__.get("_psirt_page_token"):
            # A page with a CSRF token is this visitor's own: no validator may let a copy of it be kept.
            del response["ETag"]
            del response["Last-Modified"]
        _complete(request, response)
        return response
