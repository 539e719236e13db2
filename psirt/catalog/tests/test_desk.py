"""The desk's catalog editor: who may read and change it, and how bad input is answered.

Access (documented in psirt.catalog.access): every staff member reads; leads and handlers edit; product
engineers get 403 on editing pages; anonymous visitors are sent to the sign-in page."""

from __future__ import annotations

import uuid
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from conftest import client_for
from psirt.audit.models import AuditEvent
from psirt.catalog.models import FirmwareRelease, Product, ProductLine
from psirt.catalog.tests.factories import make_line, make_product, make_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    return make_product(make_line())


@pytest.fixture
def release(product):
    return make_release(product, "V1.0 build 250101")


def _release_form(**overrides):
    data = {
        "version": "V2.0 build 250301",
        "variant": "",
        "position": "2",
        "release_date": "2025-03-01",
        "download_url": "https://dl.example.com/v2.zip",
        "notes_en": "- fixes",
        "notes_zh": "- 修复",
        "is_public": "on",
    }
    data.update(overrides)
    return data


def _edit_urls(product, release):
    return [
        reverse("desk:catalog:line_create"),
        reverse("desk:catalog:line_edit", args=[product.line.slug]),
        reverse("desk:catalog:line_delete", args=[product.line.slug]),
        reverse("desk:catalog:product_create"),
        reverse("desk:catalog:product_edit", args=[product.slug]),
        reverse("desk:catalog:product_delete", args=[product.slug]),
        reverse("desk:catalog:release_create", args=[product.slug]),
        reverse("desk:catalog:release_edit", args=[release.public_id]),
        reverse("desk:catalog:release_delete", args=[release.public_id]),
    ]


def test_anonymous_is_sent_to_sign_in_for_every_desk_catalog_page(anonymous, product, release):
    urls = [reverse("desk:catalog:index"), reverse("desk:catalog:product_detail", args=[product.slug])]
    for url in urls + _edit_urls(product, release):
        response = anonymous.get(url)
        assert response.status_code == 302, url
        assert reverse("account_login") in response["Location"]
    response = anonymous.post(reverse("desk:catalog:release_delete", args=[release.public_id]))
    assert response.status_code == 302
    assert FirmwareRelease.objects.filter(pk=release.pk).exists()


