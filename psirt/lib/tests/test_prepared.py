"""An INSERT compiled before the transaction stores exactly what `save()` stores."""

from __future__ import annotations

import datetime as dt
import uuid
import warnings
import zoneinfo
from typing import Any
from unittest import mock

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.models import Field, Q, QuerySet, Value
from django.db.models.functions import Now, Upper
from django.db.models.signals import post_save
from django.db.models.sql import InsertQuery
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from psirt.catalog.models import FirmwareRelease, Product, ProductLine
from psirt.intake.models import Attachment, Report
from psirt.lib import prepared as prepared_module
from psirt.lib.crypto import seal
from psirt.lib.prepared import PreparedInsert, PreparedSelect, first_row, shortcuts, unchanged_types


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
def test_a_prepared_select_binds_a_value_into_every_place_and_pattern_it_reaches(
    django_assert_num_queries: Any,
) -> None:
    line = ProductLine.objects.create(slug="cams", name_en="Cameras")
    names = ["Camera 100%", "Camera 1000", "V5_0", "V550", "a\\b", "ab", "摄像头 X", 'It\'s "quoted"', "CAMERA"]
    for n, name in enumerate(names):
        Product.objects.create(slug=f"p-{n}", name=name, line=line, model_numbers=f"M{n}")

    def build(term: str) -> QuerySet[Product]:  # the term three times: twice in a pattern, once as it is
        return Product.objects.filter(Q(name__icontains=term) | Q(model_numbers__startswith=term) | Q(slug=term))

    prepared = PreparedSelect(lambda term: build(term).order_by("name"), str)
    for term in ["100%", "%", "_", "5_0", "a\\b", "\\", "'", '"', "摄像头", "camera", "p-3", "M1", "nothing"]:
        expected = list(build(term).order_by("name"))
        with django_assert_num_queries(2):
            found, count = prepared.run(term), prepared.count(term)
        assert [p.pk for p in found] == [p.pk for p in expected], term
        assert count == len(expected), term
    # Instances with deferred fields are what the queryset makes: the same loaded values, the rest loaded on access.
    slim = PreparedSelect(lambda slug: Product.objects.filter(slug=slug).only("name"), str)
    (made,), (queried,) = slim.run("p-0"), list(Product.objects.filter(slug="p-0").only("name"))
    assert _fields(made) == _fields(queried)
    assert made.get_deferred_fields() == queried.get_deferred_fields() != set()
    assert made.model_numbers == "M0"
    # A window is bound as parameters: every page shares the statement, and pages answer what slices answer.
    everything = Product.objects.order_by("name")
    paged = PreparedSelect(lambda slug: everything.exclude(slug=slug), str)
    for limit, offset in [(3, 0), (3, 3), (3, 8), (5, 20)]:
        assert [p.pk for p in paged.run("none", window=(limit, offset))] == [
            p.pk for p in everything[offset : offset + limit]
        ]


@pytest.mark.django_db
def test_a_prepared_select_refuses_values_it_cannot_bind() -> None:
    with pytest.raises(ValueError, match="reaches its SQL 0 times"):
        PreparedSelect(lambda slug: Product.objects.filter(slug=slug.upper()), str).run("cam")
    with pytest.raises(ValueError, match="changed in a way binding cannot repeat"):
        PreparedSelect(lambda slug: Product.objects.filter(slug=slug.split("%")[0]), str).run("cam")
    with pytest.raises(TypeError):
        PreparedSelect(lambda pk: Product.objects.filter(pk=pk), int).run("1")
    with pytest.raises(ValueError, match="no prefetch"):
        PreparedSelect(lambda pk: Product.objects.filter(pk=pk).prefetch_related("releases"), int).run(1)
    with pytest.raises(ValueError, match="takes no window"):
        PreparedSelect(lambda pk: first_row(Product.objects.filter(pk=pk)), int).run(1, window=(1, 0))


