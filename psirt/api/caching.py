"""Validators and cache headers of the public read API.

The ETag is a hash of the body itself, so it is right whatever changed (an advisory, a product's name in the
catalog, a download link): a client that sends it back gets a 304 exactly when it already holds these bytes.
Last-Modified is the newest change of the advisories the answer is made of, where there is one; since catalog
edits do not move it, If-None-Match wins whenever both are sent (RFC 9110 §13.2.2)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Schema

from psirt.lib.http import conditional_response

# Public data, the same for everyone: shared caches may keep it for a minute and must ask again after that, so
# a new or withdrawn advisory reaches readers quickly. The security headers middleware keeps this header for
# GET answers that say "public" (every other API answer is no-store).
MAX_AGE = 60


def public_json(
    request: HttpRequest,
    schema: type[Schema] | None,
    data: Any,
    *,
    last_modified: dt.datetime | None = None,
) -> HttpResponse:
    """`data` validated by `schema` (or, without one, a document rendered elsewhere and sent as it is) as a JSON
    answer with ETag, Cache-Control and (when given) Last-Modified; a 304 without a body when the client's copy
    is still current (Django's conditional processing, as for the feeds and security.txt)."""
    payload = schema.model_validate(data).model_dump(mode="json", by_alias=True) if schema is not None else data
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return conditional_response(
        request,
        body=body,
        content_type="application/json",
        max_age=MAX_AGE,
        must_revalidate=True,
        last_modified=last_modified,
    )
