"""Security headers Django 5.2 does not send by itself.

Django's SecurityMiddleware already sends HSTS (on https), nosniff, Referrer-Policy and
Cross-Origin-Opener-Policy; XFrameOptionsMiddleware sends X-Frame-Options: DENY. This adds the rest."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

LANG_PREFIX = re.compile(r"^/(?:en|zh-hans)/")

# No inline script or style, nothing from other hosts: a security site must work air-gapped and leak nothing
# about its visitors. `data:` images only for CSS-drawn icons.
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
# Powerful features no page of ours uses, switched off for us and anything we might ever embed.
PERMISSIONS = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
PRIVATE_PREFIXES = ("/desk/", "/admin/", "/accounts/", "/r/", "/api/")


class SecurityHeadersMiddleware:
    """Adds CSP, Permissions-Policy, CORP and a no-store cache policy for anything personal: pages behind a
    sign-in, the reporter portal, the API, every response to a signed-in user and every response to a POST
    (it may repeat what was typed). A GET answer that declares itself `Cache-Control: public` keeps it: the
    public read API (`psirt.lib.api`) is the same for everyone, and says so only there."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        user = getattr(request, "user", None)
        path = LANG_PREFIX.sub("/", request.path)
        private = (
            path.startswith(PRIVATE_PREFIXES)
            or request.method not in ("GET", "HEAD", "OPTIONS")
            or (user is not None and user.is_authenticated)
        )
        declared_public = request.method in ("GET", "HEAD") and "public" in response.get("Cache-Control", "")
        if private and not declared_public:
            # Confidential pages must not stay in shared caches or the browser's back/forward history.
            response.headers["Cache-Control"] = "no-store, private"
        return response
