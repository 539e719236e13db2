from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from psirt.lib.language_links import language_links
from psirt.pages import generation


def site(request: HttpRequest) -> dict[str, Any]:
    """The organization profile and navigation for every page: one query per request, none on a public page that
    read the site generation with its version."""
    return {
        # Kept per site generation when the view read it (public pages); the instance is shared: read only.
        "org": generation.organization_profile(request),
        "psirt_nav": settings.PSIRT_NAV,
        "psirt_base_url": settings.PSIRT_BASE_URL,
        "language_links": language_links(request),
    }
