"""Conditional answers (ETag, Last-Modified, 304) for the machine-readable files and the public read API: feeds,
security.txt, key files, CVE records, the CSAF provider tree, `psirt.lib.api`. Feed readers and scanners poll
these every few minutes; a 304 costs them and us almost nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, quote_etag

Answer = TypeVar("Answer", bound=HttpResponseBase)


def absolute_url(path: str) -> str:
    """`path` on the public address (PSIRT_BASE_URL), never on the request's Host header: links in mails, feeds,
    documents and API answers must not follow a forged Host."""
    return str(settings.PSIRT_BASE_URL).rstrip("/") + path


def body_etag(body: bytes) -> str:
    """A strong ETag from the bytes themselves: equal bodies, equal tags, in every worker process."""
    return quote_etag(hashlib.sha256(body).hexdigest()[:40])


def conditional(
    request: HttpRequest,
    *,
    etag: str,
    last_modified: int | None,
    max_age: int,
    make: Callable[[], Answer],
    must_revalidate: bool = False,
) -> HttpResponse | Answer:
    """304 (or 412) when the client's copy is current, else `make()` — called only then, so a file or a template
    is not opened for a 304; both answers carry the validators and public caching."""
    early = get_conditional_response(request, etag=etag, last_modified=last_modified)
    response: HttpResponse | Answer = early if early is not None else make()
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    # Django writes every keyword it is given, so `must_revalidate=False` would go out as the bogus directive
    # "must-revalidate=False": name the directive only when it applies.
    directives: dict[str, bool | int] = {"public": True, "max_age": max_age}
    if must_revalidate:
        directives["must_revalidate"] = True
    patch_cache_control(response, **directives)
    return response


def conditional_response(
    request: HttpRequest,
    *,
    body: str | bytes,
    content_type: str,
    max_age: int,
    etag: str | None = None,
    last_modified: datetime | None = None,
    must_revalidate: bool = False,
) -> HttpResponse:
    """`body` as a cacheable public answer, or 304 Not Modified when the client's copy is current.

    `etag` defaults to a hash of the body; pass one (weak, `W/"…"`) when equal content may be encoded differently,
    e.g. a clear-signed file whose signature bytes differ between worker processes."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return conditional(
        request,
        etag=etag or body_etag(data),
        last_modified=int(last_modified.timestamp()) if last_modified is not None else None,
        max_age=max_age,
        make=lambda: HttpResponse(data, content_type=content_type),
        must_revalidate=must_revalidate,
    )
