"""insert_rows: multi-row INSERTs without model instances, on both engines."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from psirt.lib.bulk import MAX_ROWS, insert_rows, insert_rows_returning
from psirt.lib.crypto import seal
from psirt.mail.models import OutboxMessage
from psirt.mail.services import _FANOUT_FIELDS as FANOUT_FIELDS

pytestmark = pytest.mark.django_db


def test_rows_past_the_parameter_limit_are_split_into_statements_the_engine_accepts() -> None:
    # 2,500 one-column rows: more than SQLite's 999 parameters and more than MAX_ROWS per statement.
    names = [f"group-{i}" for i in range(2500)]
    with CaptureQueriesContext(connection) as queries:
        assert insert_rows(Group, ["name"], ([name] for name in names)) == 2500
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    if connection.vendor == "postgresql":
        # Streamed with COPY (not a bound statement), then one INSERT … SELECT from the temporary table.
        assert len(inserts) == 1 and "SELECT" in inserts[0]
    else:
        limit = connection.features.max_query_params or 65535
        assert len(inserts) == -(-2500 // min(MAX_ROWS, limit))
    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(names)


def test_returning_gives_the_inserted_rows_only_and_twice_in_one_transaction() -> None:
    Group.objects.create(name="taken")
    with transaction.atomic():
        first = insert_rows_returning(Group, ["name"], [["a"], ["taken"], ["b"]], ["name"])
        # A second call in the same transaction (PostgreSQL: a fresh temporary table).
        second = insert_rows_returning(Group, ["name"], [["b"], ["c"]], ["name"])
    assert sorted(first) == [("a",), ("b",)] and second == [("c",)]


def test_one_value_object_in_many_rows_is_stored_in_each_and_plain_text_encrypted_per_row() -> None:
    now = timezone.now()
    sealed = seal('{"same": true}')
    rows = [
        [
            uuid.uuid4(),
            now,
            "mail",
            "",
            "REF",
            1,
            f"r{i}",
            "",
            "en",
            "secret",
            "",
            sealed,
            "",
            "queued",
            0,
            now,
            now,
            "",
            "",
        ]
        for i in range(3)
    ]
    assert insert_rows(OutboxMessage, FANOUT_FIELDS, rows) == 3
    table = connection.ops.quote_name(OutboxMessage._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT context, {connection.ops.quote_name('to')} FROM {table}")
        stored = cursor.fetchall()
    assert {context for context, _to in stored} == {sealed.token}  # type: ignore[attr-defined]
    # The same plain text in every row, yet a ciphertext of its own per row.
    assert len({to for _context, to in stored}) == 3
    assert {(m.to, m.created_at, m.context) for m in OutboxMessage.objects.all()} == {("secret", now, '{"same": true}')}


def test_a_row_that_breaks_a_unique_constraint_is_skipped_and_the_others_written() -> None:
    Group.objects.create(name="taken")
    insert_rows(Group, ["name"], [["new-1"], ["taken"], ["new-2"], ["new-1"]])
    assert sorted(Group.objects.values_list("name", flat=True)) == ["new-1", "new-2", "taken"]


def test_values_are_stored_as_the_orm_stores_them() -> None:
    now = timezone.now().replace(microsecond=123456)
    key = uuid.uuid4()
    sealed = seal('{"a": 1}')
    insert_rows(
        OutboxMessage,
        FANOUT_FIELDS,
        [
            [
                key,
                now,
                "mail",
                "",
                "REF",
                3,
                "r1",
                "",
                "en",
                '["a@example.org"]',
                "",
                sealed,
                "",
                "queued",
                0,
                now,
                now + dt.timedelta(hours=1),
                "",
                "",
            ]
        ],
    )
    row = OutboxMessage.objects.get()
    assert (row.public_id, row.created_at, row.revision, row.give_up_at) == (key, now, 3, now + dt.timedelta(hours=1))
    assert (row.to, row.context, row.claimed_at) == ('["a@example.org"]', '{"a": 1}', None)
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(OutboxMessage._meta.db_table)
        cursor.execute(f"SELECT context, {connection.ops.quote_name('to')} FROM {table}")
        stored_context, stored_to = cursor.fetchone()
    # Encrypted at rest: the sealed value as its token, a plain one encrypted per row.
    assert stored_context == sealed.token  # type: ignore[attr-defined]
    assert "example.org" not in stored_to and stored_to


def test_bad_input_gets_a_clear_error() -> None:
    with pytest.raises(ValueError, match="2 values for 1 fields"):
        insert_rows(Group, ["name"], [["a", "b"]])
    with pytest.raises(ValueError, match="at least one field"):
        insert_rows(Group, [], [[]])
    assert insert_rows(Group, ["name"], []) == 0
