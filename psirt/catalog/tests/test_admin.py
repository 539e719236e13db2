"""The catalog in Django's admin (leads only): pages open, and changes are audited like the desk's."""

from __future__ import annotations

import pytest

from psirt.audit.models import AuditEvent
from psirt.catalog.models import ProductLine
from psirt.catalog.tests.factories import make_line, make_product, make_release

pytestmark = pytest.mark.django_db


def test_lead_opens_the_catalog_admin_with_release_inlines(as_lead):
    product = make_product(make_line())
    make_release(product, "V1.0 build 250101")
    assert as_lead.get("/admin/catalog/productline/").status_code == 200
    response = as_lead.get(f"/admin/catalog/product/{product.pk}/change/")
    assert response.status_code == 200
    assert "V1.0 build 250101" in response.content.decode()
    assert as_lead.get("/admin/catalog/firmwarerelease/").status_code == 200


def test_admin_changes_are_audited(as_lead, lead):
    response = as_lead.post(
        "/admin/catalog/productline/add/",
        {
            "slug": "gateways",
            "name_en": "Gateways",
            "name_zh": "",
            "description_en": "",
            "description_zh": "",
            "position": "3",
            "products-TOTAL_FORMS": "0",
            "products-INITIAL_FORMS": "0",
            "products-MIN_NUM_FORMS": "0",
            "products-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    assert ProductLine.objects.filter(slug="gateways").exists()
    event = AuditEvent.objects.get(action="catalog.line.create")
    assert event.actor == lead and event.data["via"] == "admin"


def test_admin_refuses_a_javascript_download_url(as_lead):
    product = make_product(make_line())
    release = make_release(product, "V1.0")
    response = as_lead.post(
        f"/admin/catalog/firmwarerelease/{release.pk}/change/",
        {"product": product.pk, "version": "V1.0", "position": "1", "download_url": "javascript:alert(1)"},
    )
    assert response.status_code == 200
    release.refresh_from_db()
    assert release.download_url == "https://dl.example.com/fw.zip"


@pytest.mark.parametrize("persona", ["as_handler", "as_engineer"])
def test_admin_is_for_leads_only(request, persona):
    client = request.getfixturevalue(persona)
    response = client.get("/admin/catalog/product/")
    assert response.status_code in (302, 404)
