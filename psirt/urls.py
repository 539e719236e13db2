"""URL map. Public pages and the desk are language-prefixed (/en/…, /zh-hans/…); machine-readable
endpoints (API, .well-known, feeds' canonical files) are not."""

from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from psirt.accounts import urls as accounts_urls
from psirt.advisories import urls as advisories_urls
from psirt.advisories.views import cve as cve_views
from psirt.advisories.views import feeds as feed_views
from psirt.advisories.views import provider as provider_views
from psirt.api.urls import api
from psirt.cases import urls as cases_urls
from psirt.catalog import urls as catalog_urls
from psirt.components import urls as components_urls
from psirt.intake import urls as intake_urls
from psirt.lib import health
from psirt.metrics import urls as metrics_urls
from psirt.notify import urls as notify_urls
from psirt.pages import urls as pages_urls
from psirt.pages.views import public as pages_public
from psirt.regulatory import urls as regulatory_urls

desk_patterns: list[URLPattern | URLResolver] = [
    *accounts_urls.desk_urlpatterns,
    path("catalog/", include((catalog_urls.desk_urlpatterns, "catalog"))),
    path("components/", include((components_urls.desk_urlpatterns, "components"))),
    path("settings/", include((pages_urls.desk_urlpatterns, "pages"))),
    path("inbox/", include((intake_urls.desk_urlpatterns, "intake"))),
    *metrics_urls.case_file_urlpatterns,
    path("cases/", include((cases_urls.desk_urlpatterns, "cases"))),
    path("advisories/", include((advisories_urls.desk_urlpatterns, "advisories"))),
    path("notify/", include((notify_urls.desk_urlpatterns, "notify"))),
    path("regulatory/", include((regulatory_urls.desk_urlpatterns, "regulatory"))),
    path("metrics/", include((metrics_urls.desk_urlpatterns, "metrics"))),
]

# The public pages are asked for most, so they are tried first: every pattern tried before a page's costs each of
# its requests a match. No answer depends on this order: the language-prefixed patterns and the others share no
# path (each of the former starts with a language prefix, none of the latter does), and the public pages' paths
# ("advisories/…", "affected/", "", the standalone pages' slugs) are none of the other prefixed sections'.
urlpatterns = i18n_patterns(
    path("", include((advisories_urls.public_urlpatterns, "advisories"))),
    path("", include((pages_urls.public_urlpatterns, "pages"))),
    path("accounts/", include("allauth.urls")),
    path("desk/", include((desk_patterns, "desk"))),
    path("updates/", include(([*pages_urls.updates_urlpatterns, *catalog_urls.public_urlpatterns], "catalog"))),
    path("updates/", include((components_urls.public_urlpatterns, "components_public"))),
    path("report/", include((intake_urls.public_urlpatterns, "intake"))),
    path("r/", include((intake_urls.portal_urlpatterns, "portal"))),
    path("subscribe/", include((notify_urls.public_urlpatterns, "notify"))),
    prefix_default_language=True,
)

urlpatterns += [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    *notify_urls.unsubscribe_urlpatterns,
    path(".well-known/security.txt", pages_public.security_txt_view, name="security_txt"),
    path("security.txt", pages_public.legacy_security_txt, name="security_txt_legacy"),
    path("pgp-key.txt", pages_public.security_team_key, name="security_team_key"),
    # The CSAF 2.0 provider tree (files and folder listings) and each advisory's current CSAF document.
    path(".well-known/csaf/", provider_views.well_known_csaf, name="csaf_provider"),
    path(".well-known/csaf/<path:subpath>", provider_views.well_known_csaf, name="csaf_provider_file"),
    path("advisories/<str:advisory_id>/csaf.json", provider_views.advisory_csaf, name="advisory_csaf"),
    # The full feed comes first: a product line with the slug "advisories" gets the full feed, not a wrong one.
    path("feeds/advisories.atom", feed_views.advisories_feed, name="advisories_feed"),
    path("feeds/<slug:slug>.atom", feed_views.line_feed, name="line_feed"),
    # Feed readers that guess the RSS address are sent, for good, to the Atom feed (the only feed format).
    path(
        "feeds/advisories.rss", RedirectView.as_view(pattern_name="advisories_feed", permanent=True, query_string=True)
    ),
    path("advisories/<str:advisory_id>/cve/<str:cve_id>.json", cve_views.advisory_cve, name="advisory_cve"),
    # The VEX documents (CSAF, OpenVEX, CycloneDX) about each third-party vulnerability with a public decision.
    *components_urls.document_urlpatterns,
]

handler400 = "psirt.lib.views.bad_request"
handler403 = "psirt.lib.views.permission_denied"
handler404 = "psirt.lib.views.page_not_found"
handler500 = "psirt.lib.views.server_error"
