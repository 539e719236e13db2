"""The one helper that creates and drops PostgreSQL databases for the tests and the benchmarks."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import psycopg
import pytest

from psirt.tests.databases import (
    create_database,
    database_url,
    drop_database,
    empty_postgres_database,
    new_database_name,
)
from psirt.tests.installation import postgres_server

ROOT = Path(__file__).resolve().parents[2]


def _exists(server: str, name: str) -> bool:
    with psycopg.connect(database_url(server, "postgres"), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def test_no_other_code_creates_or_drops_a_database() -> None:
    statement = re.compile(r"\b(CREATE|DROP)\s+DATABASE\b", re.IGNORECASE)
    helper = ROOT / "psirt" / "tests" / "databases.py"
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in [ROOT / "conftest.py", *ROOT.glob("psirt/**/*.py"), *ROOT.glob("bench/**/*.py")]
        if path != helper
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if statement.search(line)
    ]
    assert found == [], "create and drop databases through psirt.tests.databases"


def test_database_url_names_the_database_on_the_same_server() -> None:
    assert database_url("postgres://u@h:5432/test", "other") == "postgres://u@h:5432/other"
    assert database_url("postgresql://u@h:5432", "other") == "postgresql://u@h:5432/other"
    assert database_url("postgres://u@h/test", "a b/c") == "postgres://u@h/a%20b%2Fc"
    assert new_database_name("x") != new_database_name("x")


def test_a_database_is_created_as_spelled_and_dropped_with_its_sessions() -> None:
    server = postgres_server()
    name = new_database_name('Psirt Odd-"Name"')  # mixed case, a space, a quote: quoted, never folded or injected
    url = create_database(server, name)
    try:
        assert _exists(server, name)
        left_open = psycopg.connect(url)
        left_open.execute("CREATE TABLE kept (id int)")
        left_open.commit()
        with pytest.raises(psycopg.errors.DuplicateDatabase):
            create_database(server, name)
        copy = new_database_name("psirt_copy")
        left_open.close()  # a template is copied only while nobody is connected to it
        copy_url = create_database(server, copy, template=name)
        try:
            with psycopg.connect(copy_url) as conn:
                assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)
        finally:
            drop_database(server, copy)
        still_open = psycopg.connect(url)
        drop_database(server, name)  # disconnects the session still on it
        assert not _exists(server, name)
        assert still_open.closed or still_open.broken or _query_fails(still_open)
    finally:
        drop_database(server, name)
    drop_database(server, name)  # a database that is gone: nothing to do, no error


def _query_fails(conn: psycopg.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    return False


def test_replace_drops_a_database_left_behind() -> None:
    server = postgres_server()
    name = new_database_name("psirt_left")
    url = create_database(server, name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE leftover (id int)")
        url = create_database(server, name, replace=True)
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT to_regclass('leftover')").fetchone() == (None,)
    finally:
        drop_database(server, name)


def test_an_empty_database_is_dropped_even_when_the_block_fails() -> None:
    server = postgres_server()
    with pytest.raises(RuntimeError), empty_postgres_database(server, "psirt_block") as url:
        name = unquote(url.rsplit("/", 1)[1])
        assert _exists(server, name)
        raise RuntimeError("the test failed")
    assert not _exists(server, name)
