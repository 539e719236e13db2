"""Error views: friendly, bilingual pages that never echo the request and never show a stack trace.

Wire them in `psirt/urls.py` (`handler400 = "psirt.lib.views.bad_request"`, …) and in settings
(`CSRF_FAILURE_VIEW = "psirt.lib.views.csrf_failure"`)."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from psirt.lib.language_links import home_language_links

logger = logging.getLogger(__name__)

# Last resort when even the 500 template cannot render (missing static manifest, broken template).
FALLBACK_500 = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Server error · 服务器错误</title>"
    "<h1>Server error</h1><p lang=zh-Hans>服务器错误</p>"
    "<p>Please try again later. · <span lang=zh-Hans>请稍后再试。</span></p><p><a href=/>Home · 首页</a></p></html>"
)


def _error(request: HttpRequest, status: int) -> HttpResponse:
    # The language links point at the homes, not at this URL: an error page echoes nothing it was sent.
    return render(
        request, "errors/error.html", {"status": status, "language_links": home_language_links()}, status=status
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400: malformed request (bad host, too many fields, broken multipart …)."""
    return _error(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403. Confidential objects answer 404 instead (need-to-know), so this is rare."""
    return _error(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404, also for unknown language prefixes (/fr/…). The path is not echoed."""
    return _error(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """500. Rendered with a plain context (no context processors, no database): the database may be the
    reason we are here."""
    try:
        html = loader.get_template("errors/500.html").render({})
    except Exception:  # the error page itself must not fail
        logger.exception("errors/500.html could not be rendered")
        html = FALLBACK_500
    return HttpResponseServerError(html)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a failed CSRF check (expired form, cookies blocked). Django already logs `reason` to
    django.security.csrf; it is not shown to the visitor."""
    return render(request, "errors/csrf.html", {"language_links": home_language_links()}, status=403)
