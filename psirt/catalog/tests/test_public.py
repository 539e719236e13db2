"""The public Software updates pages: list, product page, search, empty state, hostile input."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from psirt.catalog.tests.factories import make_line, make_product, make_release

EMPTY = "There is currently no information to display."

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    line = make_line()
    x5 = make_product(line, "cam-x5", name="Camera X5")
    make_release(x5, "V5.5.0 build 230314", release_date=datetime.date(2023, 3, 14), notes_en="- first")
    make_release(x5, "V5.7.3 build 240611", release_date=datetime.date(2024, 6, 11), notes_en="- **newest** fix")
    make_release(x5, "V5.7.3 build 240625", variant="EU", release_date=datetime.date(2024, 6, 25))
    thermo = make_line("thermostats", name_en="Thermostats", name_zh="温控器", position=2)
    t6 = make_product(thermo, "thermo-t6", name="Thermostat T6", model_numbers="T6-WH")
    make_release(t6, "V2.1.0 build 230418")
    return {"line": line, "x5": x5, "t6": t6}


def test_updates_page_lists_lines_products_and_latest_release(client, catalog):
    response = client.get(reverse("catalog:updates"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "IP cameras" in html and "Thermostats" in html
    assert "Camera X5" in html and "Thermostat T6" in html
    # The latest standard build and the EU variant's build are both shown; the oldest is only on the product page.
    assert "V5.7.3 build 240611" in html
    assert "V5.7.3 build 240625" in html
    assert "V5.5.0 build 230314" not in html
    assert 'href="https://dl.example.com/fw.zip"' in html
    # The vendor's statement about updates (editable page text) is shown.
    assert "maintenance release" in html
    assert EMPTY not in html


def test_updates_page_says_so_when_the_catalog_is_empty(client):
    response = client.get(reverse("catalog:updates"))
    assert response.status_code == 200
    assert EMPTY in response.content.decode()


def test_updates_page_renders_in_chinese(client, catalog):
    response = client.get("/zh-hans/updates/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="zh-Hans"' in html
    # Chinese names of lines and the Chinese default introduction text.
    assert "温控器" in html
    assert "固件更新" in html


def test_empty_updates_page_renders_under_chinese_prefix(client):
    response = client.get("/zh-hans/updates/")
    assert response.status_code == 200
    # Until the Chinese catalogue is compiled the sentence may still be English; the page must render.
    assert 'class="empty"' in response.content.decode()


def test_product_page_lists_every_release_newest_first_per_variant(client, catalog):
    response = client.get(reverse("catalog:product", args=["cam-x5"]))
    assert response.status_code == 200
    html = response.content.decode()
    newest, oldest = html.index("V5.7.3 build 240611"), html.index("V5.5.0 build 230314")
    assert newest < oldest
    assert "Variant EU" in html
    assert "<strong>newest</strong>" in html  # release notes are Markdown


def test_unknown_product_gets_a_friendly_404(client, catalog):
    response = client.get(reverse("catalog:product", args=["no-such-product"]))
    assert response.status_code == 404
    html = response.content.decode()
    assert "Product not found" in html
    assert reverse("catalog:updates") in html


def test_hidden_products_and_releases_are_not_public(client, catalog):
    from psirt.catalog import services

    services.update_product(actor=None, product=catalog["t6"], is_public=False)
    hidden = catalog["x5"].releases.get(version="V5.7.3 build 240611")
    services.update_release(actor=None, release=hidden, is_public=False)
    html = client.get(reverse("catalog:updates")).content.decode()
    assert "Thermostat T6" not in html
    assert "V5.7.3 build 240611" not in html
    assert client.get(reverse("catalog:product", args=["thermo-t6"])).status_code == 404


def test_search_filters_by_product_name_and_model_number(client, catalog):
    html = client.get(reverse("catalog:updates"), {"q": "thermostat"}).content.decode()
    assert "Thermostat T6" in html and "Camera X5" not in html
    html = client.get(reverse("catalog:updates"), {"q": "X5-200"}).content.decode()
    assert "Camera X5" in html and "Thermostat T6" not in html


def test_search_without_match_says_so_and_offers_the_full_list(client, catalog):
    response = client.get(reverse("catalog:updates"), {"q": "toaster"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "No product matches" in html and "toaster" in html


def test_overlong_search_is_refused_with_a_message(client, catalog):
    response = client.get(reverse("catalog:updates"), {"q": "x" * 5000})
    assert response.status_code == 400
    html = response.content.decode()
    assert "too long" in html
    assert "x" * 101 not in html  # the huge value is not echoed back


def test_search_text_is_shown_inert(client, catalog):
    response = client.get(reverse("catalog:updates"), {"q": '<script>alert(1)</script>"'})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html


def test_control_characters_in_search_are_ignored(client, catalog):
    response = client.get(reverse("catalog:updates"), {"q": "Camera\x00\u200b X5"})
    assert response.status_code == 200
    assert "Camera X5" in response.content.decode()


def test_html_in_catalog_texts_is_rendered_inert(client):
    line = make_line(name_en="<b>Lines</b>", description_en="<script>alert('line')</script>")
    product = make_product(
        line, "evil", name="<img src=x onerror=alert(1)>", description_en="[click](javascript:alert(1))"
    )
    make_release(product, "<svg onload=alert(1)>", notes_en="<iframe src=//evil.example></iframe>")
    for url in (reverse("catalog:updates"), reverse("catalog:product", args=["evil"])):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<svg onload" not in html
        assert "<iframe" not in html
        assert 'href="javascript' not in html.lower()


def test_end_of_support_is_explained(client, catalog):
    from psirt.catalog import services

    services.update_product(actor=None, product=catalog["t6"], end_of_support=datetime.date(2024, 12, 31))
    html = client.get(reverse("catalog:product", args=["thermo-t6"])).content.decode()
    assert "ended on 2024-12-31" in html


def test_download_links_are_only_http(client, catalog):
    # A raw database edit (bypassing validation) must still not produce a javascript: link.
    from psirt.catalog.models import FirmwareRelease

    FirmwareRelease.objects.filter(product=catalog["t6"]).update(download_url="javascript:alert(1)")
    html = client.get(reverse("catalog:product", args=["thermo-t6"])).content.decode()
    assert "javascript:" not in html
