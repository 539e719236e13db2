"""Public advisory pages: the list, an advisory with its environmental calculator, and
"Am I affected?" (`psirt.advisories.views.affected`).

Public pages carry ETag and Last-Modified and answer conditional requests with 304; publishing, revising or
withdrawing changes `updated_at`, which changes both."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import time
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any
from urllib.parse import quote

from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import condition, require_GET

from psirt.advisories import queries
from psirt.advisories.csaf import provider
from psirt.advisories.models import PUBLIC_STATES, Advisory, AdvisoryState
from psirt.advisories.queries import ListFilters
from psirt.advisories.views.environmental import FORM_FLAG, redirect_query
from psirt.advisories.views.presenters import page_context, page_data, scores_of
from psirt.lib.builtin_tags import day_time_element
from psirt.lib.i18n import language_picker
from psirt.lib.paths import shared_dir
from psirt.lib.search import MAX_QUERY_CHARS, QueryTooLong
from psirt.lib.severity import ORDER
from psirt.lib.severity import label as severity_label
from psirt.pages import generation
from psirt.pages.pagecache import cached_page


def _etag(request: HttpRequest, version: str) -> str:
    """A validator for one rendering of a page: it changes with the data (`version`: advisory stamp, site
    generation), the language, the query string and whether the visitor is signed in (the footer differs) —
    everything the body depends on. The pages hold no CSRF token, so visitors with different CSRF cookies share
    it; a page that did hold one would carry no validator at all (`psirt.pages.pagecache`)."""
    parts = [
        # The site generation covers catalog, profile and page edits; an hourly bucket still makes every
        # validator expire, so a 304 never keeps anything the generation might miss from a visitor for long.
        str(int(time.time() // 3600)),
        get_language() or "",
        request.get_full_path()[:2000],
        version,
        "1" if request.user.is_authenticated else "0",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _version(stamp: dt.datetime | None, token: str | None, *extra: str) -> str:
    """What a stored page must have been rendered under to be served: the advisory stamp and the site generation
    (see psirt.pages.generation), plus whatever else the page shows."""
    return "|".join([stamp.isoformat() if stamp else "-", token or "-", *extra])


def list_head(request: HttpRequest) -> tuple[dt.datetime | None, str]:
    """(newest change of the public advisories, page-cache version), in one plain-SQL statement per request:
    the advisory stamp probes with the site generation as a scalar subquery, so a cache hit stays one query."""
    cached: tuple[dt.datetime | None, str] | None = request.__dict__.get("_psirt_list_head")
    if cached is None:
        # queries.stamp_sql is the indexed per-state probe that queries.last_modified runs; reused, not copied.
        with connection.cursor() as cursor:
            cursor.execute(f"{queries.stamp_sql()}, {generation.token_sql()}", [str(state) for state in PUBLIC_STATES])
            row = cursor.fetchone()
        generation.note(request, row[-1])
        stamps = (queries.as_datetime(v) for v in row[:-1])
        stamp = max((s for s in stamps if s is not None), default=None)
        setattr(request, queries.STAMP_ATTRIBUTE, stamp)  # what queries.last_modified asks
        cached = (stamp, _version(stamp, row[-1]))
        request._psirt_list_head = cached  # type: ignore[attr-defined]
    return cached


def list_version(request: HttpRequest) -> str:
    """The page-cache version of the list, the home page and "Am I affected?" (their freshness check)."""
    return list_head(request)[1]


def _list_stamp(request: HttpRequest) -> dt.datetime | None:
    return list_head(request)[0]


def _list_etag(request: HttpRequest) -> str:
    return _etag(request, list_head(request)[1])


def _head(request: HttpRequest, advisory_id: str) -> tuple[str, dt.datetime, str] | None:
    """(canonical ID, last change, page-cache version) of the public advisory, fetched once per request in one
    plain-SQL statement (like the list's probe) and without its texts: the ETag, Last-Modified and a page-cache
    hit need no more."""
    cache: dict[str, tuple[str, dt.datetime, str] | None] = request.__dict__.setdefault("_psirt_advisory_head", {})
    if advisory_id not in cache:
        cache[advisory_id] = _advisory_head(request, advisory_id)
    return cache[advisory_id]


def _advisory_head(request: HttpRequest, advisory_id: str) -> tuple[str, dt.datetime, str] | None:
    probe = queries.public_advisory_probe(advisory_id)
    if probe is None:
        return None
    canonical, stamp, token = probe
    generation.note(request, token)
    # The CSAF links on the page depend on the provider tree, written after the publication commits: its
    # changes.csv (rewritten whenever a document is added, replaced or removed) is part of the version.
    return canonical, stamp, _version(stamp, token, _csaf_tree_state())


def _csaf_tree_state() -> str:
    try:
        info = os.stat(_changes_file(str(shared_dir())))
    except OSError:
        return "-"
    return f"{info.st_mtime_ns}.{info.st_size}"


@functools.lru_cache(maxsize=4)
def _changes_file(folder: str) -> str:
    # Keyed on the shared folder the provider root derives from; building the path each time cost more than the stat.
    return str(provider.provider_root() / provider.TLP_FOLDER / provider.CHANGES_NAME)


def advisory_version(request: HttpRequest, advisory_id: str) -> str | None:
    """The page-cache version of an advisory page (its freshness check), None for no public advisory."""
    head = _head(request, advisory_id)
    return head[2] if head is not None else None


def _detail_stamp(request: HttpRequest, advisory_id: str) -> dt.datetime | None:
    head = _head(request, advisory_id)
    return head[1] if head is not None else None


def _detail_etag(request: HttpRequest, advisory_id: str) -> str:
    return _etag(request, advisory_version(request, advisory_id) or "-")


def select_options(pairs: list[tuple[str, str]], selected: str) -> SafeString:
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


def list_rows(advisories: Iterable[Advisory], product_names: Mapping[int, list[str]]) -> SafeString:
    """The rows of the advisory table, as `advisories/list.html` shows them: built here in one pass with the
    standard library's escape, because twenty rows through the template language (a URL reversed twice, an include
    and two date filters per row) cost more than the rest of the page. Every interpolated text is escaped.
    `product_names`: advisory pk → its affected products' names (`queries.product_names_of`)."""
    placeholder = "ADVISORY-ID"
    url_pattern = reverse("advisories:detail", args=[placeholder])
    withdrawn = escape(_("Withdrawn"))
    exploited = escape(_("Actively exploited"))
    not_rated = f'<span class="badge sev-none">{escape(_("Not rated"))}</span>'
    muted = ' class="is-muted"'
    # Each rating's label (`psirt.lib.severity.label`), translated once per page rather than once per row.
    severities = {value: escape(severity_label(value)) for value in ORDER}
    # Read once per page: a thread-local read per row otherwise.
    zone = timezone.get_current_timezone()
    pick = language_picker()
    out = []
    for a in advisories:
        url = escape(url_pattern.replace(placeholder, quote(a.advisory_id, safe="")))
        is_withdrawn = a.state == AdvisoryState.WITHDRAWN
        badges = (f' <span class="badge">{withdrawn}</span>' if is_withdrawn else "") + (
            f' <span class="badge badge-danger">{exploited}</span>' if a.exploitation == "active" else ""
        )
        severity = (
            f'<span class="badge {escape(a.severity_class)}">{severities.get(a.severity, escape(a.severity))}</span>'
            if a.severity
            else not_rated
        )
        cves = "<br>".join(f'<span class="id">{escape(cve)}</span>' for cve in a.cve_ids)
        published = ""
        if a.published_at:
            published = day_time_element(a.published_at, zone)
        out.append(
            f"\n    <tr{muted if is_withdrawn else ''}>\n"
            f'      <td class="mono nowrap"><a href="{url}">{escape(a.advisory_id)}</a></td>\n'
            f'      <td><a href="{url}">{escape(pick(a.title_en, a.title_zh))}</a>{badges}</td>\n'
            f'      <td class="nowrap">{severity}\n</td>\n'  # the newline the severity badge template ends with
            f"      <td>{', '.join(escape(name) for name in product_names.get(a.pk, ()))}</td>\n"
            f'      <td class="small">{cves}</td>\n'
            f'      <td class="nowrap">{published}</td>\n'
            "    </tr>\n  "
        )
    return mark_safe("".join(out))  # noqa: S308 — every interpolated text is escaped right here


