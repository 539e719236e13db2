"""What every app's router shares: the `Problem` body of error answers, page links, and the public answers' validators
and cache headers (the error mapping itself is `psirt.api.errors`).

The ETag is a hash of the body itself, so it is right whatever
changed (an advisory, a product's name in the catalog, a download link): a client that sends it back gets a 304
exactly when it already holds these bytes. Last-Modified is the newest change of the advisories the answer is made
of, where there is one; since catalog edits do not move it, If-None-Match wins whenever both are sent (RFC 9110
§13.2.2)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import translation
from ninja import Schema
from pydantic import Field

from psirt.lib.http import absolute_url, conditional_response

# Public data, the same for everyone: shared caches may keep it for a minute and must ask again after that, so
# a new or withdrawn advisory reaches readers quickly. The security headers middleware keeps this header for
# GET answers that say "public" (every other API answer is no-store).
MAX_AGE = 60
# The most results one page of a list operation holds.
MAX_LIMIT = 100


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


class Problem(Schema):
    """The body of every error answer of the API."""

    detail: str = Field(description="What went wrong and what to do about it, for a person")
    errors: dict[str, list[str]] = Field(
        default_factory=dict, description="The parameters or fields at fault, each with its messages"
    )


def problem(detail: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"detail": detail, "errors": errors or {}}


def problem_json(status: int, detail: str, errors: dict[str, list[str]] | None = None) -> HttpResponse:
    """A `Problem` answer returned by an operation itself (which then also sets its own headers)."""
    return JsonResponse(problem(detail, errors), status=status)


class PageLinks(Schema):
    en: str = Field(description="The page in English")
    zh_hans: str = Field(alias="zh-Hans", description="The page in Simplified Chinese")


def html_links(view: str, *args: str) -> dict[str, str]:
    """The public page in both languages (the API itself speaks no language, so both are given)."""
    links = {}
    for key, language in (("en", "en"), ("zh-Hans", "zh-hans")):
        with translation.override(language):
            links[key] = absolute_url(reverse(view, args=args))
    return links


def api_url(name: str, *args: str) -> str:
    return absolute_url(reverse(f"api:{name}", args=args))


class Links(Schema):
    self: str
    next: str | None = Field(description="The next page; null on the last one")
    prev: str | None = Field(description="The previous page; null on the first one")


def page_links(name: str, params: dict[str, Any], *, offset: int, limit: int, count: int) -> dict[str, str | None]:
    """self/next/prev links of a paged list operation (`name` its url_name), keeping the caller's filters."""

    def url(at: int) -> str:
        query = {k: v for k, v in params.items() if v not in ("", None) and k != "offset"}
        if at:
            query["offset"] = at
        return api_url(name) + ("?" + urlencode(query) if query else "")

    after = offset + limit
    return {
        "self": url(offset),
        "next": url(after) if after < count else None,
        "prev": url(max(0, offset - limit)) if offset > 0 else None,
    }
