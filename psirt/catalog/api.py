"""`GET /api/v1/products…`: the public catalog as JSON — products with their line, one product, its releases.

Only products and releases "listed publicly" exist here (`psirt.catalog.queries`): the slug of an unlisted
product answers the same 404 as a slug nobody ever used."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Path, Query, Router, Schema
from pydantic import Field

from psirt.catalog import queries
from psirt.catalog.models import Product, ProductLine
from psirt.lib.api import (
    MAX_LIMIT,
    Links,
    PageLinks,
    Problem,
    api_url,
    html_links,
    page_links,
    problem_json,
    public_json,
)

router = Router(tags=["catalog"])

NOT_FOUND = "No public product has this slug."
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
PER_PAGE = 50


class LineOut(Schema):
    slug: str
    name_en: str
    name_zh: str = Field(description="Empty when not translated")


class ProductOut(Schema):
    slug: str
    name: str
    line: LineOut
    model_numbers: list[str]
    hardware_revisions: list[str]
    description_en: str
    description_zh: str = Field(description="Empty when not translated")
    end_of_support: dt.date | None = Field(description="Last day of firmware updates; null when not announced")
    support_ended: bool
    url: str = Field(description="This product in the API")
    releases_url: str
    html_url: PageLinks


class ProductPage(Schema):
    count: int
    limit: int
    offset: int
    links: Links
    results: list[ProductOut]


class ProductParams(Schema):
    line: str = Field("", description="Only the products of this product line (its slug)")
    limit: int = Field(PER_PAGE, ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}")
    offset: int = Field(0, ge=0, le=1_000_000)


class ReleaseOut(Schema):
    version: str
    variant: str = Field(description="Region or operator variant; empty for the standard build")
    release_date: dt.date | None
    download_url: str
    notes_en: str
    notes_zh: str = Field(description="Empty when not translated")


class ReleaseList(Schema):
    product: str
    results: list[ReleaseOut] = Field(
        description="Catalog order: the standard build first, then each variant by name; newest first within each"
    )


ProductSlug = Path(..., description="The product's slug, as in /updates/<slug>/", examples=["ip-camera-x5"])


def _line(line: ProductLine) -> dict[str, str]:
    return {"slug": line.slug, "name_en": line.name_en, "name_zh": line.name_zh}


def _product(product: Product) -> dict[str, Any]:
    eos = product.end_of_support
    return {
        "slug": product.slug,
        "name": product.name,
        "line": _line(product.line),
        "model_numbers": product.model_number_list,
        "hardware_revisions": [r.strip() for r in product.hardware_revisions.split(",") if r.strip()],
        "description_en": product.description_en,
        "description_zh": product.description_zh,
        "end_of_support": eos,
        "support_ended": eos is not None and eos < timezone.localdate(),
        "url": api_url("product", product.slug),
        "releases_url": api_url("product_releases", product.slug),
        "html_url": html_links("catalog:product", product.slug),
    }


def _catalog_order() -> QuerySet[Product]:
    """Public products in the order of the /updates/ page (`psirt.catalog.queries.public_catalog`: by line, then
    supported before past end of support, then name), sorted and sliced in the database so that a page of a large
    catalog reads only its own rows, without their releases."""
    ended = Case(
        When(end_of_support__lt=timezone.localdate(), then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    return (
        Product.objects.filter(is_public=True)
        .select_related("line")
        .annotate(support_ended_rank=ended)
        .order_by("line__position", "line__name_en", "line_id", "support_ended_rank", "name", "id")
    )


def _public_product(slug: str) -> queries.ProductEntry | None:
    # Anything that is not a slug cannot name a product (and a NUL never reaches PostgreSQL).
    return queries.public_product(slug) if SLUG.match(slug) and len(slug) <= 80 else None


@router.get(
    "",
    response={200: ProductPage, 304: None, 400: Problem, 422: Problem},
    auth=None,
    by_alias=True,  # "zh-Hans" keys: the OpenAPI description must name them as sent
    summary="Public products",
    operation_id="products",
    url_name="products",
)
def product_list(request: HttpRequest, params: Query[ProductParams]) -> HttpResponse:
    """The products listed publicly, in the order of the /updates/ page (by product line; within a line,
    supported products before those past their end of support, each by name), a page at a time."""
    if params.line and not SLUG.match(params.line):
        message = "Use a product line's slug: lower-case letters, digits and hyphens."
        return problem_json(400, message, {"line": [message]})
    products = _catalog_order()
    if params.line:
        products = products.filter(line__slug=params.line)
    count = products.count()
    raw = params.model_dump()
    after = params.offset + params.limit
    page = {
        "count": count,
        "limit": params.limit,
        "offset": params.offset,
        "links": page_links("products", raw, offset=params.offset, limit=params.limit, count=count),
        "results": [_product(p) for p in products[params.offset : after]],
    }
    return public_json(request, ProductPage, page)


@router.get(
    "/{slug}",
    response={200: ProductOut, 304: None, 404: Problem, 422: Problem},
    auth=None,
    by_alias=True,  # "zh-Hans" keys: the OpenAPI description must name them as sent
    summary="One product",
    operation_id="product",
    url_name="product",
)
def product_detail(request: HttpRequest, slug: str = ProductSlug) -> HttpResponse:
    """A product listed publicly, with its line."""
    entry = _public_product(slug)
    if entry is None:
        return problem_json(404, NOT_FOUND)
    return public_json(request, ProductOut, _product(entry.product))


@router.get(
    "/{slug}/releases",
    response={200: ReleaseList, 304: None, 404: Problem, 422: Problem},
    auth=None,
    by_alias=True,  # "zh-Hans" keys: the OpenAPI description must name them as sent
    summary="Firmware releases of a product",
    operation_id="product_releases",
    url_name="product_releases",
)
def product_releases(request: HttpRequest, slug: str = ProductSlug) -> HttpResponse:
    """The public firmware releases of a public product, in catalog order (as on its /updates/ page)."""
    entry = _public_product(slug)
    if entry is None:
        return problem_json(404, NOT_FOUND)
    releases = [
        {
            "version": r.version,
            "variant": r.variant,
            "release_date": r.release_date,
            "download_url": r.download_url,
            "notes_en": r.notes_en,
            "notes_zh": r.notes_zh,
        }
        for variant in entry.variants
        for r in variant.releases
    ]
    return public_json(request, ReleaseList, {"product": entry.product.slug, "results": releases})
