"""The JSON API (django-ninja), mounted at /api/ (docs at /api/docs, OpenAPI 3.1 at /api/openapi.json).

One router per app, registered below under /v1/…; errors become HTTP answers in one place and one shape,
`psirt.api.errors` (each app adds its base exception class there)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, re_path, reverse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.openapi.docs import DocsBase

from psirt.advisories.api import affected_router, cvss_router
from psirt.advisories.api import router as advisories_router
from psirt.api import errors
from psirt.cases.api import router as cases_router
from psirt.catalog.api import router as catalog_router
from psirt.components.api import releases_router, vex_router
from psirt.intake.api import router as intake_router
from psirt.metrics.api import router as metrics_router
from psirt.regulatory.api import router as regulatory_router


class VendoredSwagger(DocsBase):
    """Swagger UI from the files django-ninja ships (no CDN), started by our own static script: the strict CSP
    allows no inline script, and the settings travel in data attributes."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        return render(request, "api/docs.html", {"api": api, "openapi_url": self.get_openapi_url(api, kwargs)})


class PsirtAPI(NinjaAPI):
    """The API with every answer in the `Problem` shape, also the ones Django's URL layer would give: a wrong
    method on a known path (405, with Allow) and any unknown path under /api/ (404)."""

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        patterns: list[URLResolver | URLPattern] = []
        for pattern in super()._get_urls():
            if isinstance(pattern, URLPattern) and pattern.name == "api-root":
                # /api/ itself: ninja answers it with Django's HTML 404; keep the name (ninja reverses it).
                patterns.append(URLPattern(pattern.pattern, _unknown_path_view(self), name="api-root"))
            elif isinstance(pattern, URLPattern):
                patterns.append(_with_problem_405(self, pattern))
            else:
                patterns.append(pattern)
        patterns.append(re_path(r"^.*$", _unknown_path_view(self)))
        return patterns


def _with_problem_405(api: NinjaAPI, pattern: URLPattern) -> URLPattern:
    view = pattern.callback

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        asked = request.method
        if asked == "HEAD":
            # HEAD is GET without the body (RFC 9110 §9.3.2); the WSGI server drops the body.
            request.method = "GET"
        response: HttpResponseBase = view(request, *args, **kwargs)
        request.method = asked
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
            allowed = response.get("Allow", "")
            response = errors.problem_response(
                api, request, 405, f"Method {asked} is not allowed here; use {allowed or 'another one'}."
            )
            response["Allow"] = allowed
        return response

    return URLPattern(pattern.pattern, wrapped, pattern.default_args, pattern.name)


def _unknown_path_view(api: NinjaAPI) -> Callable[..., HttpResponse]:
    # CSRF-exempt like every API view: a POST to a wrong path gets the JSON 404, not the HTML CSRF page.
    @csrf_exempt
    def unknown_path(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        docs = reverse(f"{api.urls_namespace}:openapi-view")
        return errors.problem_response(
            api, request, 404, f"There is no API operation at this path. The operations are listed at {docs}."
        )

    return unknown_path


api = PsirtAPI(
    title="psirt API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    docs=VendoredSwagger(),
    description=(
        "Machine access to a psirt Security Response Center. Public read operations need no account; every "
        "error answer is a `Problem` object `{detail, errors}`."
    ),
)
errors.register(api)

api.add_router("/v1/cvss", cvss_router)
api.add_router("/v1/reports", intake_router)
api.add_router("/v1/cases", cases_router)
api.add_router("/v1/affected", affected_router)
api.add_router("/v1/advisories", advisories_router)
api.add_router("/v1/products", catalog_router)
api.add_router("/v1/releases", releases_router)
api.add_router("/v1/vex", vex_router)
api.add_router("/v1/regulatory", regulatory_router)
api.add_router("/v1/metrics", metrics_router)
