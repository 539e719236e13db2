"""Security headers Django 5.2 does not send by itself."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

LANG_PREFIX = re.compile(r"^/(?:en|zh-hans)/")

# No inline script, nothing from other hosts: a security site must work air-gapped and leak nothing.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


class SecurityHeadersMiddleware:
    """Adds CSP, Permissions-Policy and a no-store cache policy for anything behind a sign-in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        user = getattr(request, "user", None)
        path = LANG_PREFIX.sub("/", request.path)
        private = path.startswith(("/desk/", "/admin/", "/accounts/", "/r/", "/api/")) or (
            user is not None and user.is_authenticated
        )
        if private:
            # Confidential pages must not stay in shared caches or the browser's back/forward history.
            response.headers["Cache-Control"] = "no-store, private"
        return response
