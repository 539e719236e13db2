"""Backup and restore benchmark: `psirt backup` and `psirt restore` of a site with N advisories and N reports,
each report with one 50 KB attachment (10,000 each by default; `--quick`: 300).

Rows are generated with `bulk_create` (advisories and reports with their encrypted columns, attachments encrypted
into the real file store through `psirt.lib.crypto.file_store`), not through the services: submitting 10,000
reports through the intake would take far longer than the benchmark itself and measure the intake, not backups.

References, measured in the same run on the same data, each run alternately with the backup (`--repeat` times,
medians reported):
- SQLite: `cp -r` of the same bytes (the database file, the file store, the CSAF tree) to a new folder on the same
  disk. Goal: backup ≤ 2× that.
- PostgreSQL (when a server answers on 127.0.0.1:5432): the SQLite archive is restored onto a PostgreSQL database
  migrated while the SQLite site was filled (`restore --force`, timed), then `psirt backup` against it is compared
  with `pg_dump --format=custom` alone, and with `pg_dump` plus `cp -r` of the same files (the archive carries
  both: pg_dump alone copies none of the attachment bytes).
The archive is written with an fsync at its end; `cp` is not. Backups, verifications and restores are timed inside
their process (Django's start-up is not counted). The last line is `RESULT key=value …`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"

# One process per installation: the SQLite side fills its site first (bulk_create of advisories and reports, the
# attachments encrypted into the real file store), then each step is timed inside the process, each reference
# right before each backup. Prints one JSON line.
TIMED = r"""
import json, os, shutil, subprocess, sys, time, django
from pathlib import Path
django.setup()
from django.conf import settings
from django.utils import timezone
from psirt.ops.backup import create_backup, restore_archive, verify_archive
what, archive, repeat, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
var = Path(settings.PSIRT_VAR_DIR)
trees = [var / "files", var / "csaf", var / "audit-checkpoints"]
out = {}


def clock(step):
    began = time.perf_counter()
    step()
    return time.perf_counter() - began


def copy(*paths):
    target = archive.parent / "cp"
    target.mkdir()
    began = time.perf_counter()
    subprocess.run(["cp", "-r", *[str(p) for p in paths if p.exists()], str(target)], check=True)
    seconds = time.perf_counter() - began
    shutil.rmtree(target)
    return seconds


def backups(reference):
    times = []
    for _ in range(repeat):
        for key, value in reference().items():
            out.setdefault(key, []).append(value)
        archive.unlink(missing_ok=True)
        times.append(clock(lambda: out.__setitem__("size", create_backup(dest=archive).size)))
    out["backup_s"] = times
    out["verify_s"] = clock(lambda: verify_archive(archive))


def fill():
    from psirt.advisories.models import Advisory
    from psirt.intake.models import Attachment, Report
    from psirt.intake.services.submission import format_tracking_id
    from psirt.intake.services.tokens import email_hash
    from psirt.lib.crypto import file_store

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
                   reporter_email=f"r{n}@bench.test", email_hash=email_hash(f"r{n}@bench.test"),
                   description=f"Report {n}", token_hash=f"{n:064x}")
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


if what == "sqlite":
    out["fill_s"] = clock(fill)
    found = [p for root in trees if root.exists() for p in root.rglob("*") if p.is_file()]
    out["data_bytes"] = sum(p.stat().st_size for p in found) + (var / "psirt.sqlite3").stat().st_size
    backups(lambda: {"cp_s": copy(var / "psirt.sqlite3", *trees)})
elif what == "restore":
    out["restore_s"] = clock(lambda: restore_archive(path=archive))
else:
    out["restore_s"] = clock(lambda: restore_archive(path=archive.parent / "site.tar", force=True))
    dump = archive.parent / "ref.pgdump"

    def reference():
        db = settings.DATABASES["default"]
        env = {**os.environ, "PGHOST": db["HOST"], "PGUSER": db["USER"], "PGDATABASE": db["NAME"]}
        began = time.perf_counter()
        subprocess.run(["pg_dump", "--format=custom", "-f", str(dump)], env=env, check=True)
        dump_s = time.perf_counter() - began
        dump.unlink()
        return {"pg_dump_s": dump_s, "files_cp_s": copy(*trees)}

    backups(reference)
