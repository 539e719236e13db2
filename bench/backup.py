"""Backup and restore benchmark: `psirt backup` and `psirt restore` of a site with N advisories and N reports,
each report with one 50 KB attachment (10,000 each by default; `--quick`: 300).

Rows are generated with `bulk_create` (advisories and reports with their encrypted columns, attachments encrypted
into the real file store through `psirt.lib.crypto.file_store`), not through the services: submitting 10,000
reports through the intake would take far longer than the benchmark itself and measure the intake, not backups.

References, measured in the same run on the same data:
- SQLite: `cp -r` of the same bytes (the database file, the file store, the CSAF tree) to a new folder on the same
  disk. Goal: backup ≤ 2× that.
- PostgreSQL (when a server answers on 127.0.0.1:5432): the site is restored onto a fresh database (SQLite →
  PostgreSQL, timed), then `psirt backup` against it is compared with `pg_dump --format=custom` alone.
Backups, verifications and restores are timed inside their process (Django's start-up is not counted). The last line is
`RESULT key=value …`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"

TIMED = r"""
import json, sys, time, django
from pathlib import Path
django.setup()
from psirt.ops.backup import create_backup, restore_archive, verify_archive
began = time.perf_counter()
if sys.argv[1] == "backup":
    result = create_backup(dest=Path(sys.argv[2]))
    print(json.dumps({"seconds": time.perf_counter() - began, "size": result.size}))
elif sys.argv[1] == "verify":
    verify_archive(Path(sys.argv[2]))
    print(json.dumps({"seconds": time.perf_counter() - began}))
else:
    restore_archive(path=Path(sys.argv[2]))
    print(json.dumps({"seconds": time.perf_counter() - began}))
"""


def environment(var: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PSIRT_", "DATABASE_URL", "DJANGO_SETTINGS"))}
    env.update(
        {
            "PSIRT_DEV": "1",
            "PSIRT_VAR_DIR": str(var),
            "DATABASE_URL": database_url or f"sqlite:///{var / 'psirt.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "psirt.settings",
            "EMAIL_URL": "dummy://",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def run(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(args, env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])} failed: {result.stderr[-2000:]}")
    return result.stdout


def timed(env: dict[str, str], what: str, path: Path) -> dict[str, float]:
    out = run(env, sys.executable, "-c", TIMED, what, str(path))
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


FILL = r"""
import os, sys, django
django.setup()
from django.utils import timezone
from psirt.advisories.models import Advisory
from psirt.intake.models import Attachment, Report
from psirt.intake.services.submission import format_tracking_id
from psirt.lib.crypto import file_store
from psirt.intake.services.tokens import email_hash
count = int(sys.argv[1])
now = timezone.now()
Advisory.objects.bulk_create(
    [
        Advisory(advisory_id=f"BENCH-SA-2026-{n:05d}", year=2026, number=n, title_en=f"Advisory {n}")
        for n in range(1, count + 1)
    ],
    batch_size=1000,
)
reports = Report.objects.bulk_create(
    [
        Report(tracking_id=format_tracking_id(2026, n), year=2026, number=n, reporter_name=f"R {n}",
               reporter_email=f"r{n}@bench.test", email_hash=email_hash(f"r{n}@bench.test"), description=f"Report {n}",
               token_hash=f"{n:064x}")
        for n in range(1, count + 1)
    ],
    batch_size=1000,
)
store = file_store()
rows = []
for report in reports:
    stored = store.save([os.urandom(50 * 1024)])
    rows.append(Attachment(report=report, name="dump.bin", size=stored.size, storage_name=stored.name))