def test_engineer_reads_the_catalog_without_edit_controls(as_engineer, product, release):
    response = as_engineer.get(reverse("desk:catalog:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert product.name in html
    assert reverse("desk:catalog:line_create") not in html
    response = as_engineer.get(reverse("desk:catalog:product_detail", args=[product.slug]))
    assert response.status_code == 200
    assert release.version in response.content.decode()
    assert reverse("desk:catalog:release_edit", args=[release.public_id]) not in response.content.decode()


def test_engineer_gets_403_on_every_editing_page(as_engineer, product, release):
    for url in _edit_urls(product, release):
        assert as_engineer.get(url).status_code == 403, url
        assert as_engineer.post(url, {"name_en": "x", "slug": "x"}).status_code == 403, url
    assert FirmwareRelease.objects.filter(pk=release.pk).exists()
    assert ProductLine.objects.count() == 1


@pytest.mark.parametrize("persona", ["lead", "handler"])
def test_leads_and_handlers_edit_the_catalog(request, persona):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    response = client.post(
        reverse("desk:catalog:line_create"),
        {"name_en": "Thermostats", "name_zh": "温控器", "slug": "thermostats", "position": "2"},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("desk:catalog:product_create"),
        {"line": "thermostats", "name": "T6", "slug": "t6", "model_numbers": "T6-WH", "is_public": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:catalog:product_detail", args=["t6"])
    product = Product.objects.get(slug="t6")
    response = client.post(reverse("desk:catalog:release_create", args=["t6"]), _release_form(position="1"))
    assert response.status_code == 302
    release = FirmwareRelease.objects.get(product=product)
    response = client.post(
        reverse("desk:catalog:release_edit", args=[release.public_id]),
        _release_form(position="1", notes_en="- better notes"),
    )
    assert response.status_code == 302
    release.refresh_from_db()
    assert release.notes_en == "- better notes"
    response = client.post(reverse("desk:catalog:release_delete", args=[release.public_id]))
    assert response.status_code == 302
    assert not FirmwareRelease.objects.filter(pk=release.pk).exists()
    actions = list(AuditEvent.objects.filter(actor=user).order_by("seq").values_list("action", flat=True))
    assert actions == [
        "catalog.line.create",
        "catalog.product.create",
        "catalog.release.create",
        "catalog.release.update",
        "catalog.release.delete",
    ]


def test_new_release_form_suggests_the_next_order_number(as_handler, release):
    response = as_handler.get(reverse("desk:catalog:release_create", args=[release.product.slug]))
    assert response.status_code == 200
    assert 'name="position" value="2"' in response.content.decode()


def test_duplicate_order_number_shows_a_message_and_keeps_the_input(as_handler, release):
    response = as_handler.post(
        reverse("desk:catalog:release_create", args=[release.product.slug]), _release_form(position="1")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "already used by V1.0 build 250101" in html
    assert 'value="V2.0 build 250301"' in html  # nothing typed is lost
    assert FirmwareRelease.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("position", "99999999999999999999999", "up to 1000000"),
        ("position", "-5", "greater than or equal to 0"),
        ("position", "1e9", "whole number"),
        ("release_date", "2024-13-45", "valid date"),
        ("release_date", "9999-12-31", "too far"),
        ("download_url", "javascript:alert(1)", "https://"),
        ("download_url", "file:///etc/passwd", "https://"),
        ("version", "", "required"),
        ("version", "V" * 101, "at most 100"),
        ("notes_en", "x" * 20_001, "at most 20000"),
    ],
)
def test_bad_release_input_gets_a_field_message(as_lead, product, field, value, message):
    response = as_lead.post(
        reverse("desk:catalog:release_create", args=[product.slug]), _release_form(**{field: value})
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not FirmwareRelease.objects.exists()


@pytest.mark.parametrize("slug", ["Has Caps", "../etc", "<script>", "a_b"])
def test_bad_slug_gets_one_clear_message(as_lead, slug):
    response = as_lead.post(reverse("desk:catalog:line_create"), {"name_en": "X", "slug": slug, "position": "0"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Use lower-case letters, digits and single hyphens") == 1
    assert "<script>" not in html.split("<main", 1)[1]
    assert not ProductLine.objects.exists()


def test_duplicate_slug_is_reported_on_the_field(as_lead, product):
    response = as_lead.post(
        reverse("desk:catalog:product_create"),
        {"line": product.line.slug, "name": "Other", "slug": product.slug},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_deleting_a_line_with_products_is_refused_with_a_message(as_lead, product):
    url = reverse("desk:catalog:line_delete", args=[product.line.slug])
    assert "still has 1 product" in as_lead.get(url).content.decode()
    response = as_lead.post(url, follow=True)
    assert "still has 1 product" in response.content.decode()
    assert ProductLine.objects.filter(pk=product.line.pk).exists()


def test_deleting_a_product_asks_first_and_names_the_releases_that_go_with_it(as_lead, release):
    url = reverse("desk:catalog:product_delete", args=[release.product.slug])
    response = as_lead.get(url)
    assert "Its 1 firmware release is deleted with it." in response.content.decode()
    assert Product.objects.exists()
    assert as_lead.post(url).status_code == 302
    assert not Product.objects.exists()


def test_unknown_objects_are_404(as_lead):
    assert as_lead.get(reverse("desk:catalog:product_detail", args=["nope"])).status_code == 404
    assert as_lead.get(reverse("desk:catalog:release_edit", args=[uuid.uuid4()])).status_code == 404
    assert as_lead.get("/en/desk/catalog/releases/not-a-uuid/edit/").status_code == 404
    assert as_lead.get("/en/desk/catalog/releases/1/edit/").status_code == 404


def test_catalog_forms_require_the_csrf_token(handler, product):
    client = client_for(handler, enforce_csrf=True)
    response = client.post(reverse("desk:catalog:release_create", args=[product.slug]), _release_form())
    assert response.status_code == 403
    assert not FirmwareRelease.objects.exists()


def test_release_urls_use_random_identifiers_not_integer_keys(as_lead, release):
    html = as_lead.get(reverse("desk:catalog:product_detail", args=[release.product.slug])).content.decode()
    assert f"/releases/{release.public_id}/edit/" in html
    assert f"/releases/{release.pk}/" not in html


class _FormValues(HTMLParser):
    """What a browser would submit for the page's form as it was served: inputs' values, checked boxes and the
    selected options."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.values[name] = a.get("value") or "on"
            else:
                self.values[name] = a.get("value") or ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def test_product_edit_form_preselects_the_line_and_saves_as_served(as_lead, product):
    other = make_line(slug="routers", name_en="Routers")
    url = reverse("desk:catalog:product_edit", args=[product.slug])
    page = as_lead.get(url)
    assert page.status_code == 200
    served = _FormValues()
    served.feed(page.content.decode())
    assert served.values.get("line") == product.line.slug
    response = as_lead.post(url, {**served.values, "name": "Renamed"})
    assert response.status_code == 302, response.content.decode()[:2000]
    product.refresh_from_db()
    assert product.name == "Renamed"
    assert product.line.slug == served.values["line"] != other.slug
