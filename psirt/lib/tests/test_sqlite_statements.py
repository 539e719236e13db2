"""Statement texts are rewritten to SQLite's placeholders once per process, with the same result as Django's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db.backends.sqlite3.base import SQLiteCursorWrapper

from psirt.lib.sqlite import base
from psirt.lib.tests.test_sqlite_writers import insert, open_database, queued, use

STATEMENTS = [
    "SELECT x FROM t WHERE x = %s",
    "SELECT x FROM t WHERE x = %s AND 'a%%s' <> %s",  # a literal "%s" is written "%%s"
    "SELECT '100%%' FROM t WHERE x IN (%s, %s, %s)",
    "SELECT x FROM t",
]


@pytest.fixture(params=["file", ":memory:"])
def database(request: pytest.FixtureRequest, tmp_path: Path, django_db_blocker: Any) -> Iterator[Path]:
    """A file database (its cursor queues writers) or an in-memory one (it does not) under the alias `queued`."""
    name = str(tmp_path / "psirt.sqlite3") if request.param == "file" else ":memory:"
    with django_db_blocker.unblock():
        yield from use(open_database(name), tmp_path)


def test_a_statement_is_rewritten_as_django_rewrites_it(database: Path) -> None:
    base._CONVERTED.clear()
    with queued().cursor() as cursor:
        converting = cursor.cursor
        assert isinstance(converting, base.ConvertingCursor)
        for statement in STATEMENTS:
            for _ in range(2):  # first rewritten, then taken from what was kept
                assert converting.convert_query(statement) == SQLiteCursorWrapper.convert_query(converting, statement)  # type: ignore[attr-defined]
        # The named style depends on the call's names: rewritten every time, never kept.
        named = "SELECT x FROM t WHERE x = %(a)s OR x = %(b)s"
        assert converting.convert_query(named, param_names=["a", "b"]) == "SELECT x FROM t WHERE x = :a OR x = :b"
        assert named not in base._CONVERTED


def test_a_statement_sent_again_is_not_rewritten_again(database: Path) -> None:
    base._CONVERTED.clear()
    select = "SELECT x FROM t WHERE x >= %s ORDER BY x"
    insert(1)
    with queued().cursor() as cursor:
        cursor.execute(select, [1])
    with mock.patch.object(SQLiteCursorWrapper, "convert_query", side_effect=AssertionError("rewritten again")):
        insert(2)
        with queued().cursor() as cursor:
            cursor.execute(select, [1])
            assert cursor.fetchall() == [(1,), (2,)]
    # Named parameters still work (and are rewritten by Django's own method).
    with queued().cursor() as cursor:
        cursor.execute("SELECT x FROM t WHERE x = %(v)s", {"v": 2})
        assert cursor.fetchall() == [(2,)]


def test_the_kept_statements_are_bounded(database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "MAX_CONVERTED", 3)
    base._CONVERTED.clear()
    with queued().cursor() as cursor:
        for value in range(10):
            cursor.execute(f"SELECT x FROM t WHERE x = {value} OR x = %s", [value])
            assert len(base._CONVERTED) <= 3
