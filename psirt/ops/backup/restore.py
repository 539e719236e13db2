"""`psirt restore ARCHIVE`: bring a backup back onto an empty installation.

The archive is read and checked whole (`psirt.ops.backup.verify.scan`) into a private folder under the var dir
before anything of the installation is touched. Then, by engine:

* SQLite → SQLite: the database copy replaces the database file (with its stale -wal/-shm files removed).
* PostgreSQL → PostgreSQL: `pg_restore` of the dump, in one transaction.
* SQLite → PostgreSQL (the path to several app servers): the schema is created by `migrate`, every table is
  emptied, and the rows of each table are streamed from the SQLite copy with `COPY … FROM STDIN`, in one
  transaction with the foreign keys checked at commit; then every sequence is set past the highest key. The
  values are copied as stored, ciphertext included, so no key is needed to move the data.

Afterwards pending migrations are applied (a backup of an older psirt is brought forward), and the key canary
says whether the configured keys read the restored data."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.db.migrations.loader import MigrationLoader

from psirt.audit.services import AuditKeyMissing, verify_chain
from psirt.ops.backup.create import trees, walk
from psirt.ops.backup.database import engine, pg_environment, quote, tool
from psirt.ops.backup.exceptions import RestoreRefused
from psirt.ops.backup.manifest import PREFIX, Manifest
from psirt.ops.backup.verify import Signer, scan
from psirt.organization.queries import key_problem

# Tables whose rows are not carried across engines: the cache is rebuilt empty (createcachetable).
NOT_COPIED = frozenset({"psirt_cache"})
# The tables in which an FTS5 virtual table keeps its data (`<name>_data`, …).
FTS5_SHADOW_SUFFIXES = ("_data", "_idx", "_content", "_docsize", "_config")
COPY_BATCH = 5000


@dataclass
class RestoreResult:
    manifest: Manifest
    key_problem: str | None
    audit: str
    notes: list[str] = field(default_factory=list)


def code_migrations() -> dict[str, set[str]]:
    """Every migration this psirt knows, by app."""
    known: dict[str, set[str]] = {}
    for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations:
        known.setdefault(app, set()).add(name)
    return known


def check_schema(manifest: Manifest, *, cross_engine: bool) -> None:
    """Refuse a backup from a newer psirt (its migrations are unknown here), and, across engines, one whose schema
    is not exactly this psirt's (the rows are copied table by table into this version's tables)."""
    known = code_migrations()
    unknown = sorted(
        f"{app}.{name}"
        for app, names in manifest.migrations.items()
        for name in names
        if name not in known.get(app, set())
    )
    if unknown:
        raise RestoreRefused(
            f"The backup was taken by a newer psirt ({manifest.psirt_version}; it has migration {unknown[0]}, "
            "unknown here): restore it with that version or a newer one."
        )
    if cross_engine:
        taken = {app: set(names) for app, names in manifest.migrations.items()}
        if any(taken.get(app, set()) != names for app, names in known.items()):
            raise RestoreRefused(
                "A backup moves to another database engine only at this psirt's own schema version, and this one "
                f"was taken by psirt {manifest.psirt_version} at another. Restore it onto SQLite first (same-engine "
                "restores migrate forward), take a new backup, then restore that one."
            )


def installation_contents() -> list[str]:
    """What already holds data here: tables in the database, files in the var dir's trees."""
    found: list[str] = []
    try:
        tables = [t for t in connection.introspection.table_names() if t not in NOT_COPIED]
    except DatabaseError:
        tables = []
    if tables:
        found.append(f"the database has {len(tables)} tables")
    for root in trees().values():
        if walk(root):
            found.append(f"{root} is not empty")
    return found


