"""The public page of one product and its releases. The overview of every product (`/updates/`) is in
`psirt.pages.views.public`, because it shows the editable page's introduction."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from psirt.catalog.queries import public_product
from psirt.lib.search import MAX_QUERY_CHARS


def product(request: HttpRequest, slug: str) -> HttpResponse:
    """Every public release of one product, newest first per variant, with release notes."""
    entry = public_product(slug)
    if entry is None:
        # A friendly page with the way back, not the bare error page: people follow old links to products.
        return render(request, "catalog/product_not_found.html", {"max_query": MAX_QUERY_CHARS}, status=404)
    return render(request, "catalog/product.html", {"entry": entry, "product": entry.product})
