"""The `psirt` command as an operator runs it: a separate process with its own environment."""

from __future__ import annotations

import base64
import os
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from psirt.cli import OWN_COMMANDS
from psirt.lib.config import new_fernet_key

pytestmark = pytest.mark.processes


def run_psirt(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "psirt.cli", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
    )


@pytest.fixture
def dev_env(tmp_path: Path) -> dict[str, str]:
    return {"PSIRT_DEV": "1", "PSIRT_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": ""}


def test_help_lists_every_psirt_command() -> None:
    proc = run_psirt("--help")
    assert proc.returncode == 0
    for name in OWN_COMMANDS:
        assert f"  {name} " in proc.stdout


def test_genkey_prints_a_fresh_fernet_key_each_time() -> None:
    first, second = run_psirt("genkey").stdout.strip(), run_psirt("genkey").stdout.strip()
    assert first != second
    assert len(base64.urlsafe_b64decode(first)) == 32


def test_migrate_creates_the_schema_and_the_shared_cache_table_in_wal_mode(dev_env: dict[str, str]) -> None:
    proc = run_psirt("migrate", "-v", "0", env=dev_env)
    assert proc.returncode == 0, proc.stderr
    db = Path(dev_env["PSIRT_VAR_DIR"]) / "psirt.sqlite3"
    with sqlite3.connect(db) as conn:
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type='table'")}
        mode = conn.execute("pragma journal_mode").fetchone()[0]
    assert {"accounts_user", "audit_auditevent", "catalog_product", "psirt_cache"} <= tables
    assert mode == "wal"
    # Running it again is harmless (make run runs it every time).
    assert run_psirt("migrate", "-v", "0", env=dev_env).returncode == 0


def test_django_commands_pass_through(dev_env: dict[str, str]) -> None:
    proc = run_psirt("check", env=dev_env)
    assert proc.returncode == 0, proc.stderr
    assert "no issues" in proc.stdout


