"""Validators and cache headers of the public read API.

The ETag is a hash of the body itself, so it is right whatever changed (an advisory, a product's name in the
catalog, a download link): a client that sends it back gets a 304 exactly when it already holds these bytes.
Last-Modified is the newest change of the advisories the answer is made of, where there is one; since catalog
edits do not move it, If-None-Match wins whenever both are sent (RFC 9110 §13.2.2)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date, parse_http_date_safe
from ninja import Schema

# Public data, the same for everyone: shared caches may keep it for a minute and must ask again after that, so
# a new or withdrawn advisory reaches readers quickly. The security headers middleware keeps this header for
# GET answers that say "public" (every other API answer is no-store).
CACHE_CONTROL = "public, max-age=60, must-revalidate"


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 §8.8.3.2), as If-None-Match asks: W/"x" matches "x"."""
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in header.split(","))


def public_json(
    request: HttpRequest,
    schema: type[Schema] | None,
    data: Any,
    *,
    last_modified: dt.datetime | None = None,
) -> HttpResponse:
    """`data` validated by `schema` (or, without one, a document rendered elsewhere and sent as it is) as a JSON
    answer with ETag, Cache-Control and (when given) Last-Modified; a 304 without a body when the client's copy
    is still current."""
    payload = schema.model_validate(data).model_dump(mode="json", by_alias=True) if schema is not None else data
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified.timestamp())
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        fresh = _etag_matches(if_none_match, etag)
    else:
        since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
        fresh = since is not None and last_modified is not None and int(last_modified.timestamp()) <= since
    response = HttpResponse(status=304) if fresh else HttpResponse(body, content_type="application/json")
    if fresh:
        del response["Content-Type"]  # a 304 has no body to describe
    for name, value in headers.items():
        response[name] = value
    return response