def _compiled(obj: Report, fields: list) -> tuple[str, list]:
    """The INSERT Django's compiler writes for `obj` (what `save()` runs)."""
    query = InsertQuery(Report)
    query.insert_values(fields, [obj])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = list(Report._meta.db_returning_fields)
    ((sql, params),) = compiler.as_sql()
    return sql, list(params)


@pytest.mark.django_db
def test_a_kept_statement_is_the_one_the_compiler_writes_with_the_values_it_adapts():
    _SEALED.update(name=seal("Ana"), email=seal("ana@x.test"), description=seal("d"))
    PreparedInsert(_report(4))  # the statement is kept from here on
    second = _report(5)
    second.number, second.tracking_id = 5, "VR-2026-0005"
    fields = [f for f in Report._meta.local_concrete_fields if not f.generated and f is not Report._meta.auto_field]
    # The same clock for both (auto_now columns take it when the values are adapted).
    with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2026, 3, 4, tzinfo=dt.UTC)):
        kept = PreparedInsert(second)
        sql, params = _compiled(second, fields)
    assert (kept.sql, kept.params()) == (sql, params)
    with transaction.atomic():
        kept.run()
    assert Report.objects.get(pk=second.pk).tracking_id == "VR-2026-0005"


@pytest.mark.django_db
def test_an_expression_value_gets_its_own_statement_and_leaves_the_kept_one_alone():
    _SEALED.update(name=seal("Ana"), email=seal("ana@x.test"), description=seal("d"))
    plain = PreparedInsert(_report(6))
    shouted = _report(7)
    shouted.number, shouted.tracking_id = 7, "VR-2026-0007"
    shouted.email_hash = Upper(Value("h" * 64))
    insert = PreparedInsert(shouted)
    assert "UPPER" in insert.sql and "UPPER" not in plain.sql
    with transaction.atomic():
        insert.run()
    assert Report.objects.get(pk=shouted.pk).email_hash == "H" * 64
    assert PreparedInsert(_report(8)).sql == plain.sql
    # An expression that binds no value cannot be prepared, kept statement or not.
    timed = _report(9)
    timed.created_at = Now()
    with pytest.raises(ValueError, match="one value per field"):
        PreparedInsert(timed)