def test_production_without_secrets_refuses_to_start_naming_the_variable(tmp_path: Path) -> None:
    env = {"PSIRT_DEV": "0", "PSIRT_VAR_DIR": str(tmp_path), "SECRET_KEY": "", "PSIRT_ENCRYPTION_KEYS": ""}
    proc = run_psirt("check", env=env)
    assert proc.returncode == 2
    assert "SECRET_KEY is not set" in proc.stderr
    proc = run_psirt("check", env={**env, "SECRET_KEY": secrets.token_urlsafe(64)})
    assert proc.returncode == 2
    assert "PSIRT_ENCRYPTION_KEYS is not set" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_worker_runs_queued_tasks_from_the_database(dev_env: dict[str, str]) -> None:
    assert run_psirt("migrate", "-v", "0", env=dev_env).returncode == 0
    enqueue = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='psirt.settings'; django.setup();"
        "from psirt.audit.tasks import verify_audit_chain; print(verify_audit_chain.enqueue().id)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", enqueue],
        env={**{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}, **dev_env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    task_id = proc.stdout.strip()
    worker = run_psirt("worker", "--batch", "--no-startup-delay", "-v", "1", env=dev_env)
    assert worker.returncode == 0, worker.stderr
    db = Path(dev_env["PSIRT_VAR_DIR"]) / "psirt.sqlite3"
    with sqlite3.connect(db) as conn:
        rows = conn.execute("select id, status, return_value from django_tasks_database_dbtaskresult").fetchall()
    assert len(rows) == 1
    stored_id, status, value = rows[0]
    assert stored_id.replace("-", "") == task_id.replace("-", "")
    assert status == "SUCCESSFUL"
    assert '"ok": true' in value


def test_scheduler_once_enqueues_each_periodic_task_once_per_period(dev_env: dict[str, str]) -> None:
    from psirt.lib.schedule import collect

    periodic = collect()
    assert run_psirt("migrate", "-v", "0", env=dev_env).returncode == 0
    first = run_psirt("scheduler", "--once", env=dev_env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("enqueued ") == len(periodic)
    again = run_psirt("scheduler", "--once", env=dev_env)  # a second scheduler in the same period
    assert again.stdout.count("enqueued ") < len(periodic)
    db = Path(dev_env["PSIRT_VAR_DIR"]) / "psirt.sqlite3"
    with sqlite3.connect(db) as conn:
        queued = conn.execute("select count(*) from django_tasks_database_dbtaskresult").fetchone()[0]
    assert queued == first.stdout.count("enqueued ") + again.stdout.count("enqueued ")


def test_help_lists_the_mail_gate_and_key_rotation_with_descriptions_in_one_column() -> None:
    lines = run_psirt("--help").stdout.splitlines()
    rows = [line for line in lines if line.startswith("  ") and line.split()[0] in OWN_COMMANDS]
    assert {"mailgate", "rotatekeys"} <= {row.split()[0] for row in rows}
    assert len(rows) == len(OWN_COMMANDS)
    columns = {len(row) - len(row[2:].split(maxsplit=1)[1]) for row in rows}
    assert len(columns) == 1


def test_cvss_and_audit_verify_run_in_production_mode_without_the_web_configuration(tmp_path: Path) -> None:
    bare = {"PATH": os.environ.get("PATH", ""), "PSIRT_DEV": "0", "PSIRT_VAR_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "psirt.cli", "cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"],
        env=bare,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"severity": "Critical"' in proc.stdout
    invalid = subprocess.run(
        [sys.executable, "-m", "psirt.cli", "cvss", "CVSS:3.1/AV:X"],
        env=bare,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert invalid.returncode == 2
    assert "configuration error" not in invalid.stderr
    # Without the audit key nothing can be verified: a clear message naming it, no traceback.
    proc = subprocess.run(
        [sys.executable, "-m", "psirt.cli", "audit", "verify"], env=bare, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert "PSIRT_AUDIT_KEYS is not set" in proc.stderr
    assert "Traceback" not in proc.stderr
    # Before migrations the audit log cannot be read: a clear message, no traceback.
    proc = subprocess.run(
        [sys.executable, "-m", "psirt.cli", "audit", "verify"],
        env={**bare, "PSIRT_AUDIT_KEYS": new_fernet_key()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "psirt migrate" in proc.stderr
    assert "Traceback" not in proc.stderr
    # The web commands still refuse to start without their configuration.
    proc = subprocess.run(
        [sys.executable, "-m", "psirt.cli", "check"], env=bare, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert "configuration error" in proc.stderr


def test_audit_verify_checks_a_migrated_database_in_production_mode_without_the_web_configuration(
    dev_env: dict[str, str],
) -> None:
    audit_key = new_fernet_key()  # the audit log verifies only under the key it was written with
    assert run_psirt("migrate", "-v", "0", env={**dev_env, "PSIRT_AUDIT_KEYS": audit_key}).returncode == 0
    bare = {"PATH": os.environ.get("PATH", ""), "PSIRT_DEV": "0", "PSIRT_VAR_DIR": dev_env["PSIRT_VAR_DIR"]}
    bare["PSIRT_AUDIT_KEYS"] = audit_key
    proc = subprocess.run(
        [sys.executable, "-m", "psirt.cli", "audit", "verify"], env=bare, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OK:")


def test_a_database_refuses_keys_it_was_not_encrypted_with(dev_env: dict[str, str]) -> None:
    first = {**dev_env, "PSIRT_ENCRYPTION_KEYS": run_psirt("genkey").stdout.strip()}
    assert run_psirt("migrate", "-v", "0", env=first).returncode == 0
    assert run_psirt("check", env=first).returncode == 0
    other = {**dev_env, "PSIRT_ENCRYPTION_KEYS": run_psirt("genkey").stdout.strip()}
    proc = run_psirt("check", env=other)
    assert proc.returncode != 0 and "psirt.E001" in proc.stderr
    proc = run_psirt("serve", env=other)
    assert proc.returncode == 2 and "PSIRT_ENCRYPTION_KEYS do not match the stored data" in proc.stderr
    # Commands that read no encrypted data still run: checking the audit chain needs no key.
    proc = run_psirt("audit", "verify", env=other)
    assert proc.returncode == 0, proc.stderr