Attachment.objects.bulk_create(rows, batch_size=1000)
print(Report.objects.count(), Attachment.objects.count())
"""


def folder_bytes(*paths: Path) -> int:
    return sum(p.stat().st_size for root in paths if root.exists() for p in root.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 advisories and reports")
    parser.add_argument("--count", type=int, default=0)
    args = parser.parse_args()
    count = args.count or (300 if args.quick else 10_000)
    work = Path(tempfile.mkdtemp(prefix="psirt-bench-backup-"))
    try:
        site = work / "site"
        env = environment(site)
        run(env, sys.executable, "-m", "psirt.cli", "migrate", "-v", "0")
        began = time.perf_counter()
        run(env, sys.executable, "-c", FILL, str(count))
        fill_s = time.perf_counter() - began
        data_bytes = folder_bytes(site / "files", site / "csaf") + (site / "psirt.sqlite3").stat().st_size

        began = time.perf_counter()
        copy = work / "cp"
        copy.mkdir()
        subprocess.run(["cp", "-r", str(site / "psirt.sqlite3"), str(site / "files"), str(copy)], check=True)
        if (site / "csaf").exists():
            subprocess.run(["cp", "-r", str(site / "csaf"), str(copy)], check=True)
        cp_s = time.perf_counter() - began
        shutil.rmtree(copy)

        archive = work / "site.tar"
        backup = timed(env, "backup", archive)
        restored = work / "restored"
        restored.mkdir()
        for name in ("secret_key", "encryption_key", "audit_key"):
            shutil.copy2(site / name, restored / name)
        verify = timed(env, "verify", archive)
        restore = timed(environment(restored), "restore", archive)
        ratio = backup["seconds"] / cp_s if cp_s else 0.0
        print(
            f"site: {count} advisories, {count} reports with a 50 KB attachment each "
            f"({data_bytes / 1e6:.0f} MB), filled in {fill_s:.1f} s"
        )
        print(
            f"sqlite  backup {backup['seconds']:.2f} s, archive {backup['size'] / 1e6:.0f} MB; "
            f"cp -r {cp_s:.2f} s; ratio {ratio:.2f} (goal ≤ 2)"
        )
        print(f"sqlite  verify {verify['seconds']:.2f} s, restore {restore['seconds']:.2f} s")
        result = (
            f"RESULT count={count} data_mb={data_bytes / 1e6:.0f} archive_mb={backup['size'] / 1e6:.0f} "
            f"backup_s={backup['seconds']:.2f} cp_s={cp_s:.2f} backup_vs_cp={ratio:.2f} "
            f"verify_s={verify['seconds']:.2f} restore_s={restore['seconds']:.2f}"
        )
        result += _postgresql(work, archive, site)
        print(result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _postgresql(work: Path, archive: Path, site: Path) -> str:
    import psycopg

    try:
        admin = psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        print("postgresql: no server on 127.0.0.1:5432, skipped")
        return " pg=skipped"
    name = f"bench_backup_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        var = work / "pg"
        var.mkdir()
        for key in ("secret_key", "encryption_key", "audit_key"):
            shutil.copy2(site / key, var / key)
        env = environment(var, f"{PG_SERVER}/{name}")
        move = timed(env, "restore", archive)
        backup = timed(env, "backup", work / "pg.tar")
        verify = timed(env, "verify", work / "pg.tar")
        began = time.perf_counter()
        pg_env = {**os.environ, "PGHOST": "127.0.0.1", "PGUSER": "postgres", "PGDATABASE": name}
        subprocess.run(["pg_dump", "--format=custom", "-f", str(work / "ref.pgdump")], env=pg_env, check=True)
        dump_s = time.perf_counter() - began
        ratio = backup["seconds"] / dump_s if dump_s else 0.0
        print(f"postgresql  restore from the SQLite archive {move['seconds']:.2f} s")
        print(f"postgresql  backup {backup['seconds']:.2f} s; pg_dump alone {dump_s:.2f} s; ratio {ratio:.2f}")
        print(f"postgresql  verify (dump read back through pg_restore, rows counted) {verify['seconds']:.2f} s")
        return (
            f" pg_restore_from_sqlite_s={move['seconds']:.2f} pg_backup_s={backup['seconds']:.2f} "
            f"pg_dump_s={dump_s:.2f} pg_backup_vs_dump={ratio:.2f} pg_verify_s={verify['seconds']:.2f}"
        )
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    sys.exit(main())