@require_GET
@condition(
    etag_func=_list_etag,
    last_modified_func=_list_stamp,
)
def advisory_list(request: HttpRequest) -> HttpResponse:
    """Search, filters, sorting and pagination over published advisories (a fixed number of queries)."""
    return cached_page(request, list_version(request), lambda: _render_list(request), check=list_version)


def _filter_form(request: HttpRequest, filters: ListFilters) -> dict[str, Any]:
    """What the filter form offers (product lines and products as rendered options with the chosen ones selected,
    years, severities, exploitation statuses, all labels in the active language): a function of the list's version,
    the chosen line and product and the language, so read once per process for each of them."""
    line, product = filters.line, filters.product
    return generation.kept(
        list_version(request),
        ("list-filter-form", line, product, get_language()),
        functools.partial(_filter_form_of, line=line, product=product),
    )


def _filter_form_of(*, line: str, product: str) -> dict[str, Any]:
    choices = queries.filter_choices(line=line, product=product)
    pick = language_picker()
    return {
        "line_options": select_options([(slug, pick(en, zh)) for slug, en, zh in choices["lines"]], line),
        "product_options": select_options(choices["products"], product),
        "products_need_line": choices["products_need_line"],
        "years": tuple(choices["years"]),
        "severities": tuple((value, str(label)) for value, label in choices["severities"]),
        "exploitations": tuple((value, str(label)) for value, label in choices["exploitations"]),
    }


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
    # The product names come in one query of their own (`queries.product_names_of`), not as prefetched rows.
    page = queries.list_page(filters, request.GET.get("page", "1")[:8], version=list_version(request))
    shown = list(page.object_list)
    params = request.GET.copy()
    params.pop("page", None)
    context: dict[str, Any] = {
        "form": _filter_form(request, filters),
        "page": page,
        "advisories": shown,
        "rows": list_rows(shown, queries.product_names_of([a.pk for a in shown])),
        "filters": filters,
        "query_error": error,
        "max_query": MAX_QUERY_CHARS,
        "page_query": params.urlencode(),
    }
    return render(request, "advisories/list.html", context, status=status)


@require_GET
@condition(
    etag_func=_detail_etag,
    last_modified_func=_detail_stamp,
)
def advisory_detail(request: HttpRequest, advisory_id: str) -> HttpResponse:
    """One published advisory; a draft or an unknown ID is the same plain 404."""
    head = _head(request, advisory_id)
    if head is None:
        raise Http404
    canonical, _stamp, version = head
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
        version,
        lambda: render(request, "advisories/detail.html", _published_context(request, canonical, version)),
        check=functools.partial(advisory_version, advisory_id=canonical),
    )


def _published_context(request: HttpRequest, advisory_id: str, version: str) -> dict[str, Any]:
    """The page's context, its data (`presenters.page_data`) read once per published revision: `version`, the
    page-cache version, changes with the advisory, the catalog and the CSAF files the page shows."""
    data = generation.kept(version, ("advisory-page", advisory_id), lambda: page_data(_load(advisory_id)))
    return page_context(request, data["advisory"], data=data)


def _load(advisory_id: str) -> Advisory:
    advisory = queries.public_advisory(advisory_id)
    if advisory is None:  # withdrawn from under us between two queries: as if it never existed
        raise Http404
    return advisory