print(json.dumps(out))
"""


# One set of keys for every installation of the run, as an operator configures the new machine with the old one's.
KEYS = {
    "SECRET_KEY": secrets.token_urlsafe(64),
    "PSIRT_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    "PSIRT_AUDIT_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
}


def environment(var: Path, database_url: str | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PSIRT_", "DATABASE_URL", "DJANGO_SETTINGS", "SECRET_KEY"))
    }
    env.update(
        {
            **KEYS,
            "PSIRT_DEV": "1",
            "PSIRT_VAR_DIR": str(var),
            "DATABASE_URL": database_url or f"sqlite:///{var / 'psirt.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "psirt.settings",
            "EMAIL_URL": "dummy://",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, *args]


STARTED = time.perf_counter()


def run(env: dict[str, str], *args: str, label: str = "") -> str:
    print(f"[{time.perf_counter() - STARTED:6.1f} s] {label or ' '.join(args)}", file=sys.stderr, flush=True)
    result = subprocess.run(command(*args), env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])} failed: {result.stderr[-2000:]}")
    return result.stdout


def timed(env: dict[str, str], what: str, archive: Path, repeat: int, count: int = 0) -> dict[str, object]:
    out = run(env, "-c", TIMED, what, str(archive), str(repeat), str(count), label=what)
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def median(values: object) -> float:
    return statistics.median(values) if isinstance(values, list) else float(values)  # type: ignore[arg-type]


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 advisories and reports")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="backups (and references) timed per engine")
    args = parser.parse_args()
    count = args.count or (300 if args.quick else 10_000)
    work = Path(tempfile.mkdtemp(prefix="psirt-bench-backup-"))
    pg = _pg_start(work)
    try:
        site = work / "site"
        env = environment(site)
        run(env, "-m", "psirt.cli", "migrate", "-v", "0")
        archive = work / "site.tar"
        side = timed(env, "sqlite", archive, args.repeat, count)
        restore = timed(environment(work / "restored"), "restore", archive, 1)
        backup_s, cp_s = median(side["backup_s"]), median(side["cp_s"])
        ratio = backup_s / cp_s if cp_s else 0.0
        size, data = float(side["size"]), float(side["data_bytes"])  # type: ignore[arg-type]
        print(
            f"site: {count} advisories, {count} reports with a 50 KB attachment each ({data / 1e6:.0f} MB), "
            f"filled in {median(side['fill_s']):.1f} s"
        )
        print(
            f"sqlite  backup {backup_s:.2f} s (median of {args.repeat}), archive {size / 1e6:.0f} MB; "
            f"cp -r {cp_s:.2f} s; ratio {ratio:.2f} (goal ≤ 2); load {load()}"
        )
        print(f"sqlite  verify {median(side['verify_s']):.2f} s, restore {median(restore['restore_s']):.2f} s")
        result = (
            f"RESULT count={count} data_mb={data / 1e6:.0f} archive_mb={size / 1e6:.0f} "
            f"backup_s={backup_s:.2f} cp_s={cp_s:.2f} backup_vs_cp={ratio:.2f} "
            f"verify_s={median(side['verify_s']):.2f} restore_s={median(restore['restore_s']):.2f}"
        )
        result += _postgresql(pg, work, args.repeat)
        print(result + f" load={load()}")
    finally:
        _pg_drop(pg)
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _pg_start(work: Path) -> tuple[str, subprocess.Popen[bytes]] | None:
    """A new PostgreSQL database, migrated in the background while the SQLite site is filled; None without a
    server."""
    import psycopg

    from psirt.tests.databases import create_database, new_database_name

    name = new_database_name("bench_backup")
    try:
        create_database(PG_SERVER, name)
    except psycopg.OperationalError:
        return None
    var = work / "pg"
    var.mkdir()
    migrate = subprocess.Popen(
        command("-m", "psirt.cli", "migrate", "-v", "0"),
        env=environment(var, f"{PG_SERVER}/{name}"),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return name, migrate


def _pg_drop(pg: tuple[str, subprocess.Popen[bytes]] | None) -> None:
    from psirt.tests.databases import drop_database

    if pg is None:
        return
    name, migrate = pg
    if migrate.poll() is None:
        migrate.kill()
        migrate.wait()
    drop_database(PG_SERVER, name)


def _postgresql(pg: tuple[str, subprocess.Popen[bytes]] | None, work: Path, repeat: int) -> str:
    if pg is None:
        print("postgresql: no server on 127.0.0.1:5432, skipped")
        return " pg=skipped"
    name, migrate = pg
    _, errors = migrate.communicate()
    if migrate.returncode != 0:
        raise SystemExit(f"psirt migrate on PostgreSQL failed: {errors.decode()[-2000:]}")
    side = timed(environment(work / "pg", f"{PG_SERVER}/{name}"), "postgresql", work / "pg.tar", repeat)
    backup_s, dump_s, files_s = median(side["backup_s"]), median(side["pg_dump_s"]), median(side["files_cp_s"])
    both = [d + f for d, f in zip(side["pg_dump_s"], side["files_cp_s"], strict=True)]  # type: ignore[call-overload]
    alone = backup_s / dump_s if dump_s else 0.0
    with_files = backup_s / median(both) if both else 0.0
    print(f"postgresql  restore of the SQLite archive onto a migrated database {median(side['restore_s']):.2f} s")
    print(
        f"postgresql  backup {backup_s:.2f} s; pg_dump alone {dump_s:.2f} s (ratio {alone:.2f}); pg_dump + cp -r "
        f"of the files {median(both):.2f} s (ratio {with_files:.2f}); load {load()}"
    )
    print(f"postgresql  verify (dump read back through pg_restore, rows counted) {median(side['verify_s']):.2f} s")
    return (
        f" pg_restore_from_sqlite_s={median(side['restore_s']):.2f} pg_backup_s={backup_s:.2f} "
        f"pg_dump_s={dump_s:.2f} pg_files_cp_s={files_s:.2f} pg_backup_vs_dump={alone:.2f} "
        f"pg_backup_vs_dump_and_cp={with_files:.2f} pg_verify_s={median(side['verify_s']):.2f}"
    )


if __name__ == "__main__":
    sys.exit(main())
