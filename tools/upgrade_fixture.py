"""Make the upgrade fixture: a released psirt's database, with the demo data in it, as a gzipped SQLite dump.

    .venv/bin/python tools/upgrade_fixture.py --ref v0.2.0

Run it at each release, with the release's tag (or commit): the code of that ref is taken from git into a
temporary folder, migrated into a fresh SQLite database and loaded with the demo data, and the database is written
as SQL text to tests-data/upgrade/previous.sql.gz with tests-data/upgrade/previous.json (the ref, its version,
its migration heads and the keys the data is encrypted under). `psirt/tests/test_upgrade.py` then migrates that
database to the current code on SQLite and PostgreSQL and checks that nothing was lost. The keys are test keys,
made for the fixture and published with it: nothing real is ever encrypted under them.

Replacing the fixture is the release step; the previous one need not be kept (the test covers the upgrade from
the last release, the one every installation is expected to pass through)."""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests-data" / "upgrade"


def _git(*args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True).stdout  # noqa: S603,S607


def _new_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _checkout(ref: str, folder: Path) -> None:
    """The files of `ref`, without touching the working tree."""
    archive = folder / "src.tar"
    archive.write_bytes(_git("archive", "--format=tar", ref))
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "src", filter="data")
    archive.unlink()


def _run(src: Path, env: dict[str, str], *args: str) -> None:
    # PYTHONPATH first: the released code is imported, not the installed one.
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "psirt.cli", *args], cwd=src, env=env, capture_output=True, text=True, timeout=1800
    )
    if done.returncode != 0:
        raise SystemExit(f"psirt {' '.join(args)} failed:\n{done.stderr[-5000:]}")


def _heads(database: Path) -> dict[str, str]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT app, name FROM django_migrations ORDER BY id").fetchall()
    heads: dict[str, str] = {}
    for app, name in rows:
        heads[app] = max(heads.get(app, ""), name)
    return dict(sorted(heads.items()))


def _dump(database: Path, target: Path) -> None:
    # mtime 0: the same database gives the same file, so a refresh without change is no diff.
    with (
        sqlite3.connect(database) as conn,
        target.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as out,
    ):
        for line in conn.iterdump():
            out.write((line + "\n").encode("utf-8"))


def make(ref: str, out: Path) -> Path:
    commit = _git("rev-parse", f"{ref}^{{commit}}").decode().strip()
    keys = {
        "SECRET_KEY": _new_key() + _new_key(),
        "PSIRT_ENCRYPTION_KEYS": _new_key(),
        "PSIRT_AUDIT_KEYS": _new_key(),
    }
    with tempfile.TemporaryDirectory(prefix="psirt-upgrade-") as tmp:
        folder = Path(tmp)
        _checkout(commit, folder)
        src = folder / "src"
        database = folder / "previous.sqlite3"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PSIRT_", "DJANGO_", "DATABASE_URL"))}
        env.update(keys)
        env.update(
            {
                "PYTHONPATH": str(src),
                "PSIRT_DEV": "1",
                "PSIRT_VAR_DIR": str(folder / "var"),
                "DATABASE_URL": f"sqlite:///{database}",
                "TIME_ZONE": "UTC",
            }
        )
        _run(src, env, "migrate", "-v", "0")
        _run(src, env, "demo", "-v", "0")
        version = next(
            line.split("=", 1)[1].strip().strip('"')
            for line in (src / "pyproject.toml").read_text(encoding="utf-8").splitlines()
            if line.startswith("version")
        )
        out.mkdir(parents=True, exist_ok=True)
        _dump(database, out / "previous.sql.gz")
        manifest = {
            "ref": ref,
            "commit": commit,
            "version": version,
            "made_with": "tools/upgrade_fixture.py",
            "keys": keys,
            "migration_heads": _heads(database),
        }
        (out / "previous.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return out / "previous.sql.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", required=True, help="the release's tag or commit")
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder of the fixture (default {OUT})")
    args = parser.parse_args()
    path = make(args.ref, args.out)
    sys.stdout.write(f"{path} ({path.stat().st_size} bytes)\n")


if __name__ == "__main__":
    main()
