"""`psirt migrate` from the previous release's schema, with data in it, to the current code — on SQLite and on
PostgreSQL — loses nothing.

The fixture (tests-data/upgrade/previous.sql.gz, made by `tools/upgrade_fixture.py` at each release) is the
released code's database with the demo data loaded: every table at the release's migration heads, reports
encrypted under the fixture's keys, an audit chain keyed by them. On SQLite the dump is the database; on PostgreSQL
the schema is made by migrating to the release's heads and the same rows are loaded into it. Then the current
`psirt migrate` runs and the data is checked: every table keeps its rows, a case and an advisory read as before,
every report decrypts to the text the release stored, and the audit chain verifies."""

from __future__ import annotations

import gzip
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from psirt.tests.databases import empty_postgres_database
from psirt.tests.installation import installation_env, postgres_server

pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests-data" / "upgrade"
MANIFEST = json.loads((FIXTURE / "previous.json").read_text(encoding="utf-8"))
# Rows Django itself adds for what is new (content types and permissions of new models, applied migrations).
GROWS = {"django_migrations", "django_content_type", "auth_permission"}


def previous_release() -> sqlite3.Connection:
    """The fixture as an in-memory SQLite database."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(gzip.decompress((FIXTURE / "previous.sql.gz").read_bytes()).decode("utf-8"))
    return conn


def tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return sorted(name for (name,) in rows)


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables(conn)}


def reports_in_the_clear(conn: sqlite3.Connection) -> dict[str, dict[str, str]]:
    """What each report of the release says, decrypted with the fixture's key straight from the rows."""
    fernet = Fernet(MANIFEST["keys"]["PSIRT_ENCRYPTION_KEYS"])
    rows = conn.execute("SELECT tracking_id, reporter_email, description FROM intake_report ORDER BY tracking_id")
    return {
        tracking: {"email": fernet.decrypt(email).decode(), "description": fernet.decrypt(description).decode()}
        for tracking, email, description in rows
    }


def environment(database_url: str, var: Path) -> dict[str, str]:
    """Production mode with the fixture's keys; nothing inherited from the test run's own settings."""
    return installation_env(
        **MANIFEST["keys"],
        **{
            "PSIRT_DEV": "0",
            "DATABASE_URL": database_url,
            "PSIRT_VAR_DIR": str(var),
            "PSIRT_BASE_URL": "https://psirt.test",
            "ALLOWED_HOSTS": "psirt.test",
            "EMAIL_URL": "dummy://",
            "TIME_ZONE": "UTC",
        },
    )


def psirt(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "psirt.cli", *args], env=env, capture_output=True, text=True, timeout=900, cwd=ROOT
    )


