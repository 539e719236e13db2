from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from psirt.lib.language_links import language_links
from psirt.organization.models import OrganizationProfile


def site(request: HttpRequest) -> dict[str, Any]:
    """The organization profile and navigation for every page. Lazily fetched: one query per request."""
    return {
        "org": OrganizationProfile.get(),
        "psirt_nav": settings.PSIRT_NAV,
        "psirt_base_url": settings.PSIRT_BASE_URL,
        "language_links": language_links(request),
    }
