"""Public advisory pages (SPEC P4–P7): the list, an advisory with its environmental calculator, and
"Am I affected?". Desk authoring views live in `psirt.advisories.desk_views`.

Public pages carry ETag and Last-Modified and answer conditional requests with 304; publishing, revising or
withdrawing changes `updated_at`, which changes both."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from html import escape
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import condition, require_GET

from psirt.advisories import queries
from psirt.advisories.affected import AffectedQuery, check_affected, product_choices
from psirt.advisories.environmental import FORM_FLAG, redirect_query
from psirt.advisories.models import Advisory
from psirt.advisories.pagecache import cached_page
from psirt.advisories.presenters import page_context, scores_of
from psirt.advisories.queries import MAX_QUERY_CHARS, ListFilters, QueryTooLong
from psirt.catalog.models import pick_language


def _etag(request: HttpRequest, stamp: dt.datetime | None) -> str:
    """A validator for one rendering of a page: it changes with the data, the language, the query string,
    whether the visitor is signed in (the footer differs) and the CSRF cookie (the language form holds a token)."""
    parts = [
        # Catalog and profile edits (product names, download links) do not move the stamp: an hourly bucket
        # makes every validator expire, so a 304 never keeps such a change from a visitor for long.
        str(int(time.time() // 3600)),
        get_language() or "",
        request.get_full_path()[:2000],
        stamp.isoformat() if stamp else "-",
        "1" if request.user.is_authenticated else "0",
        request.COOKIES.get("csrftoken", "")[:64],
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _list_stamp(request: HttpRequest) -> dt.datetime | None:
    return queries.last_modified(request)


def _head(request: HttpRequest, advisory_id: str) -> tuple[str, dt.datetime] | None:
    """(canonical ID, last change) of the public advisory, fetched once per request and without its texts:
    the ETag, Last-Modified and a page-cache hit need no more."""
    cache: dict[str, tuple[str, dt.datetime] | None] = request.__dict__.setdefault("_psirt_advisory_head", {})
    if advisory_id not in cache:
        cache[advisory_id] = queries.public_advisory_head(advisory_id)
    return cache[advisory_id]


def _detail_stamp(request: HttpRequest, advisory_id: str) -> dt.datetime | None:
    head = _head(request, advisory_id)
    return head[1] if head is not None else None


def _options(pairs: list[tuple[str, str]], selected: str) -> SafeString:
    """<option> elements for a select, every value and label escaped; built with the standard library's escape
    in one join because a catalog of a thousand products through format_html was most of the list page's
    rendering time."""
    return mark_safe(  # noqa: S308 — every interpolated text is escaped right here
        "".join(
            f'<option value="{escape(value, quote=True)}"{" selected" if value == selected else ""}>'
            f"{escape(str(label), quote=True)}</option>"
            for value, label in pairs
        )
    )


@require_GET
@condition(
    etag_func=lambda request: _etag(request, _list_stamp(request)),
    last_modified_func=_list_stamp,
)
def advisory_list(request: HttpRequest) -> HttpResponse:
    """Search, filters, sorting and pagination over published advisories (a fixed number of queries)."""
    return cached_page(request, _list_stamp(request), lambda: _render_list(request))


def _render_list(request: HttpRequest) -> HttpResponse:
    error = ""
    status = 200
    try:
        filters = ListFilters.from_params(request.GET)
    except QueryTooLong:
        filters = ListFilters()
        error = _("The search text is too long. Use at most %(max)d characters, e.g. a CVE ID or a model name.") % {
            "max": MAX_QUERY_CHARS
        }
        status = 400
    page = queries.paginate(queries.filtered_advisories(filters), request.GET.get("page", "1")[:8])
    params = request.GET.copy()
    params.pop("page", None)
    choices = queries.filter_choices(line=filters.line, product=filters.product)
    lines = [(slug, pick_language(en, zh)) for slug, en, zh in choices.pop("lines")]
    context: dict[str, Any] = {
        "line_options": _options(lines, filters.line),
        "product_options": _options(choices.pop("products"), filters.product),
        "page": page,
        "advisories": page.object_list,
        "filters": filters,
        "query_error": error,
        "max_query": MAX_QUERY_CHARS,
        "page_query": params.urlencode(),
        **choices,
    }
    return render(request, "advisories/list.html", context, status=status)


@require_GET
@condition(
    etag_func=lambda request, advisory_id: _etag(request, _detail_stamp(request, advisory_id)),
    last_modified_func=_detail_stamp,
)
def advisory_detail(request: HttpRequest, advisory_id: str) -> HttpResponse:
    """One published advisory; a draft or an unknown ID is the same plain 404."""
    head = _head(request, advisory_id)
    if head is None:
        raise Http404
    canonical, stamp = head
    if canonical != advisory_id:
        return HttpResponseRedirect(reverse("advisories:detail", args=[canonical]))
    if FORM_FLAG in request.GET:
        advisory = _load(canonical)
        query = redirect_query(scores_of(advisory), request.GET)
        if query is not None:
            # The calculator form was submitted: show the result at a URL that holds the vector (?env=…).
            return HttpResponseRedirect(f"{request.path}?{query}#environmental")
    return cached_page(
        request,
        stamp,
        lambda: render(request, "advisories/detail.html", page_context(request, _load(canonical))),
    )


def _load(advisory_id: str) -> Advisory:
    advisory = queries.public_advisory(advisory_id)
    if advisory is None:  # withdrawn from under us between two queries: as if it never existed
        raise Http404
    return advisory


@require_GET
def affected(request: HttpRequest) -> HttpResponse:
    """Am I affected? Product + firmware version → the advisories that affect it and the release to install."""
    return cached_page(request, _list_stamp(request), lambda: _render_affected(request))


def _render_affected(request: HttpRequest) -> HttpResponse:
    query = AffectedQuery.from_params(request.GET)
    answer = check_affected(query) if query.ready else None
    status = 400 if query.errors else 200
    choices = product_choices(query, answer)
    context = {
        "query": query,
        "answer": answer,
        "product_options": _options(choices["products"], query.product_slug) if choices["products"] else "",
        "version_options": _options(
            [(str(r.public_id), f"{r.version} ({r.variant})" if r.variant else r.version) for r in choices["versions"]],
            str(answer.release.public_id) if answer is not None and answer.release is not None else "",
        ),
        **choices,
    }
    return render(request, "advisories/affected.html", context, status=status)
