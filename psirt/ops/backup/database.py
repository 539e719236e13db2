"""Consistent copies of the database, one function per engine, and what the manifest says about a copy.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies every page in one step while writers go on
(WAL mode: readers never block the writer), so the copy is one committed state. PostgreSQL: a REPEATABLE READ
transaction exports its snapshot and `pg_dump --snapshot` dumps exactly that state, while the same transaction
reads the row counts, the migration state and the attachment names of that same state."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

from psirt.lib import stored_files
from psirt.ops.backup.exceptions import BackupError


def kept_file_columns() -> dict[str, str]:
    """Table -> column of every column naming a file of the encrypted store that the archive must carry (report
    attachments, regulatory evidence: the registry in `psirt.lib.stored_files`). Files of a stash (a form that
    failed validation, kept for a day) are carried too when present, but a stash may expire meanwhile."""
    return dict(stored_files.kept_tables())


@dataclass(frozen=True)
class DatabaseFacts:
    """What the manifest records about a database copy."""

    server_version: str
    migrations: dict[str, list[str]]
    tables: dict[str, int]
    referenced_files: list[str]


def engine() -> str:
    # The backend's vendor, not the last word of ENGINE: psirt's SQLite backend has a path of its own.
    vendor = connection.vendor
    if vendor in ("sqlite", "postgresql"):
        return vendor
    raise BackupError(f"The database engine {vendor!r} is not supported by psirt backup.")


def quote(name: str) -> str:
    """A table or column name as an SQL identifier (both engines quote with double quotes)."""
    return '"' + name.replace('"', '""') + '"'


def sqlite_facts(path: Path) -> DatabaseFacts:
    """Facts of a SQLite file, opened read-only."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        version = str(conn.execute("SELECT sqlite_version()").fetchone()[0])
        return _read_facts(
            conn,
            version,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
    finally:
        conn.close()


def _read_facts(conn: Any, version: str, table_names_sql: str) -> DatabaseFacts:
    """The facts of the database `conn` reads (a sqlite3 or psycopg connection, both engines speak this SQL): the
    row count of every table `table_names_sql` lists, the migration state and the stored files it names."""
    names = [row[0] for row in conn.execute(table_names_sql)]
    tables = {name: int(conn.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0]) for name in names}  # noqa: S608 - names from the catalogue, quoted
    migrations: dict[str, list[str]] = {}
    if "django_migrations" in tables:
        for app, name in conn.execute("SELECT app, name FROM django_migrations ORDER BY app, name"):
            migrations.setdefault(app, []).append(name)
    referenced = sorted(
        row[0]
        for table, column in kept_file_columns().items()
        if table in tables
        for row in conn.execute(f"SELECT {quote(column)} FROM {quote(table)}")  # noqa: S608 - names from the catalogue, quoted
    )
    return DatabaseFacts(version, migrations, tables, referenced)


_IDENTIFIER = rb'(?:"(?:[^"]|"")*"|[^\s".(),]+)'
_COPY = re.compile(
    rb"^COPY (?:" + _IDENTIFIER + rb"\.)?(?P<table>" + _IDENTIFIER + rb") \((?P<columns>.*)\) FROM stdin;$"
)
_COPY_ESCAPES = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))")
_COPY_SIMPLE = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}


def _unquote_identifier(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    return text[1:-1].replace('""', '"') if text.startswith('"') and text.endswith('"') else text


def copy_field(raw: bytes) -> str | None:
    """One field of a COPY text row: None for \\N, else the text with its backslash escapes decoded."""
    if raw == b"\\N":
        return None

    def decode(match: re.Match[bytes]) -> bytes:
        octal, hexa, char = match.groups()
        if octal:
            return bytes([int(octal, 8) & 0xFF])
        if hexa:
            return bytes([int(hexa, 16)])
        return _COPY_SIMPLE.get(char, char)

    return _COPY_ESCAPES.sub(decode, raw).decode("utf-8", "replace")


def pg_dump_facts(dump: Path) -> DatabaseFacts:
    """Facts of a PostgreSQL dump (custom format) without restoring it: `pg_restore --data-only -f -` streams the
    dump as SQL, and the rows of each table's COPY block are counted (one line per row in COPY's text format),
    the migration state and the attachment names read from theirs. A dump pg_restore cannot read (damaged,
    altered) raises BackupError."""
    tables: dict[str, int] = {}
    migrations: dict[str, list[str]] = {}
    referenced: list[str] = []
    file_columns = kept_file_columns()
    proc = subprocess.Popen(  # noqa: S603 - fixed tool, arguments are ours
        [tool("pg_restore"), "--data-only", "--no-owner", "--no-privileges", "-f", "-", str(dump)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    table: str | None = None
    wanted: tuple[int, ...] = ()
    try:
        for line in proc.stdout:
            line = line.rstrip(b"\n")
            if table is None:
                match = _COPY.match(line)
                if match is None:
                    continue
                table = _unquote_identifier(match["table"])
                if table in tables:
                    raise BackupError(f"The dump holds the rows of {table} twice.")
                tables[table] = 0
                columns = [_unquote_identifier(c) for c in re.findall(_IDENTIFIER, match["columns"])]
                want = (
                    ("app", "name")
                    if table == "django_migrations"
                    else (file_columns[table],)
                    if table in file_columns
                    else ()
                )
                wanted = tuple(columns.index(name) for name in want if name in columns)
                continue
            if line == b"\\.":
                table = None
                continue
            tables[table] += 1
            if wanted:
                fields = line.split(b"\t")
                values = [copy_field(fields[i]) if i < len(fields) else None for i in wanted]
                if table == "django_migrations" and len(values) == 2 and None not in values:
                    migrations.setdefault(str(values[0]), []).append(str(values[1]))
                elif table in file_columns and values and values[0] is not None:
                    referenced.append(values[0])
    finally:
        proc.stdout.close()
        errors = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        code = proc.wait()
    if code != 0:
        raise BackupError(f"pg_restore cannot read the dump: {errors.strip()[-300:]}")
    if table is not None:
        raise BackupError(f"The dump ends inside the rows of {table}.")
    for names in migrations.values():
        names.sort()
    return DatabaseFacts("", dict(sorted(migrations.items())), tables, sorted(referenced))


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


@contextlib.contextmanager
def pg_snapshot(dest: Path) -> Iterator[DatabaseFacts]:
    """Start pg_dump writing the PostgreSQL database into `dest` (custom format) from one exported snapshot, and
    yield the facts read in that same snapshot while it runs (the caller carries the files meanwhile). On leaving,
    waits for pg_dump: BackupError if it failed; killed if the caller failed."""
    with pg_connect() as conn:
        version = check_client_version(conn, "pg_dump")
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = str(conn.execute("SELECT pg_export_snapshot()").fetchone()[0])  # type: ignore[index]
        with tempfile.TemporaryFile() as errors:
            dump = subprocess.Popen(  # noqa: S603 - fixed tool, arguments are ours
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
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
            try:
                facts = _read_facts(
                    conn,
                    version,
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename",
                )
                yield facts
            except BaseException:
                dump.kill()
                dump.wait()
                raise
            # The exporting transaction stays open until pg_dump is done: its snapshot lives as long as it does.
            if dump.wait() != 0:
                errors.seek(0)
                message = errors.read().decode("utf-8", "replace").strip()[-500:]
                raise BackupError(f"pg_dump failed: {message}")
        os.chmod(dest, 0o600)
        conn.rollback()
