"""GET /api/v1/products, /{slug}, /{slug}/releases: the public catalog; unlisted rows do not exist."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from psirt.catalog.models import FirmwareRelease, Product
from psirt.tests.factories import make_line, make_product

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products"


@pytest.fixture
def catalog(db: None) -> dict[str, Any]:
    cameras = make_line(name_zh="网络摄像机", position=1)
    routers = make_line("routers", "Routers", position=2)
    x5 = make_product(cameras, model_numbers="X5-100, X5-200", hardware_revisions="A1,A2")
    hidden = make_product(cameras, "cam-secret", "Unannounced camera", is_public=False)
    r1 = make_product(routers, "router-r1", "Router R1")
    for position, version in [(10, "V5.4.0"), (30, "V5.10.0"), (20, "V5.5.0")]:
        FirmwareRelease.objects.create(product=x5, version=version, position=position, notes_zh=f"{version} 说明")
    FirmwareRelease.objects.create(product=x5, version="V5.4.1-EU", variant="EU", position=15)
    FirmwareRelease.objects.create(product=x5, version="V6.0.0-beta", position=40, is_public=False)
    FirmwareRelease.objects.create(product=hidden, version="V0.1", position=1)
    return {"x5": x5, "hidden": hidden, "r1": r1}


def test_list_has_public_products_with_their_line(client: Client, catalog: dict[str, Any]) -> None:
    response = client.get(PRODUCTS)
    assert response.status_code == 200
    body = response.json()
    assert [p["slug"] for p in body["results"]] == ["cam-x5", "router-r1"]
    assert body["count"] == 2 and body["links"]["next"] is None
    x5 = body["results"][0]
    assert x5["line"] == {"slug": "cameras", "name_en": "IP cameras", "name_zh": "网络摄像机"}
    assert x5["model_numbers"] == ["X5-100", "X5-200"] and x5["hardware_revisions"] == ["A1", "A2"]
    assert x5["html_url"]["en"] == "https://psirt.test/en/updates/cam-x5/"
    assert x5["releases_url"] == "https://psirt.test/api/v1/products/cam-x5/releases"
    assert "cam-secret" not in response.content.decode() and "Unannounced" not in response.content.decode()


def test_list_filters_by_line_and_pages(client: Client, catalog: dict[str, Any]) -> None:
    assert [p["slug"] for p in client.get(f"{PRODUCTS}?line=routers").json()["results"]] == ["router-r1"]
    assert client.get(f"{PRODUCTS}?line=nothing-here").json()["count"] == 0
    first = client.get(f"{PRODUCTS}?limit=1").json()
    assert first["count"] == 2 and first["links"]["next"] == "https://psirt.test/api/v1/products?limit=1&offset=1"
    second = client.get(f"{PRODUCTS}?limit=1&offset=1").json()
    assert [p["slug"] for p in second["results"]] == ["router-r1"] and second["links"]["next"] is None
    bad = client.get(f"{PRODUCTS}?line=Not%20A%20Slug")
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["line"]


def test_one_product(client: Client, catalog: dict[str, Any]) -> None:
    body = client.get(f"{PRODUCTS}/cam-x5").json()
    assert body["slug"] == "cam-x5" and body["name"] == "Camera X5" and body["line"]["slug"] == "cameras"
    assert body["support_ended"] is False and body["end_of_support"] is None


def test_releases_in_catalog_order_public_only(client: Client, catalog: dict[str, Any]) -> None:
    body = client.get(f"{PRODUCTS}/cam-x5/releases").json()
    # The standard build first (newest first, by catalog position, not by string), then the EU variant.
    assert [(r["version"], r["variant"]) for r in body["results"]] == [
        ("V5.10.0", ""),
        ("V5.5.0", ""),
        ("V5.4.0", ""),
        ("V5.4.1-EU", "EU"),
    ]
    assert body["results"][0]["notes_zh"] == "V5.10.0 说明"
    assert "beta" not in client.get(f"{PRODUCTS}/cam-x5/releases").content.decode()


@pytest.mark.parametrize("suffix", ["", "/releases"])
def test_an_unlisted_product_is_404_exactly_like_an_unknown_slug(
    client: Client, catalog: dict[str, Any], suffix: str
) -> None:
    unknown = client.get(f"{PRODUCTS}/no-such-product{suffix}")
    hidden = client.get(f"{PRODUCTS}/cam-secret{suffix}")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.content == unknown.content
    assert hidden.json() == {"detail": "No public product has this slug.", "errors": {}}


@pytest.mark.parametrize("slug", ["CAM-X5", "cam_x5", "cam--x5", "a" * 81])
def test_what_is_not_a_slug_is_404(client: Client, catalog: dict[str, Any], slug: str) -> None:
    assert client.get(f"{PRODUCTS}/{slug}").status_code == 404


def test_nul_in_a_slug_is_404(client: Client, catalog: dict[str, Any]) -> None:
    assert client.get(f"{PRODUCTS}/cam-x5%00/releases").status_code == 404


@pytest.mark.parametrize("path", [PRODUCTS, f"{PRODUCTS}/cam-x5", f"{PRODUCTS}/cam-x5/releases"])
def test_catalog_answers_carry_an_etag_that_follows_the_catalog(
    client: Client, catalog: dict[str, Any], path: str
) -> None:
    first = client.get(path)
    assert first["Cache-Control"] == "public, max-age=60, must-revalidate"
    assert client.get(path, headers={"If-None-Match": first["ETag"]}).status_code == 304
    FirmwareRelease.objects.filter(product=catalog["x5"], version="V5.10.0").update(
        download_url="https://dl.example.com/x"
    )
    Product.objects.filter(pk=catalog["x5"].pk).update(description_en="Changed.")
    changed = client.get(path, headers={"If-None-Match": first["ETag"]})
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_order_is_that_of_the_updates_page(client: Client, demo: Any) -> None:
    import datetime as dt

    from psirt.catalog.queries import public_catalog

    # One product of the first line past its end of support: the page lists it after the supported ones.
    first = Product.objects.filter(is_public=True).order_by("line__position", "name").first()
    assert first is not None
    Product.objects.filter(pk=first.pk).update(end_of_support=dt.date(2020, 1, 1))
    Product.objects.create(line=first.line, slug="zz-unlisted", name="AAA unlisted", is_public=False)
    page_order = [entry.product.slug for line in public_catalog() for entry in line.products]
    api_order = [p["slug"] for p in client.get(f"{PRODUCTS}?limit=100").json()["results"]]
    assert api_order == page_order and len(api_order) > 3
    ended = client.get(f"{PRODUCTS}/{first.slug}").json()
    assert ended["support_ended"] is True and ended["end_of_support"] == "2020-01-01"
    # Paging through in small steps gives the same order.
    paged: list[str] = []
    for offset in range(0, len(api_order), 2):
        paged += [p["slug"] for p in client.get(f"{PRODUCTS}?limit=2&offset={offset}").json()["results"]]
    assert paged == api_order
