"""Public pages: home, the editable pages, the team key, security.txt, and the overview of software updates
(the catalog's products under the editable page's introduction)."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from psirt.catalog.queries import public_catalog
from psirt.formats.securitytxt import CONTENT_TYPE as SECURITY_TXT_CONTENT_TYPE
from psirt.lib.builtin_tags import day_time_element
from psirt.lib.http import conditional_response
from psirt.lib.pgp import fingerprint, format_fingerprint
from psirt.lib.search import MAX_QUERY_CHARS, QueryTooLong, clean_query
from psirt.organization.models import OrganizationProfile
from psirt.pages import generation, pagecache, sections, security_txt
from psirt.pages.models import STANDALONE_PAGES, PageSlug
from psirt.pages.queries import rendered_page


def _report_url() -> str:
    """The report form once the intake app provides it; the reporting guidelines until then."""
    try:
        return reverse("intake:report")
    except NoReverseMatch:
        return reverse("pages:guidelines")


def _contact_context(org: OrganizationProfile) -> dict[str, Any]:
    fpr = fingerprint(org.pgp_public_key)
    return {"pgp_fingerprint": format_fingerprint(fpr) if fpr else "", "has_pgp_key": bool(org.pgp_public_key)}


def home_version(request: HttpRequest) -> str | None:
    """The page-cache version of the home page (its freshness check), None when it is not to be stored.

    Besides the advisories and the site generation (profile, pages), the home page shows the response
    statistics: figures of whole days (so the date), turned on and tuned by a setting the site generation
    follows."""
    version = sections.version(request)
    return None if version is None else f"{version}|{timezone.localdate().isoformat()}"


def home(request: HttpRequest) -> HttpResponse:
    version = home_version(request)
    if version is None:
        return _render_home(request)
    return pagecache.cached_page(request, version, lambda: _render_home(request), check=home_version)


def _render_home(request: HttpRequest) -> HttpResponse:
    # The profile, the page text and the statistics' setting are covered by the site generation the version read
    # (kept per generation for as long as it holds); the statistics are figures of whole days.
    org = generation.organization_profile(request)
    language = get_language()
    advisories = sections.latest_advisories(limit=5)
    context = {
        "intro": generation.kept_for(
            request, ("rendered-page", PageSlug.HOME, language), lambda: rendered_page(PageSlug.HOME, org)
        ),
        "advisories": advisories,
        "advisory_cards": advisory_cards(advisories),
        "response_statistics": generation.kept_for(
            request, ("response-statistics", timezone.localdate()), sections.response_statistics
        ),
        "report_url": _report_url(),
        **_contact_context(org),
    }
    return render(request, "pages/home.html", context)


def advisory_cards(advisories: Iterable[Any]) -> SafeString:
    """The home page's cards of the latest advisories, as `pages/home.html` shows them: built here in one pass with
    the standard library's escape, because five cards through the template language (a URL, two date filters and a
    dozen lookups each) cost a quarter of the page. Every interpolated text is escaped.
    `advisories`: objects with advisory_id, title, severity, severity_label, published_at and get_absolute_url."""
    zone = timezone.get_current_timezone()  # read once: a thread-local read per card otherwise
    out = []
    for advisory in advisories:
        severity = ""
        if advisory.severity:
            label = advisory.severity_label or advisory.severity
            severity = f'<span class="badge sev-{escape(str(advisory.severity).lower())}">{escape(str(label))}</span>'
        published = ""
        if advisory.published_at:
            published = day_time_element(advisory.published_at, zone)
        out.append(
            f'\n    <li class="card"><a class="card-link" href="{escape(str(advisory.get_absolute_url()))}">'
            f'<span class="id">{escape(str(advisory.advisory_id))}</span> {escape(str(advisory.title))}</a>\n'
            f'      <p class="card-meta">{severity}\n'
            f"      {published}</p></li>\n    "
        )
    return mark_safe("".join(out))  # noqa: S308 — every interpolated text is escaped right here


def page(request: HttpRequest, slug: str) -> HttpResponse:
    if slug not in STANDALONE_PAGES:
        raise Http404
    org = OrganizationProfile.get()
    context: dict[str, Any] = {"page": rendered_page(slug, org), "slug": slug, "report_url": _report_url()}
    if slug == PageSlug.ACKNOWLEDGMENTS:
        context["entries"] = sections.acknowledgment_entries()
    if slug == PageSlug.CONTACT:
        context.update(_contact_context(org))
    if slug == PageSlug.POLICY:
        context["policy_conditions"] = sections.policy_conditions()
        context["response_statistics"] = sections.response_statistics()
    return render(request, "pages/page.html", context)


def pgp_key(request: HttpRequest) -> HttpResponse:
    """The team's public key as a file reporters can import."""
    org = OrganizationProfile.get()
    if not org.pgp_public_key:
        raise Http404
    response = HttpResponse(org.pgp_public_key, content_type="application/pgp-keys; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="security-team-key.asc"'
    return response


def updates(request: HttpRequest) -> HttpResponse:
    """All product lines → products → latest releases, with a search by product name or model number."""
    raw = request.GET.get("q", "")
    error = ""
    status = 200
    try:
        query = clean_query(raw)
    except QueryTooLong:
        query = ""
        status = 400
        error = _("The search text is too long. Use at most %(max)d characters, e.g. a model name.") % {
            "max": MAX_QUERY_CHARS
        }
    lines = public_catalog(query) if not error else []
    context = {
        "lines": lines,
        "query": query,
        "query_error": error,
        "max_query": MAX_QUERY_CHARS,
        "intro": rendered_page(PageSlug.UPDATES),
        "catalog_empty": not lines and not query and not error,
    }
    return render(request, "pages/updates.html", context, status=status)


@require_safe
def security_txt_view(request: HttpRequest) -> HttpResponse:
    body, etag = security_txt.security_txt()
    return conditional_response(
        request, body=body, content_type=SECURITY_TXT_CONTENT_TYPE, max_age=security_txt.MAX_AGE, etag=etag
    )


@require_safe
def legacy_security_txt(request: HttpRequest) -> HttpResponse:
    """RFC 9116 section 3: /security.txt may redirect to the /.well-known/ file."""
    return HttpResponsePermanentRedirect(reverse("security_txt"))


@require_safe
def security_team_key(request: HttpRequest) -> HttpResponse:
    """The team's public encryption key (organization profile), the target of security.txt's Encryption field."""
    profile = OrganizationProfile.get()
    if not profile.pgp_public_key.strip():
        return HttpResponse(
            "No team encryption key is published. Send reports through the report form.\n",
            status=404,
            content_type=security_txt.KEY_CONTENT_TYPE,
        )
    response = conditional_response(
        request,
        body=profile.pgp_public_key.strip() + "\n",
        content_type=security_txt.KEY_CONTENT_TYPE,
        max_age=security_txt.MAX_AGE,
        last_modified=profile.updated_at,
    )
    response["Content-Disposition"] = 'inline; filename="security-team-key.asc"'
    return response
