"""`{% load psirt_csaf %}{% csaf_links advisory as csaf %}`: where a public advisory's CSAF files are, for its page.

Looks at the provider tree on disk (a few stat calls, no rendering): links appear once the files exist, so the page
never points at a hash or signature that is not there."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from psirt.advisories.csaf import provider
from psirt.formats.csaf import TRANSLATION_LANG

register = template.Library()

WELL_KNOWN = "/.well-known/csaf/" + provider.TLP_FOLDER + "/"


@register.simple_tag
def csaf_links(advisory: Any) -> dict[str, str] | None:
    """URLs of the CSAF document (`json`), its `sha256`, `sha512`, `asc` (when signed) and the zh-Hans translation
    (`translation`, when there is one); None when the tree has no document for this advisory."""
    if not getattr(advisory, "is_public", False):
        return None
    rel = provider.find_document(advisory.advisory_id)
    if rel is None:
        return None
    root = provider.provider_root() / provider.TLP_FOLDER
    json_url = reverse("advisory_csaf", args=[advisory.advisory_id])
    links = {"json": json_url}
    for suffix in ("sha256", "sha512", "asc"):
        if (root / f"{rel}.{suffix}").is_file():
            links[suffix] = f"{WELL_KNOWN}{rel}.{suffix}"
    if provider.find_document(advisory.advisory_id, translation=True) is not None:
        links["translation"] = f"{json_url}?lang={TRANSLATION_LANG}"
    return links
