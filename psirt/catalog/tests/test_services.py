"""Catalog services: validation with clear messages, audit in the same transaction, polite refusals."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.utils import translation

from psirt.audit.models import AuditEvent
from psirt.audit.services import verify_chain
from psirt.catalog import services
from psirt.catalog.exceptions import CatalogInUse
from psirt.catalog.models import FirmwareRelease, Product
from psirt.catalog.tests.factories import make_line, make_product, make_release

pytestmark = pytest.mark.django_db


def test_creating_a_release_without_order_makes_it_the_newest(lead):
    product = make_product(make_line())
    first = make_release(product, "V1.0")
    second = make_release(product, "V1.1")
    eu = make_release(product, "V1.1", variant="EU")
    assert (first.position, second.position, eu.position) == (1, 2, 1)


def test_every_change_is_audited_with_actor(lead):
    line = services.create_product_line(actor=lead, slug="cams", name_en="Cameras")
    product = services.create_product(actor=lead, line=line, slug="x5", name="X5")
    release = services.create_release(actor=lead, product=product, version="V1.0")
    services.update_release(actor=lead, release=release, notes_en="new notes")
    services.delete_release(actor=lead, release=release)
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", "actor_id", "target_id"))
    assert [a for a, _, _ in actions] == [
        "catalog.line.create",
        "catalog.product.create",
        "catalog.release.create",
        "catalog.release.update",
        "catalog.release.delete",
    ]
    assert all(actor == lead.pk for _, actor, _ in actions)
    assert actions[2][2] == str(release.public_id)
    assert verify_chain().ok


def test_update_without_changes_writes_nothing():
    product = make_product(make_line())
    before = AuditEvent.objects.count()
    services.update_product(actor=None, product=product, name=product.name)
    assert AuditEvent.objects.count() == before


def test_duplicate_position_gets_a_field_message_not_an_integrity_error():
    product = make_product(make_line())
    make_release(product, "V1.0", position=3)
    with pytest.raises(ValidationError) as exc:
        make_release(product, "V1.1", position=3)
    assert "position" in exc.value.message_dict
    assert "already used by V1.0" in exc.value.message_dict["position"][0]
    assert "next free number is 4" in exc.value.message_dict["position"][0]


def test_duplicate_version_within_variant_is_refused_but_other_variant_is_fine():
    product = make_product(make_line())
    make_release(product, "V1.0")
    with pytest.raises(ValidationError) as exc:
        make_release(product, "V1.0")
    assert "version" in exc.value.message_dict
    make_release(product, "V1.0", variant="EU")
    assert FirmwareRelease.objects.filter(version="V1.0").count() == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("download_url", "javascript:alert(1)", "https://"),
        ("download_url", "ftp://example.com/fw.bin", "https://"),
        ("position", 10**12, "up to"),
        ("release_date", datetime.date(9999, 1, 1), "too far"),
        ("release_date", datetime.date(1900, 1, 1), "too early"),
    ],
)
def test_bad_release_values_are_refused_with_a_message(field, value, message):
    product = make_product(make_line())
    with pytest.raises(ValidationError) as exc:
        make_release(product, "V1.0", **{field: value})
    assert message in " ".join(exc.value.message_dict[field])
    assert not FirmwareRelease.objects.exists()


@pytest.mark.parametrize("slug", ["Upper", "with space", "under_score", "-lead", "trail-", "a--b", "x" * 81, ""])
def test_bad_slugs_are_refused(slug):
    with pytest.raises(ValidationError) as exc:
        make_line(slug=slug)
    assert "slug" in exc.value.message_dict


def test_deleting_a_line_with_products_is_refused_politely():
    line = make_line()
    make_product(line)
    with pytest.raises(CatalogInUse) as exc:
        services.delete_product_line(actor=None, line=line)
    assert "still has 1 product" in str(exc.value)


def test_deleting_a_product_referenced_elsewhere_is_refused_politely():
    product = make_product(make_line())
    make_release(product, "V1.0")
    # Cases and advisories protect the products and releases they refer to (on_delete=PROTECT).
    with (
        mock.patch.object(Product, "delete", side_effect=ProtectedError("referenced", set())),
        pytest.raises(CatalogInUse) as exc,
    ):
        services.delete_product(actor=None, product=product)
    assert "listed publicly" in str(exc.value)
    assert Product.objects.filter(pk=product.pk).exists()
    assert not AuditEvent.objects.filter(action="catalog.product.delete").exists()


def test_deleting_a_product_deletes_its_releases_and_is_audited():
    product = make_product(make_line())
    make_release(product, "V1.0")
    make_release(product, "V1.1")
    services.delete_product(actor=None, product=product)
    assert not FirmwareRelease.objects.exists()
    event = AuditEvent.objects.get(action="catalog.product.delete")
    assert event.data == {"slug": "cam-x5", "releases": 2}


def test_unknown_update_fields_are_a_programming_error():
    product = make_product(make_line())
    with pytest.raises(TypeError):
        services.update_product(actor=None, product=product, pk=99)


def test_refusing_to_delete_a_line_counts_its_products_in_singular_and_plural():
    line = make_line()
    make_product(line)
    with pytest.raises(CatalogInUse) as exc:
        services.delete_product_line(actor=None, line=line)
    assert "still has 1 product. Move it to another line or delete it first." in str(exc.value)
    make_product(line, slug="second-product", name="Second product")
    with pytest.raises(CatalogInUse) as exc:
        services.delete_product_line(actor=None, line=line)
    assert "still has 2 products. Move them to another line" in str(exc.value)
    with translation.override("zh-hans"), pytest.raises(CatalogInUse) as exc:
        services.delete_product_line(actor=None, line=line)
    assert "此产品线下仍有 2 个产品" in str(exc.value)
