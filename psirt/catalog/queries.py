"""Read-only views of the catalog for the public pages (and, later, "am I affected" and the advisories).

Only rows marked "listed publicly" appear here; everything is fetched in a fixed number of queries."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from psirt.catalog.models import FirmwareRelease, Product, ProductLine


@dataclass
class VariantReleases:
    """The public releases of one product variant, newest first ("" is the standard build)."""

    variant: str
    releases: list[FirmwareRelease]

    @property
    def latest(self) -> FirmwareRelease:
        return self.releases[0]


@dataclass
class ProductEntry:
    product: Product
    variants: list[VariantReleases] = field(default_factory=list)

    @property
    def release_count(self) -> int:
        return sum(len(v.releases) for v in self.variants)

    @property
    def support_ended(self) -> bool:
        eos = self.product.end_of_support
        return eos is not None and eos < timezone.localdate()

    @property
    def end_of_support(self) -> datetime.date | None:
        return self.product.end_of_support


@dataclass
class LineEntry:
    line: ProductLine
    products: list[ProductEntry]


def _public_products() -> QuerySet[Product]:
    releases = FirmwareRelease.objects.filter(is_public=True).order_by("variant", "-position")
    return (
        Product.objects.filter(is_public=True)
        .select_related("line")
        .prefetch_related(Prefetch("releases", queryset=releases, to_attr="public_releases"))
    )


def _entry(product: Product) -> ProductEntry:
    groups: dict[str, list[FirmwareRelease]] = {}
    for release in getattr(product, "public_releases", []):
        groups.setdefault(release.variant, []).append(release)
    # The standard build first, then variants by name; within each, newest (highest order) first.
    variants = [VariantReleases(variant, groups[variant]) for variant in sorted(groups, key=lambda v: (v != "", v))]
    return ProductEntry(product=product, variants=variants)


def public_catalog(query: str = "") -> list[LineEntry]:
    """Product lines with their public products (matching `query` in name, model numbers or slug)."""
    products = _public_products()
    if query:
        products = products.filter(
            Q(name__icontains=query) | Q(model_numbers__icontains=query) | Q(slug__icontains=query.replace(" ", "-"))
        )
    by_line: dict[int, list[ProductEntry]] = {}
    lines: dict[int, ProductLine] = {}
    for product in products.order_by("line__position", "line__name_en", "name"):
        lines[product.line_id] = product.line
        by_line.setdefault(product.line_id, []).append(_entry(product))
    # Products still supported first: an end-of-life recorder should not head the list.
    return [
        LineEntry(line=lines[line_id], products=sorted(entries, key=lambda e: e.support_ended))
        for line_id, entries in by_line.items()
    ]


def public_product(slug: str) -> ProductEntry | None:
    """One public product with its public releases, or None when there is no such public product."""
    product = _public_products().filter(slug=slug).first()
    return _entry(product) if product is not None else None


def public_release(slug: str, public_id: str) -> FirmwareRelease | None:
    """One public release of a public product, or None (unknown, unlisted, or of an unlisted product)."""
    return (
        FirmwareRelease.objects.filter(public_id=public_id, is_public=True, product__slug=slug, product__is_public=True)
        .select_related("product", "product__line")
        .first()
    )
