"""An in-process cache of rendered public advisory pages for anonymous visitors (opt-in).

Rendering the list or an advisory costs tens of milliseconds; answering from memory costs about as much as a
trivial view. A cached page is used only while the stamp it was rendered under is still the current one (the
newest change of the public advisories, or of the advisory itself, asked from the database on every
request), so publishing, revising or withdrawing is visible at once. Catalog and profile edits do not change
that stamp: they show after at most `PSIRT_PUBLIC_PAGE_CACHE` seconds, the setting that switches the cache on
(0 or unset: off).

The language form of every page carries a CSRF token; it is cut out of the stored page and a fresh token of
the requesting visitor is put back on each answer, so a cached page never hands one visitor's token to another.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

MAX_ENTRIES = 2000
_TOKEN = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')
_SLOT = b"\x00csrf\x00"


@dataclass(frozen=True)
class _Entry:
    at: float
    status: int
    content_type: str
    body: bytes


_entries: OrderedDict[str, _Entry] = OrderedDict()
_lock = threading.Lock()


def seconds() -> float:
    return float(getattr(settings, "PSIRT_PUBLIC_PAGE_CACHE", 0) or 0)


def clear() -> None:
    with _lock:
        _entries.clear()


def _cacheable(request: HttpRequest) -> bool:
    # Signed-in people see a different footer; a session or pending messages make a page personal.
    cookies = request.COOKIES
    return (
        request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
        and not request.user.is_authenticated
    )


def cached_page(request: HttpRequest, stamp: dt.datetime | None, render: Callable[[], HttpResponse]) -> HttpResponse:
    """The page from memory when it was rendered under the same stamp (and is younger than the TTL), else
    `render()` — stored for the next visitor when it is a plain 200 or 404 page."""
    ttl = seconds()
    if ttl <= 0 or not _cacheable(request):
        return render()
    key = f"{get_language()}|{stamp.isoformat() if stamp else '-'}|{request.get_full_path()[:2000]}"
    now = time.monotonic()
    with _lock:
        entry = _entries.get(key)
        if entry is not None:
            _entries.move_to_end(key)
    if entry is not None and now - entry.at < ttl:
        body = entry.body.replace(_SLOT, get_token(request).encode()) if _SLOT in entry.body else entry.body
        return HttpResponse(body, status=entry.status, content_type=entry.content_type)
    response = render()
    if response.status_code in (200, 404) and not response.streaming and not response.cookies:
        body = _TOKEN.sub(rb"\1" + _SLOT + rb"\2", response.content)
        with _lock:
            _entries[key] = _Entry(now, response.status_code, response["Content-Type"], body)
            _entries.move_to_end(key)
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
    return response
