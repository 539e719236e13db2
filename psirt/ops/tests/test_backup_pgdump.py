"""`backup verify` of a PostgreSQL dump without restoring it: the dump is streamed through `pg_restore -f -`, the
rows of every table's COPY block counted and the migration state and attachment names read back, and all of it
compared with the manifest; a damaged dump or one replaced together with its checksum is refused."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from psirt.ops.backup import ArchiveInvalid
from psirt.ops.backup.database import DatabaseFacts, copy_field, pg_dump_facts
from psirt.ops.backup.manifest import Manifest
from psirt.ops.backup.verify import VerifyReport, _check_database
from psirt.tests.databases import empty_postgres_database

PG_SERVER = os.environ.get("PSIRT_BACKUP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

# Rows that COPY's text format must escape: tabs, newlines, backslashes, a NULL, non-ASCII text, a line that reads
# like the end-of-data marker.
AWKWARD = ["tab\there", "line\nbreak", "back\\slash", None, "报告 ✓", "\\.", ""]


@pytest.fixture
def small_database() -> Iterator[str]:
    """A uniquely named PostgreSQL database with a few tables shaped like psirt's, dropped afterwards."""
    try:
        psycopg.connect(PG_SERVER, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"POSTGRESQL LEG SKIPPED: no PostgreSQL answers at {PG_SERVER} ({exc})")
    with empty_postgres_database(PG_SERVER, "psirt_dumpfacts") as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE django_migrations (id serial PRIMARY KEY, app text, name text, applied timestamptz)"
            )
            conn.execute("CREATE TABLE intake_attachment (id serial PRIMARY KEY, storage_name text, size int)")
            conn.execute('CREATE TABLE "odd ""name""" (id serial PRIMARY KEY, "body, (text)" text)')
            conn.execute("CREATE TABLE empty_table (id int)")
            for app, migration in [("intake", "0002_b"), ("intake", "0001_a"), ("ops", "0001_initial")]:
                conn.execute(
                    "INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, now())", [app, migration]
                )
            for n in range(250):
                conn.execute("INSERT INTO intake_attachment (storage_name, size) VALUES (%s, %s)", [f"f{n:04d}.enc", n])
            for body in AWKWARD:
                conn.execute('INSERT INTO "odd ""name""" ("body, (text)") VALUES (%s)', [body])
        yield url


def _dump(url: str, dest: Path) -> Path:
    subprocess.run(["pg_dump", "--format=custom", "-f", str(dest), url], check=True, capture_output=True)
    return dest


EXPECTED_TABLES = {"django_migrations": 3, "intake_attachment": 250, 'odd "name"': len(AWKWARD), "empty_table": 0}


def _manifest(facts: DatabaseFacts) -> Manifest:
    return Manifest(
        psirt_version="test",
        created_at="2026-12-06T00:00:00+00:00",
        engine="postgresql",
        server_version="15",
        migrations={app: list(names) for app, names in facts.migrations.items()},
        tables=dict(facts.tables),
        referenced_files=list(facts.referenced_files),
    )


def test_copy_fields_are_decoded() -> None:
    assert copy_field(b"\\N") is None
    assert copy_field(b"a\\tb\\nc\\\\d") == "a\tb\nc\\d"
    assert copy_field(b"\\101\\x42") == "AB"
    assert copy_field("报告".encode()) == "报告"


def test_the_dump_is_counted_without_a_restore(small_database: str, tmp_path: Path) -> None:
    facts = pg_dump_facts(_dump(small_database, tmp_path / "db.dump"))
    assert facts.tables == EXPECTED_TABLES
    assert facts.migrations == {"intake": ["0001_a", "0002_b"], "ops": ["0001_initial"]}
    assert facts.referenced_files == [f"f{n:04d}.enc" for n in range(250)]
    report = VerifyReport(manifest=_manifest(facts))
    _check_database(report.manifest, tmp_path / "db.dump", report)
    assert f"{sum(EXPECTED_TABLES.values())} rows in 4 tables" in report.notes[0]


def test_a_manifest_claiming_other_counts_is_refused(small_database: str, tmp_path: Path) -> None:
    dump = _dump(small_database, tmp_path / "db.dump")
    manifest = _manifest(pg_dump_facts(dump))
    manifest.tables["intake_attachment"] = 251
    with pytest.raises(ArchiveInvalid, match=r"row counts differ .*intake_attachment"):
        _check_database(manifest, dump, VerifyReport(manifest=manifest))
    manifest = _manifest(pg_dump_facts(dump))
    manifest.migrations["ops"].append("0002_more")
    with pytest.raises(ArchiveInvalid, match="migration state"):
        _check_database(manifest, dump, VerifyReport(manifest=manifest))


def test_a_dump_replaced_with_fewer_rows_is_refused(small_database: str, tmp_path: Path) -> None:
    """The dump swapped for another one (its checksum rewritten in the manifest too): its own rows tell."""
    manifest = _manifest(pg_dump_facts(_dump(small_database, tmp_path / "db.dump")))
    with psycopg.connect(small_database, autocommit=True) as conn:
        conn.execute("DELETE FROM intake_attachment WHERE storage_name = 'f0007.enc'")
    tampered = _dump(small_database, tmp_path / "tampered.dump")
    with pytest.raises(ArchiveInvalid, match="row counts differ"):
        _check_database(manifest, tampered, VerifyReport(manifest=manifest))
    # The same count with another file named: the attachment names are compared too.
    with psycopg.connect(small_database, autocommit=True) as conn:
        conn.execute("INSERT INTO intake_attachment (storage_name, size) VALUES ('planted.enc', 1)")
    swapped = _dump(small_database, tmp_path / "swapped.dump")
    with pytest.raises(ArchiveInvalid, match="attachment files"):
        _check_database(manifest, swapped, VerifyReport(manifest=manifest))


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_dump_is_refused(small_database: str, tmp_path: Path, damage: str) -> None:
    dump = _dump(small_database, tmp_path / "db.dump")
    manifest = _manifest(pg_dump_facts(dump))
    data = bytearray(dump.read_bytes())
    if damage == "truncate":
        del data[len(data) * 2 // 3 :]
    else:
        # Inside the compressed rows of intake_attachment, the largest data block.
        start = len(data) // 2
        for offset in range(start, start + 64):
            data[offset] ^= 0xFF
    dump.write_bytes(bytes(data))
    with pytest.raises(ArchiveInvalid):
        _check_database(manifest, dump, VerifyReport(manifest=manifest))
