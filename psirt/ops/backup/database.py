"""Consistent copies of the database, one function per engine, and what the manifest says about a copy.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies every page in one step while writers go on
(WAL mode: readers never block the writer), so the copy is one committed state. PostgreSQL: a REPEATABLE READ
transaction exports its snapshot and `pg_dump --snapshot` dumps exactly that state, while the same transaction
reads the row counts, the migration state and the attachment names of that same state."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

from psirt.ops.backup.exceptions import BackupError

# The columns that name a file of the encrypted store: attachments must be in the archive; files of a stash (a
# form that failed validation, kept for a day) are carried too when present, but a stash may expire meanwhile.
ATTACHMENT_FILES = ("intake_attachment", "storage_name")


@dataclass(frozen=True)
class DatabaseFacts:
    """What the manifest records about a database copy."""

    server_version: str
    migrations: dict[str, list[str]]
    tables: dict[str, int]
    referenced_files: list[str]


def engine() -> str:
    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    if vendor == "sqlite3":
        return "sqlite"
    if vendor == "postgresql":
        return "postgresql"
    raise BackupError(f"The database engine {vendor!r} is not supported by psirt backup.")


def quote(name: str) -> str:
    """A table or column name as an SQL identifier (both engines quote with double quotes)."""
    return '"' + name.replace('"', '""') + '"'


def sqlite_facts(path: Path) -> DatabaseFacts:
    """Facts of a SQLite file, opened read-only."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        tables = {name: int(conn.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0]) for name in names}  # noqa: S608 - names from the catalogue, quoted
        migrations: dict[str, list[str]] = {}
        if "django_migrations" in tables:
            for app, name in conn.execute("SELECT app, name FROM django_migrations ORDER BY app, name"):
                migrations.setdefault(app, []).append(name)
        referenced: list[str] = []
        table, column = ATTACHMENT_FILES
        if table in tables:
            referenced = [row[0] for row in conn.execute(f"SELECT {column} FROM {table} ORDER BY 1")]  # noqa: S608 - names from the catalogue, quoted
        version = str(conn.execute("SELECT sqlite_version()").fetchone()[0])
    finally:
        conn.close()
    return DatabaseFacts(version, migrations, tables, referenced)


def sqlite_snapshot(dest: Path) -> DatabaseFacts:
    """Copy the live SQLite database into `dest` (online, one consistent state) and return its facts."""
    # Django's own connection is the source: it carries the configured busy timeout and pragmas, and it is the
    # same database whatever its name looks like (a file path or, under the test runner, a shared in-memory one).
    connection.ensure_connection()
    if connection.in_atomic_block:
        # SQLite's backup waits, without end, for the write transaction of its own source connection to finish.
        raise BackupError("A backup cannot run inside a database transaction: call it in autocommit mode.")
    source = connection.connection
    target = sqlite3.connect(str(dest))
    try:
        source.backup(target)  # type: ignore[union-attr]
        # The copy is one self-contained file: no -wal or -shm file belongs to it.
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
    os.chmod(dest, 0o600)
    return sqlite_facts(dest)


def pg_environment() -> dict[str, str]:
    """libpq's environment for the configured database: the password travels in PGPASSWORD, never on argv."""
    db = settings.DATABASES["default"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if db.get(key):
            env[variable] = str(db[key])
    env["PGDATABASE"] = str(db["NAME"])
    return env


def pg_connect(dbname: str | None = None, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    db = settings.DATABASES["default"]
    params: dict[str, Any] = {
        "dbname": dbname or db["NAME"],
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "connect_timeout": 10,
    }
    return psycopg.connect(**{k: v for k, v in params.items() if v is not None}, autocommit=autocommit)


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: install the PostgreSQL client tools (postgresql-client).")
    return found


def client_major(name: str) -> int:
    out = subprocess.run([tool(name), "--version"], capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
    match = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    if match is None:
        raise BackupError(f"{name} --version did not say its version: {out.stdout.strip()[:80]!r}.")
    return int(match.group(1))


def check_client_version(conn: psycopg.Connection[Any], name: str) -> str:
    """The server's version; refuses a client tool older than the server (it could not read the newer server's
    catalogue faithfully)."""
    server_num = int(conn.execute("SHOW server_version_num").fetchone()[0])  # type: ignore[index]
    server_major = server_num // 10000
    major = client_major(name)
    if major < server_major:
        raise BackupError(
            f"{name} is version {major} but the PostgreSQL server is version {server_major}: install the client "
            f"tools of version {server_major} or newer (postgresql-client-{server_major})."
        )
    return str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]


def pg_snapshot(dest: Path) -> DatabaseFacts:
    """Dump the PostgreSQL database into `dest` (custom format) from one exported snapshot, and return the facts
    read in that same snapshot."""
    with pg_connect() as conn:
        version = check_client_version(conn, "pg_dump")
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = str(conn.execute("SELECT pg_export_snapshot()").fetchone()[0])  # type: ignore[index]
        result = subprocess.run(  # noqa: S603 - fixed tool, arguments are ours
            [
                tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                "-f",
                str(dest),
            ],
            env=pg_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()[-500:]}")
        os.chmod(dest, 0o600)
        names = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
            )
        ]
        tables = {name: int(conn.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0]) for name in names}  # type: ignore[index]  # noqa: S608 - names from the catalogue, quoted
        migrations: dict[str, list[str]] = {}
        if "django_migrations" in tables:
            for app, name in conn.execute("SELECT app, name FROM django_migrations ORDER BY app, name"):
                migrations.setdefault(app, []).append(name)
        table, column = ATTACHMENT_FILES
        referenced = (
            [row[0] for row in conn.execute(f"SELECT {column} FROM {table} ORDER BY 1")] if table in tables else []  # noqa: S608 - names from the catalogue, quoted
        )
        conn.rollback()
    return DatabaseFacts(version, migrations, tables, referenced)
