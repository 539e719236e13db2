"""The whole path, as an operator runs it, in separate processes: fill a site through the services, back it up,
export the keys, restore onto a fresh var dir (SQLite) and a fresh PostgreSQL database with only the keys file's
contents as configuration, and compare everything a vendor answers for. And a backup taken while 20 reporters
submit restores to a consistent state."""

from __future__ import annotations

import filecmp
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from psirt.ops.backup import read_keys, write_keys
from psirt.tests.databases import empty_postgres_database

pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parents[3]
PG_SERVER = os.environ.get("PSIRT_BACKUP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSPHRASE = "correct horse battery staple"

# Fills the site through the services, on top of the demo data: reports with attachments, a subscription, an API
# token; prints what the other side must find again.
FILL = r"""
import hashlib, json, os, django
django.setup()
from django.db import transaction
from psirt.accounts.models import User
from psirt.accounts.services import create_token
from psirt.catalog.models import ProductLine
from psirt.intake.services.attachments import IncomingFile
from psirt.intake.services.submission import ReportInput, submit_report
from psirt.notify.services.subscriptions import request_subscription

lead = User.objects.get(email="lead@demo.test")
token = create_token(user=lead, name="backup test", scopes=["cases:read"], actor=lead)[1]
portal = []
for n in range(3):
    data = ReportInput(reporter_name=f"R{n}", reporter_email=f"r{n}@research.test", description=f"Bug {n} 漏洞")
    files = [IncomingFile(f"f{n}-{k}.bin", os.urandom(70_000 + n * 1000 + k)) for k in range(2)]
    portal.append(submit_report(data=data, files=files, send_acknowledgment=False).token)
request_subscription(email="sub@customer.test", language="zh-hans", all_products=True)
print(json.dumps({"token": token, "portal": portal}))
"""

# What a restored installation shows: each attachment decrypted (SHA-256), the API answering the token, the
# reporter portal answering its link, the public search finding the same advisories.
PROBE = r"""
import hashlib, json, sys, django
django.setup()
from django.test import Client
from psirt.intake.models import Attachment, Report
from psirt.lib.crypto import file_store
given = json.loads(sys.argv[1])
store = file_store()
digests = {str(a.public_id): hashlib.sha256(store.read(a.storage_name)).hexdigest() for a in Attachment.objects.all()}
client = Client(HTTP_HOST="localhost")
api = client.get("/api/v1/cases", headers={"Authorization": "Bearer " + given["token"]}).status_code
portal = [client.get(f"/r/{t}/", follow=True) for t in given["portal"]]
reports = {r.tracking_id: r.attachments.count() for r in Report.objects.all()}
from psirt.advisories.queries import ListFilters, list_page
search = {q: [a.advisory_id for a in list_page(ListFilters(q=q), 1).object_list] for q in ("IPC-X5", "web", "摄像机")}
print(json.dumps({"attachments": digests, "api": api, "portal": [p.status_code for p in portal],
                  "portal_names": [p.content.decode().count("R") > 0 for p in portal], "reports": reports,
                  "search": search}))
"""


def base_env(var: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PSIRT_", "DATABASE_URL", "SECRET_KEY", "DJANGO_SETTINGS", "EMAIL_URL", "TEST_DATABASE"))
    }
    env.update(
        {
            "PSIRT_DEV": "1",
            "PSIRT_VAR_DIR": str(var),
            "DATABASE_URL": f"sqlite:///{var / 'psirt.sqlite3'}",
            "EMAIL_URL": "locmem:",
            "DJANGO_SETTINGS_MODULE": "psirt.settings",
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


def psirt(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "psirt.cli", *args], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT
    )
    if ok:
        assert result.returncode == 0, f"psirt {' '.join(args)}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
    return result


def script(env: dict[str, str], code: str, *args: str) -> dict:  # type: ignore[type-arg]
    result = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def env_from_keys(bundle: dict, var: Path, **extra: str) -> dict[str, str]:  # type: ignore[type-arg]
    """The configuration of the new machine: nothing but what the keys file holds."""
    var.mkdir(parents=True, exist_ok=True)
    signing = var.parent / f"{var.name}-signing.asc"
    signing.write_text(bundle["signing_key"])
    return base_env(
        var,
        SECRET_KEY=bundle["SECRET_KEY"],
        PSIRT_ENCRYPTION_KEYS=",".join(bundle["PSIRT_ENCRYPTION_KEYS"]),
        PSIRT_AUDIT_KEYS=",".join(bundle["PSIRT_AUDIT_KEYS"]),
        PSIRT_SIGNING_KEY_FILE=str(signing),
        **extra,
    )


def dumped(env: dict[str, str], out: Path) -> list[dict]:  # type: ignore[type-arg]
    """Every row of every model, as Django reads it (encrypted columns decrypted), in a stable order."""
    psirt(env, "dumpdata", "--indent", "0", "-o", str(out))
    rows = json.loads(out.read_text())
    return sorted(rows, key=lambda row: (row["model"], json.dumps(row["pk"], default=str)))


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """A uniquely named, empty PostgreSQL database, dropped afterwards. Skips only when no server answers."""
    try:
        psycopg.connect(PG_SERVER, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"POSTGRESQL LEG SKIPPED: no PostgreSQL answers at {PG_SERVER} ({exc})")
    with empty_postgres_database(PG_SERVER, "psirt_restore") as url:
        yield url


def test_fill_backup_restore_to_sqlite_and_postgresql_and_compare(
    tmp_path: Path, postgres_db: str, migrated_var: Callable[[Path], Path]
) -> None:
    source = base_env(migrated_var(tmp_path / "a"))
    psirt(source, "demo")
    given = script(source, FILL)
    archive = tmp_path / "site.tar.gz"
    phrase = tmp_path / "phrase"
    phrase.write_text(PASSPHRASE + "\n")
    keys = tmp_path / "keys.asc"
    out = psirt(source, "backup", str(archive), "--keys-to", str(keys), "--passphrase-file", str(phrase)).stdout
    assert "backup written" in out and "keys written" in out
    psirt(source, "backup", "verify", str(archive))
    bundle = read_keys(path=keys, passphrase=PASSPHRASE)

    expected_rows = dumped(source, tmp_path / "a.json")
    expected = script(source, PROBE, json.dumps(given))
    assert len(expected["attachments"]) == 6 and expected["api"] == 200 and expected["portal"] == [200, 200, 200]
    assert all(expected["search"].values())  # the search finds the demo advisories (on SQLite, through its index)
    targets = {
        "sqlite": env_from_keys(bundle, tmp_path / "b"),
        "postgresql": env_from_keys(bundle, tmp_path / "c", DATABASE_URL=postgres_db),
    }
    for engine, env in targets.items():
        restored = psirt(env, "restore", str(archive)).stdout
        assert "keys: the configured encryption keys read the restored data" in restored, engine
        assert "audit chain: intact" in restored, engine
        psirt(env, "audit", "verify")
        assert dumped(env, tmp_path / f"{engine}.json") == expected_rows, engine
        assert script(env, PROBE, json.dumps(given)) == expected, engine
        var = Path(env["PSIRT_VAR_DIR"])
        compare = filecmp.dircmp(tmp_path / "a" / "csaf", var / "csaf", ignore=[".lock"])
        assert _identical(compare), engine
        # A second restore onto the now filled installation is refused, and changes nothing.
        again = psirt(env, "restore", str(archive), ok=False)
        assert again.returncode == 1 and "not empty" in again.stderr
    # New rows get new keys on PostgreSQL: the sequences were moved past the copied ones.
    more = script(targets["postgresql"], FILL)
    assert more["token"] != given["token"]


def _identical(compare: filecmp.dircmp) -> bool:  # type: ignore[type-arg]
    if compare.left_only or compare.right_only or compare.diff_files or compare.funny_files:
        return False
    # dircmp compares by stat signature; compare the bytes too.
    _, mismatch, errors = filecmp.cmpfiles(compare.left, compare.right, compare.common_files, shallow=False)
    return not mismatch and not errors and all(_identical(sub) for sub in compare.subdirs.values())


SUBMITTERS = r"""
import os, sys, threading, json, django
django.setup()
from psirt.intake.services.attachments import IncomingFile
from psirt.intake.services.submission import ReportInput, submit_report
from django.db import connection
stop = sys.argv[1]
done = []
def work(n):
    k = 0
    while not os.path.exists(stop) or k == 0:
        data = ReportInput(reporter_name="R", reporter_email=f"r{n}-{k}@x.test", description="d")
        submit_report(data=data, files=[IncomingFile("a.bin", os.urandom(50_000))], send_acknowledgment=False,
                      ip=f"10.0.{n}.{k % 250}")
        done.append(1)
        k += 1
    connection.close()
threads = [threading.Thread(target=work, args=(n,)) for n in range(20)]
for t in threads: t.start()
print("started", flush=True)
for t in threads: t.join()
print(json.dumps({"submitted": len(done)}))
"""


def test_backup_while_20_reports_are_submitted_restores_consistently(
    tmp_path: Path, migrated_var: Callable[[Path], Path]
) -> None:
    source = base_env(migrated_var(tmp_path / "a"), PSIRT_NOTIFY_GIVE_UP_HOURS="48")
    stop = tmp_path / "stop"
    submitters = subprocess.Popen(
        [sys.executable, "-c", SUBMITTERS, str(stop)], env=source, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert submitters.stdout is not None and submitters.stdout.readline().strip() == "started"
        time.sleep(2)
        archive = tmp_path / "busy.tar"
        psirt(source, "backup", str(archive))
    finally:
        stop.touch()
        out, _ = submitters.communicate(timeout=300)
    assert submitters.returncode == 0
    submitted = json.loads(out.strip().splitlines()[-1])["submitted"]
    psirt(source, "backup", "verify", str(archive))
    target = base_env(tmp_path / "b")
    # The same dev keys: copied as an operator restores them from the keys export.
    (tmp_path / "b").mkdir()
    for name in ("secret_key", "encryption_key", "audit_key"):
        (tmp_path / "b" / name).write_bytes((tmp_path / "a" / name).read_bytes())
        os.chmod(tmp_path / "b" / name, 0o600)
    psirt(target, "restore", str(archive))
    restored = script(target, PROBE, json.dumps({"token": "x", "portal": []}))
    # Every report the archive has (with its tracking ID) has its attachment, and every attachment decrypts.
    assert restored["reports"], "the backup caught no report"
    assert set(restored["reports"].values()) == {1}
    assert len(restored["attachments"]) == len(restored["reports"])
    # The backup ran while reports arrived: it holds some, not necessarily all of them.
    assert 0 < len(restored["reports"]) <= submitted


def test_restore_with_other_keys_says_so_and_exits_2(tmp_path: Path, migrated_var: Callable[[Path], Path]) -> None:
    source = base_env(migrated_var(tmp_path / "a"))
    archive = tmp_path / "site.tar"
    psirt(source, "backup", str(archive))
    # A new machine whose operator forgot the keys export: dev mode makes fresh keys for the empty var dir.
    result = psirt(base_env(tmp_path / "b"), "restore", str(archive), ok=False)
    assert result.returncode == 2, result.stderr
    assert "configured keys do not read the data" in result.stderr and "keys export" in result.stderr
    assert "restored the backup" in result.stdout


# Reports with attachments through the intake, without the demo data; prints the reporters' links.
REPORTS = r"""
import json, os, django
django.setup()
from psirt.intake.services.attachments import IncomingFile
from psirt.intake.services.submission import ReportInput, submit_report
portal = []
for n in range(2):
    data = ReportInput(reporter_name=f"R{n}", reporter_email=f"r{n}@research.test", description=f"Bug {n} 漏洞")
    files = [IncomingFile(f"f{n}.bin", os.urandom(60_000 + n))]
    portal.append(submit_report(data=data, files=files, send_acknowledgment=False).token)
print(json.dumps({"token": "none", "portal": portal}))
"""


def env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


def installation_is_empty(var: Path) -> bool:
    database = var / "psirt.sqlite3"
    if any((var / tree).exists() for tree in ("files", "csaf")):
        return False
    if not database.exists():
        return True
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] == 0


def test_restore_with_the_keys_file_onto_a_machine_with_other_keys(
    tmp_path: Path, migrated_var: Callable[[Path], Path]
) -> None:
    source = base_env(migrated_var(tmp_path / "a"))
    given = script(source, REPORTS)
    expected = script(source, PROBE, json.dumps(given))
    assert len(expected["attachments"]) == 2
    phrase = tmp_path / "phrase"
    phrase.write_text(PASSPHRASE + "\n")
    keys = tmp_path / "keys.asc"
    archive = tmp_path / "site.tar"
    psirt(source, "backup", str(archive), "--keys-to", str(keys), "--passphrase-file", str(phrase))

    # The new machine: an empty var dir, whose first start in development mode makes keys of its own.
    target = base_env(tmp_path / "b")
    keys_out = tmp_path / "restored-keys"
    restored = psirt(
        target, "restore", str(archive), "--keys-from", str(keys), "--passphrase-file", str(phrase),
        "--keys-out", str(keys_out),
    ).stdout  # fmt: skip
    assert "audit chain: intact" in restored and f"keys written to {keys_out}" in restored
    own_key = (tmp_path / "b" / "encryption_key").read_text().strip()
    recovered = env_file(keys_out / "restored-keys.env")
    assert own_key not in recovered["PSIRT_ENCRYPTION_KEYS"]
    # Configured from the written keys alone, the restored installation reads every attachment and the reporters'
    # links, and its audit chain verifies.
    configured = {**target, **recovered}
    assert script(configured, PROBE, json.dumps(given)) == expected
    assert "intact" in psirt(configured, "audit", "verify").stdout
    # Under the machine's own keys the same data does not read: the recovered keys are what made it work.
    unread = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(given)], env=target, capture_output=True, text=True, cwd=ROOT
    )
    assert unread.returncode != 0

    # A wrong passphrase: refused before anything is restored.
    wrong = tmp_path / "wrong"
    wrong.write_text("wrong horse battery staple\n")
    refused = psirt(
        base_env(tmp_path / "c"), "restore", str(archive), "--keys-from", str(keys), "--passphrase-file", str(wrong),
        "--keys-out", str(tmp_path / "c-keys"), ok=False,
    )  # fmt: skip
    assert refused.returncode == 1 and "cannot be decrypted" in refused.stderr
    assert installation_is_empty(tmp_path / "c") and not (tmp_path / "c-keys").exists()

    # Another installation's keys file: its keys do not read the data, exit 2, and no key is written out.
    other_keys = tmp_path / "other-keys.asc"
    write_keys(dest=other_keys, recipients=[], passphrase=PASSPHRASE)  # this test run's own keys
    theirs = read_keys(path=other_keys, passphrase=PASSPHRASE)["PSIRT_ENCRYPTION_KEYS"]
    assert not set(theirs) & set(read_keys(path=keys, passphrase=PASSPHRASE)["PSIRT_ENCRYPTION_KEYS"])
    mismatch = psirt(
        base_env(tmp_path / "d"), "restore", str(archive), "--keys-from", str(other_keys), "--passphrase-file",
        str(phrase), "--keys-out", str(tmp_path / "d-keys"), ok=False,
    )  # fmt: skip
    assert mismatch.returncode == 2 and "keys file's keys do not read the data" in mismatch.stderr
    assert not (tmp_path / "d-keys").exists()
