"""Creating and dropping PostgreSQL databases: the one helper the test suite (conftest.py, the tests of processes
and backups) and the benchmarks (`bench/_harness.py`) share. Imports neither pytest nor Django, so a benchmark can
use it as well as a test.

Names are quoted as identifiers, so a name is created exactly as spelled; a drop disconnects whoever is still
connected (`WITH (FORCE)`), so a database a killed process left open never outlives the run that made it."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit


def database_url(server: str, name: str) -> str:
    """The URL of the database `name` on the server of the URL `server` (any database of it, or none); the name
    percent-encoded, as libpq reads it."""
    return urlsplit(server)._replace(path="/" + quote(name, safe="")).geturl()


def new_database_name(prefix: str) -> str:
    """A name no other process picks: `prefix`, this process id and random hex."""
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"


def admin_connection(server: str, *, connect_timeout: int = 10) -> Any:
    """An autocommit connection to the server's `postgres` database (CREATE and DROP DATABASE run outside a
    transaction)."""
    import psycopg

    return psycopg.connect(database_url(server, "postgres"), autocommit=True, connect_timeout=connect_timeout)


def create_database(server: str, name: str, *, template: str | None = None, replace: bool = False) -> str:
    """Create the database `name` on `server` (a copy of `template` when given) and answer its URL. With
    `replace`, a database of that name left by an earlier run is dropped first; without, an existing one is an
    error (psycopg's DuplicateDatabase)."""
    from psycopg import sql

    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
    with admin_connection(server) as conn:
        if replace:
            conn.execute(_drop(name))
        conn.execute(statement)
    return database_url(server, name)


def drop_database(server: str, name: str) -> None:
    """Drop the database `name` on `server` if it exists, disconnecting any session still on it."""
    with admin_connection(server) as conn:
        conn.execute(_drop(name))


@contextlib.contextmanager
def empty_postgres_database(server: str, prefix: str) -> Iterator[str]:
    """A new, empty database on `server` with a name of its own, dropped at the end; its URL."""
    name = new_database_name(prefix)
    url = create_database(server, name)
    try:
        yield url
    finally:
        drop_database(server, name)


def _drop(name: str) -> Any:
    from psycopg import sql

    return sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