def _replace_sqlite(copy: Path) -> None:
    target = Path(str(settings.DATABASES["default"]["NAME"]))
    connections.close_all()
    # A -wal file left next to the new database would be replayed into it.
    for suffix in ("-wal", "-shm", "-journal"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(copy, 0o600)
    os.replace(copy, target)


def _pg_restore(dump: Path, *, force: bool) -> None:
    connections.close_all()
    args = [tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    if force:
        args += ["--clean", "--if-exists"]
    env = pg_environment()
    command = [*args, "--dbname", env["PGDATABASE"], str(dump)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - our tool
    if result.returncode != 0:
        raise RestoreRefused(f"pg_restore failed, nothing was restored: {result.stderr.strip()[-500:]}")


def sqlite_only_tables(source: sqlite3.Connection) -> set[str]:
    """The tables of a SQLite database that are SQLite's own: its virtual tables (the search's trigram index, kept by
    triggers from the tables it indexes) and the tables they keep their data in. PostgreSQL has none of them."""
    tables = {
        name: sql or "" for name, sql in source.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
    }
    virtual = {name for name, sql in tables.items() if sql.upper().startswith("CREATE VIRTUAL TABLE")}
    return virtual | {name + suffix for name in virtual for suffix in FTS5_SHADOW_SUFFIXES if name + suffix in tables}


def copy_sqlite_to_postgresql(copy: Path) -> int:
    """Stream every table of the SQLite copy into the (migrated) PostgreSQL database; returns the rows copied."""
    call_command("migrate", verbosity=0, interactive=False, skip_checks=True)
    source = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    rows = 0
    try:
        own = sqlite_only_tables(source)
        tables = [
            row[0]
            for row in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
            if row[0] not in NOT_COPIED and row[0] not in own
        ]
        present = set(connection.introspection.table_names())
        absent = [t for t in tables if t not in present]
        if absent:
            raise RestoreRefused(f"The backup has tables this psirt does not ({absent[0]}): nothing was restored.")
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                cursor.execute("SET LOCAL TIME ZONE 'UTC'")  # SQLite holds UTC times without a zone
                # migrate wrote its own rows (content types, permissions, the key canary): the backup's replace them.
                cursor.execute(f"TRUNCATE {', '.join(quote(t) for t in tables)} RESTART IDENTITY CASCADE")
            raw = connection.connection
            for table in tables:
                columns = [row[1] for row in source.execute(f"PRAGMA table_info({quote(table)})")]
                names = ", ".join(quote(c) for c in columns)
                with raw.cursor() as pg, pg.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as out:  # type: ignore[union-attr]
                    for row in source.execute(f"SELECT {names} FROM {quote(table)}"):  # noqa: S608 - catalogue names, quoted
                        out.write_row(row)
                        rows += 1
            with connection.cursor() as cursor:
                for table in tables:
                    cursor.execute(
                        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                        "AND table_name = %s AND pg_get_serial_sequence(%s, column_name) IS NOT NULL",
                        [table, quote(table)],
                    )
                    for (column,) in cursor.fetchall():
                        cursor.execute(
                            f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({quote(column)}), 1), "  # noqa: S608
                            f"MAX({quote(column)}) IS NOT NULL) FROM {quote(table)}",
                            [quote(table), column],
                        )
    finally:
        source.close()
    return rows


def compare_counts(manifest: Manifest, *, skipped: frozenset[str] | set[str] = frozenset()) -> None:
    """Every table of the backup holds, restored, as many rows as the manifest says (a dump that restored only in
    part, or a copy that skipped rows, is caught here); but `skipped`, tables not carried to this engine."""
    with connection.cursor() as cursor:
        for table, expected in manifest.tables.items():
            if table in NOT_COPIED or table in skipped:
                continue
            cursor.execute(f"SELECT count(*) FROM {quote(table)}")  # noqa: S608 - catalogue names, quoted
            found = cursor.fetchone()[0]
            if found != expected:
                raise RestoreRefused(
                    f"The restored table {table} holds {found} rows where the backup holds {expected}: the restore "
                    "is incomplete. Restore again with --force onto an empty database."
                )


def _place_trees(staging: Path) -> None:
    for name, root in trees().items():
        source = staging / name
        if root.exists():
            shutil.rmtree(root)
        if source.is_dir():
            root.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(source), str(root))


def restore_archive(*, path: Path, force: bool = False, signer: Signer | None = None) -> RestoreResult:
    """Restore the archive at `path` onto this installation. Refuses (changing nothing) a damaged archive, one
    not signed by `signer` when given, a non-empty installation without `force`, a backup of a newer psirt, and
    PostgreSQL → SQLite."""
    target = engine()
    var = Path(settings.PSIRT_VAR_DIR)
    var.mkdir(parents=True, exist_ok=True)
    if not force and (contents := installation_contents()):
        raise RestoreRefused(
            f"This installation is not empty ({'; '.join(contents)}): restore onto a new one, or pass --force to "
            "replace what is here."
        )
    staging = Path(tempfile.mkdtemp(dir=var, prefix=".restore-"))
    try:
        report = scan(path, into=staging, extract_all=True, signer=signer)
        manifest = report.manifest
        if manifest.engine == "postgresql" and target == "sqlite":
            raise RestoreRefused("A PostgreSQL backup restores onto PostgreSQL only (set DATABASE_URL to one).")
        check_schema(manifest, cross_engine=manifest.engine != target)
        copy = staging / manifest.database_member[len(PREFIX) + 1 :]
        notes = list(report.notes)
        skipped: set[str] = set()
        if target == "sqlite":
            _replace_sqlite(copy)
        elif manifest.engine == "postgresql":
            _pg_restore(copy, force=force)
        else:
            with contextlib.closing(sqlite3.connect(f"file:{copy}?mode=ro", uri=True)) as source:
                skipped = sqlite_only_tables(source)
            notes.append(f"copied {copy_sqlite_to_postgresql(copy)} rows from SQLite into PostgreSQL")
        compare_counts(manifest, skipped=skipped)
        _place_trees(staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    call_command("createcachetable", verbosity=0)
    problem = key_problem()
    if problem is None:
        # Without the system checks: the keys were just checked, against the restored data.
        call_command("migrate", verbosity=0, interactive=False, skip_checks=True)
    else:
        # migrate would refuse too (it stores the key canary only with keys that read the data).
        notes.append("pending migrations are applied once the keys are set: then run `psirt migrate`")
    try:
        chain = verify_chain()
        audit = f"intact, {chain.checked} events" if chain.ok else f"BROKEN: {chain.problem}"
    except AuditKeyMissing:
        audit = "not checked: no PSIRT_AUDIT_KEYS configured"
    return RestoreResult(manifest=manifest, key_problem=problem, audit=audit, notes=notes)
