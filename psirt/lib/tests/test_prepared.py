"""An INSERT compiled before the transaction stores exactly what `save()` stores."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import post_save

from psirt.catalog.models import FirmwareRelease, Product, ProductLine
from psirt.intake.models import Attachment, Report
from psirt.lib.crypto import seal
from psirt.lib.prepared import PreparedInsert, PreparedSelect, first_row


def _report(number: int) -> Report:
    now = dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC)
    return Report(
        public_id=uuid.uuid4(),
        year=2026,
        created_at=now,
        reporter_name=_SEALED["name"],
        reporter_email=_SEALED["email"],
        email_hash="h" * 64,
        description=_SEALED["description"],
        technical_details="",
        proposed_disclosure_date=dt.date(2026, 5, 1),
        accepted_guidelines_at=now,
        token_hash=f"{number:064d}",
        token_issued_at=now,
    )


_SEALED: dict[str, str] = {}

# Columns that differ between two reports by construction (keys, numbers) or by the clock (auto_now).
_OWN = {"id", "public_id", "tracking_id", "number", "token_hash", "updated_at"}


@pytest.mark.django_db
def test_a_prepared_insert_stores_what_save_stores():
    _SEALED.update(name=seal("Ana"), email=seal("ana@x.test"), description=seal("overflow — 溢出"))
    saved = _report(1)
    saved.number, saved.tracking_id = 1, "VR-2026-0001"
    saved.save(force_insert=True)
    prepared = _report(2)
    insert = PreparedInsert(prepared, late=("number", "tracking_id"))
    # The late values are set after compiling, as under a lock.
    prepared.number, prepared.tracking_id = 2, "VR-2026-0002"
    with transaction.atomic():
        insert.run()
    assert prepared.pk and prepared.pk != saved.pk and not prepared._state.adding
    rows = {row["tracking_id"]: row for row in Report.objects.filter(pk__in=[saved.pk, prepared.pk]).values()}
    first, second = rows["VR-2026-0001"], rows["VR-2026-0002"]
    assert second["number"] == 2 and second["public_id"] == prepared.public_id
    assert {k: v for k, v in first.items() if k not in _OWN} == {k: v for k, v in second.items() if k not in _OWN}
    # What the database holds for an encrypted column is the sealed token, as save() writes it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT description FROM intake_report WHERE id = %s", [prepared.pk])
        assert cursor.fetchone()[0] == _SEALED["description"].token  # type: ignore[attr-defined]
    assert Report.objects.get(pk=prepared.pk).description == "overflow — 溢出"


@pytest.mark.django_db
def test_a_late_foreign_key_takes_the_row_inserted_just_before():
    _SEALED.update(name=seal("B"), email=seal("b@x.test"), description=seal("d"))
    report = _report(3)
    report.number, report.tracking_id = 3, "VR-2026-0003"
    attachment = Attachment(name=seal("poc.pcap"), size=5, storage_name="ab-a.enc", content_type="x/y")
    inserts = [PreparedInsert(report), PreparedInsert(attachment, late=("report",))]
    with transaction.atomic():
        inserts[0].run()
        attachment.report = report
        inserts[1].run()
    assert Attachment.objects.get(pk=attachment.pk).report_id == report.pk


def test_models_with_save_receivers_and_unknown_late_fields_are_refused():
    def receiver(**kwargs: object) -> None:
        pass

    post_save.connect(receiver, sender=Attachment, dispatch_uid="test-prepared")
    try:
        with pytest.raises(ValueError, match="signal"):
            PreparedInsert(Attachment(name="x", size=1, storage_name="x"))
    finally:
        post_save.disconnect(sender=Attachment, dispatch_uid="test-prepared")
    with pytest.raises(ValueError, match="fields"):
        PreparedInsert(Attachment(name="x", size=1, storage_name="x"), late=("no_such_field",))


def _fields(obj: object) -> dict[str, object]:
    return {k: v for k, v in vars(obj).items() if k != "_state"}


@pytest.mark.django_db
def test_a_prepared_select_answers_what_the_queryset_answers(django_assert_num_queries: Any) -> None:
    line = ProductLine.objects.create(slug="cams", name_en="Cameras", name_zh="摄像机")
    products = [
        Product.objects.create(slug=f"p-{n}", name=f"Camera {n}", line=line, is_public=n != 2) for n in range(3)
    ]
    releases = [
        FirmwareRelease.objects.create(product=product, version=f"V1.{position}", position=position)
        for product in products
        for position in range(3)
    ]

    def build(slug: str, release_pk: int) -> QuerySet[FirmwareRelease]:  # two values, one of them a string
        return (
            FirmwareRelease.objects.filter(product__slug=slug, position__gte=0)
            .exclude(pk=release_pk)
            .select_related("product", "product__line")
            .order_by("-position")
        )

    prepared = PreparedSelect(build, str, int)
    for slug, release in [("p-0", releases[1]), ("p-1", releases[5]), ("p-1", releases[0]), ("nothing", releases[1])]:
        expected = list(build(slug, release.pk))
        with django_assert_num_queries(1):
            found = prepared.run(slug, release.pk)
            # The select_related objects came with the rows.
            names = [(r.product.name, r.product.line.name_en) for r in found]
        assert [_fields(r) for r in found] == [_fields(r) for r in expected]
        assert names == [(r.product.name, r.product.line.name_en) for r in expected]
        assert all(r._state.db == "default" and not r._state.adding for r in found)
    # An edit shows on the next run: only the statement is kept, never rows.
    Product.objects.filter(slug="p-0").update(name="Renamed")
    assert {r.product.name for r in prepared.run("p-0", releases[1].pk)} == {"Renamed"}
    first = PreparedSelect(lambda slug: first_row(Product.objects.filter(slug=slug, is_public=True)), str)
    assert [p.pk for p in first.run("p-1")] == [products[1].pk]
    assert first.run("p-2") == []


@pytest.mark.django_db
def test_a_prepared_select_refuses_values_it_cannot_bind() -> None:
    with pytest.raises(ValueError, match="reaches its SQL 0 times"):
        PreparedSelect(lambda slug: Product.objects.filter(slug__icontains=slug), str).run("cam")
    with pytest.raises(ValueError, match="reaches its SQL 2 times"):
        PreparedSelect(lambda slug: Product.objects.filter(Q(slug=slug) | Q(name=slug)), str).run("cam")
    with pytest.raises(TypeError):
        PreparedSelect(lambda pk: Product.objects.filter(pk=pk), int).run("1")
    with pytest.raises(ValueError, match="no prefetch"):
        PreparedSelect(lambda pk: Product.objects.filter(pk=pk).prefetch_related("releases"), int).run(1)