# Values of every type a column may be given, hostile ones included (subclasses of str and int, lazy text).
_PROBES: list[Any] = [
    "",
    "plain",
    "溢出 <script>%_'\"",
    "x" * 5000,
    None,
    True,
    False,
    0,
    -1,
    2**31 - 1,
    2**62,
    seal("sealed"),
    seal(""),
    mark_safe("<b>safe</b>"),
    gettext_lazy("Lazy text"),
    dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 4, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    dt.datetime(2026, 10, 25, 1, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")),
    dt.date(2026, 5, 1),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
]


@pytest.mark.django_db
def test_a_value_written_as_it_is_is_what_the_field_would_write():
    """Every field of every model, on this database: a value of a type `unchanged_types` names comes out of the
    field's own adaptation unchanged (same type, same value), so taking it without the calls writes the same."""
    checked = 0
    for model in apps.get_models():
        for field in model._meta.local_concrete_fields:
            unchanged = unchanged_types(field, connection)
            for value in _PROBES:
                if type(value) not in unchanged:
                    continue
                adapted = field.get_db_prep_save(value, connection=connection)
                assert type(adapted) is type(value) and adapted == value, (model, field.name, value)
                checked += 1
    assert checked > 100


@pytest.mark.django_db
def test_a_shortcut_adapts_a_value_as_the_field_would():
    """Every field of every model, on this database: a value of a type `shortcuts` names is adapted by its shortcut
    to exactly what the field's own adaptation gives, or left to the field (a naive datetime: the field warns and
    makes it aware)."""
    checked = set()
    for model in apps.get_models():
        for field in model._meta.local_concrete_fields:
            quick = shortcuts(field, connection)
            for value in [*_PROBES, dt.datetime(2026, 3, 4, 5, 6, 7)]:
                shortcut = quick.get(type(value))
                if shortcut is None:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    expected = field.get_db_prep_save(value, connection=connection)
                adapted = shortcut(value)
                if value is not None and isinstance(value, dt.datetime) and value.tzinfo is None:
                    assert adapted is prepared_module._SLOW, (model, field.name)
                    continue
                assert type(adapted) is type(expected) and adapted == expected, (model, field.name, value)
                checked.add(type(value))
    assert {dt.datetime, type(seal("x"))} <= checked
    assert (uuid.UUID in checked) != connection.features.has_native_uuid_field


@pytest.mark.django_db
def test_a_moment_several_columns_share_is_adapted_once_and_a_naive_one_by_its_field():
    _SEALED.update(name=seal("D"), email=seal("d@x.test"), description=seal("d"))
    report = _report(10)  # created_at, accepted_guidelines_at and token_issued_at: one moment
    report.ack_due_at = dt.datetime(2026, 3, 9, 17, tzinfo=dt.UTC)
    PreparedInsert(_report(12), late=("number", "tracking_id"))  # the statement is kept from here on
    ops = type(connection.ops)
    real = ops.adapt_datetimefield_value
    # The shapes are worked out again under the spy (they keep the database's adaptation), then forgotten.
    with (
        mock.patch.object(ops, "adapt_datetimefield_value", autospec=True, side_effect=real) as adapt,
        mock.patch.dict(prepared_module._SHAPES, clear=True),
    ):
        insert = PreparedInsert(report, late=("number", "tracking_id"))
    # The shared moment, the deadline and updated_at (auto_now: the clock's value, set on the instance).
    assert adapt.call_count == 3
    names = [f.name for f in report._meta.local_concrete_fields if f.name != "id"]
    params = dict(zip(names, insert._params, strict=True))
    moment = real(connection.ops, report.created_at)
    assert params["created_at"] == params["accepted_guidelines_at"] == params["token_issued_at"] == moment
    assert params["ack_due_at"] == real(connection.ops, report.ack_due_at)
    assert params["updated_at"] == real(connection.ops, report.updated_at) and report.updated_at > report.created_at
    naive = _report(11)
    naive.ack_due_at = dt.datetime(2026, 3, 9, 17)
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        insert = PreparedInsert(naive)
    field = Report._meta.get_field("ack_due_at")
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        expected = field.get_db_prep_save(dt.datetime(2026, 3, 9, 17), connection=connection)
    assert dict(zip(names, insert._params, strict=True))["ack_due_at"] == expected


@pytest.mark.django_db
def test_plain_values_are_taken_without_the_field_calls():
    """A text or boolean value is bound as it is; a date or a lazy text still goes through its field (the
    database's date format, the text)."""
    _SEALED.update(name=seal("C"), email=seal("c@x.test"), description=seal("d"))
    report = _report(4)
    report.source = gettext_lazy("web")  # type: ignore[assignment]
    adapted: list[str] = []
    real = Field.get_db_prep_save

    def counting(field: Field, value: Any, connection: Any) -> Any:  # type: ignore[type-arg]
        adapted.append(field.name)
        return real(field, value, connection)

    with mock.patch.object(Field, "get_db_prep_save", counting):
        insert = PreparedInsert(report, late=("number", "tracking_id"))
    names = [f.name for f in report._meta.local_concrete_fields if f.name != "id"]
    params = dict(zip(names, insert._params, strict=True))
    assert "email_hash" not in adapted and "language" not in adapted and "credit_anonymous" not in adapted
    assert params["email_hash"] == "h" * 64 and params["credit_anonymous"] is False
    assert "source" in adapted and type(params["source"]) is str and params["source"] == "web"
    # A date goes through its field; an aware datetime through the database's adaptation alone, and a sealed text
    # gives its token.
    assert "proposed_disclosure_date" in adapted
    assert params["proposed_disclosure_date"] == connection.ops.adapt_datefield_value(dt.date(2026, 5, 1))
    assert "created_at" not in adapted and "description" not in adapted
    assert params["created_at"] == connection.ops.adapt_datetimefield_value(report.created_at)
    assert params["description"] == _SEALED["description"].token  # type: ignore[attr-defined]
