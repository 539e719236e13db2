"""The URL map's order: the public pages are tried first, and no answer depends on that order."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import URLResolver, resolve
from django.urls.resolvers import LocalePrefixPattern

from psirt import urls


def test_the_public_pages_are_tried_first() -> None:
    first = urls.urlpatterns[0]
    assert isinstance(first, URLResolver) and isinstance(first.pattern, LocalePrefixPattern)
    assert [getattr(p, "namespace", None) for p in first.url_patterns[:2]] == ["advisories", "pages"]


def test_no_unprefixed_path_starts_with_a_language_prefix() -> None:
    """What makes the order of the two groups change no answer."""
    prefixes = tuple(f"{code}/" for code, _name in settings.LANGUAGES)
    unprefixed = [p for p in urls.urlpatterns if not isinstance(p.pattern, LocalePrefixPattern)]
    assert unprefixed and not [p for p in unprefixed if str(p.pattern).startswith(prefixes)]


@pytest.mark.parametrize(
    "path,name",
    [
        ("/en/", "pages:home"),
        ("/en/policy/", "pages:policy"),
        ("/en/advisories/", "advisories:list"),
        ("/en/advisories/BN-SA-2026-00001/", "advisories:detail"),
        ("/en/affected/", "advisories:affected"),
        ("/en/updates/", "catalog:updates"),
        ("/en/subscribe/", "notify:subscribe"),
        ("/healthz", "healthz"),
        ("/advisories/BN-SA-2026-00001/csaf.json", "advisory_csaf"),
        ("/advisories/BN-SA-2026-00001/cve/CVE-2026-1.json", "advisory_cve"),
        ("/feeds/advisories.atom", "advisories_feed"),
        ("/.well-known/security.txt", "security_txt"),
    ],
)
def test_paths_resolve_to_their_views(path: str, name: str) -> None:
    assert resolve(path).view_name == name