def script(env: dict[str, str], code: str, *args: str) -> str:
    preamble = "import json, os, sys, django\nos.environ['DJANGO_SETTINGS_MODULE'] = 'psirt.settings'\ndjango.setup()\n"
    done = subprocess.run(
        [sys.executable, "-c", preamble + code, *args], env=env, capture_output=True, text=True, timeout=900, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


READ_BACK = """
from django.db import connection
from django.conf import settings
from django.test import Client, override_settings
from psirt.advisories.models import Advisory
from psirt.cases.models import Case
from psirt.intake.models import Report

with connection.cursor() as cursor:
    names = connection.introspection.table_names(cursor)
    counts = {}
    for name in names:
        cursor.execute("SELECT count(*) FROM " + connection.ops.quote_name(name))
        counts[name] = cursor.fetchone()[0]
case = Case.objects.get(key=sys.argv[1])
advisory = Advisory.objects.get(advisory_id=sys.argv[2])
# Static files are not collected here: their plain storage stands in for the manifest.
plain = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
with override_settings(STORAGES=plain):
    page = Client().get(f"/en/advisories/{advisory.advisory_id}/", HTTP_HOST="psirt.test", secure=True)
print(json.dumps({
    "counts": counts,
    "case": [case.title, case.state],
    "advisory": [advisory.title_en, advisory.state, page.status_code, advisory.title_en in page.content.decode()],
    "reports": {
        r.tracking_id: {"email": r.reporter_email, "description": r.description} for r in Report.objects.all()
    },
}))
"""


def upgrade_and_check(env: dict[str, str], before: sqlite3.Connection) -> None:
    """Run the current `psirt migrate` on the release's database in `env`, then check that nothing was lost."""
    migrate = psirt(env, "migrate", "-v", "0")
    assert migrate.returncode == 0, migrate.stderr[-4000:]
    pending = psirt(env, "migrate", "--check")
    assert pending.returncode == 0, pending.stdout[-2000:] + pending.stderr[-2000:]
    # The keys still read the data (the key canary) and the deployment's other checks hold.
    check = psirt(env, "check")
    assert check.returncode == 0, check.stderr[-4000:]

    case_key, case_title, case_state = before.execute(
        "SELECT key, title, state FROM cases_case ORDER BY key"
    ).fetchone()
    advisory_id, advisory_title = before.execute(
        "SELECT advisory_id, title_en FROM advisories_advisory WHERE state = 'published' ORDER BY advisory_id"
    ).fetchone()
    after = json.loads(script(env, READ_BACK, case_key, advisory_id))

    old_counts = counts(before)
    lost = {
        name: (rows, after["counts"].get(name))
        for name, rows in old_counts.items()
        if name not in GROWS and after["counts"].get(name) != rows
    }
    assert not lost, f"tables whose rows changed in the upgrade (before, after): {lost}"
    assert all(after["counts"][name] >= old_counts[name] for name in GROWS)
    assert sum(old_counts.values()) > 1000  # the fixture really holds the demo data

    assert after["case"] == [case_title, case_state]
    assert after["advisory"] == [advisory_title, "published", 200, True]
    clear = reports_in_the_clear(before)
    assert clear and after["reports"] == clear

    verify = psirt(env, "audit", "verify")
    assert verify.returncode == 0, verify.stdout[-2000:] + verify.stderr[-2000:]


def test_the_fixture_is_the_previous_release_with_data() -> None:
    """The fixture names its release and heads, and its database is at exactly those heads."""
    before = previous_release()
    heads: dict[str, str] = {}
    for app, name in before.execute("SELECT app, name FROM django_migrations"):
        heads[app] = max(heads.get(app, ""), name)
    assert heads == MANIFEST["migration_heads"]
    assert len(MANIFEST["commit"]) == 40
    assert counts(before)["intake_report"] > 0 and counts(before)["audit_auditevent"] > 0


def test_migrate_from_the_previous_release_on_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "var" / "psirt.sqlite3"
    database.parent.mkdir()
    with sqlite3.connect(database) as conn:
        conn.executescript(gzip.decompress((FIXTURE / "previous.sql.gz").read_bytes()).decode("utf-8"))
    conn.close()
    upgrade_and_check(environment(f"sqlite:///{database}", tmp_path / "var"), previous_release())


# On PostgreSQL: the release's schema by migrating to its heads, then its rows. Foreign keys are checked at commit
# (Django makes them DEFERRABLE INITIALLY DEFERRED), so the tables load in any order within one transaction.
LOAD_INTO_POSTGRES = """
import datetime as dt, gzip, sqlite3
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

heads = json.loads(sys.argv[2])
executor = MigrationExecutor(connection)
executor.migrate([(app, name) for app, name in heads.items()])
call_command("createcachetable")  # the release's `psirt migrate` made it too

source = sqlite3.connect(":memory:")
source.executescript(gzip.decompress(open(sys.argv[1], "rb").read()).decode("utf-8"))
names = [n for (n,) in source.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'django_migrations'"
)]
q = connection.ops.quote_name
with transaction.atomic(), connection.cursor() as cursor:
    cursor.execute("TRUNCATE " + ", ".join(q(n) for n in names) + " CASCADE")
    for name in names:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s", [name]
        )
        kinds = dict(cursor.fetchall())
        columns = [row[1] for row in source.execute(f'PRAGMA table_info("{name}")')]
        def convert(value, kind):
            if value is None:
                return None
            if kind == "boolean":
                return bool(value)
            if kind == "interval":
                return dt.timedelta(microseconds=value)
            return value
        rows = [
            [convert(value, kinds[column]) for value, column in zip(row, columns)]
            for row in source.execute(f'SELECT * FROM "{name}"')
        ]
        if rows:
            listed = ", ".join(q(c) for c in columns)
            slots = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {q(name)} ({listed}) VALUES ({slots})", rows)
        if kinds.get("id") in {"integer", "bigint"}:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), coalesce(max(id), 0) + 1, false) FROM {q(name)}",
                [q(name)],
            )
"""


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """An empty database of the test's own on the TEST_DATABASE_URL server (skipped on the SQLite leg)."""
    with empty_postgres_database(postgres_server(), "psirt_upgrade") as url:
        yield url


def test_migrate_from_the_previous_release_on_postgresql(postgres_database: str, tmp_path: Path) -> None:
    env = environment(postgres_database, tmp_path / "var")
    script(env, LOAD_INTO_POSTGRES, str(FIXTURE / "previous.sql.gz"), json.dumps(MANIFEST["migration_heads"]))
    upgrade_and_check(env, previous_release())
