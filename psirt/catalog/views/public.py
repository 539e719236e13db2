"""The public page of one product and its releases, and the page of one release. The overview of every product
(`/updates/`) is in `psirt.pages.views.public`, because it shows the editable page's introduction."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from psirt.catalog import release_panel
from psirt.catalog.queries import public_product, public_release
from psirt.lib.search import MAX_QUERY_CHARS


def product(request: HttpRequest, slug: str) -> HttpResponse:
    """Every public release of one product, newest first per variant, with release notes."""
    entry = public_product(slug)
    if entry is None:
        # A friendly page with the way back, not the bare error page: people follow old links to products.
        return render(request, "catalog/product_not_found.html", {"max_query": MAX_QUERY_CHARS}, status=404)
    return render(request, "catalog/product.html", {"entry": entry, "product": entry.product})


def release(request: HttpRequest, slug: str, public_id: str) -> HttpResponse:
    """One public release: its facts, then the sections apps above the catalog register (`release_panel`)."""
    found = public_release(slug, public_id)
    if found is None:
        return render(request, "catalog/product_not_found.html", {"max_query": MAX_QUERY_CHARS}, status=404)
    context = {"release": found, "product": found.product, "sections": release_panel.sections(request, found)}
    return render(request, "catalog/release.html", context)
