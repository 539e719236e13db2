"""`psirt backup DEST`: one archive of the database, the encrypted files, the CSAF tree and the audit checkpoints.

Why the archive is consistent while reports keep arriving: the database is copied first, as one committed state
(`psirt.ops.backup.database`); the files are copied after it. A stored file is written under a temporary name and
renamed into place before the row naming it commits, and is never rewritten afterwards (only `psirt rotatekeys`
re-encrypts files in place: do not run it during a backup). So every file a row of the copy names already existed,
complete, when the copy was taken, and is found by the later walk of the file store; files that arrive after the
copy are carried too and are simply unreferenced after a restore (the hourly sweep removes them). A file deleted
between the two steps (a report purged meanwhile) would be missed: the backup compares the names in the copy with
the files it carried and refuses to finish rather than write an archive that restores reports without their
attachments."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import io
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings

from psirt.advisories.csaf.provider import provider_root
from psirt.lib.crypto import file_store
from psirt.ops.backup.database import DatabaseFacts, engine, pg_snapshot, sqlite_snapshot
from psirt.ops.backup.exceptions import BackupError
from psirt.ops.backup.manifest import MANIFEST_NAME, PREFIX, Manifest, Member

COPY_BUFFER = 1024 * 1024


class HashingReader:
    """A file wrapper that hashes what is read through it, so each byte is read from disk once."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest
    size: int


def psirt_version() -> str:
    try:
        return importlib.metadata.version("psirt")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def trees() -> dict[str, Path]:
    """The folders carried in the archive, by their name there: the attachments and the CSAF tree where every
    process finds them (the shared folder, or the var dir when none is set), and the audit checkpoints."""
    return {
        "files": file_store().root,
        "csaf": provider_root(),
        "audit-checkpoints": Path(settings.PSIRT_AUDIT_CHECKPOINT_DIR),
    }


def walk(root: Path) -> list[Path]:
    """Regular files under `root`, sorted, without links, hidden (temporary) names and the upload spool."""
    found: list[Path] = []
    if not root.is_dir():
        return found
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (Path(folder) == root and d == "spool"))
        for name in sorted(names):
            path = Path(folder) / name
            if not name.startswith(".") and path.is_file() and not path.is_symlink():
                found.append(path)
    return found


def _info(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o600
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> Member | None:
    """Add one file; None if it went away since the walk (a stash expired meanwhile)."""
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return None
    with fh:
        stat = os.fstat(fh.fileno())
        reader = HashingReader(fh)
        tar.addfile(_info(name, stat.st_size, stat.st_mtime), reader)  # type: ignore[arg-type]
    return Member(path=name, size=stat.st_size, sha256=reader.digest.hexdigest())


def target_path(dest: Path, *, compress: bool, now: dt.datetime) -> Path:
    """DEST itself, or a dated name inside DEST when it is a folder (what a schedule passes)."""
    if dest.is_dir():
        return dest / f"psirt-backup-{now:%Y%m%dT%H%M%SZ}.tar{'.gz' if compress else ''}"
    return dest


def create_backup(*, dest: Path, compress: bool = False, force: bool = False) -> BackupResult:
    """Write the archive to `dest` (a file name, or a folder to put a dated archive in). The archive appears under
    its name only when complete; on any failure nothing is left under that name."""
    now = dt.datetime.now(dt.UTC)
    path = target_path(dest, compress=compress, now=now)
    compress = compress or path.name.endswith((".tar.gz", ".tgz"))
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist: create it first.")
    if path.exists() and not force:
        raise BackupError(f"{path} already exists: choose another name, or pass --force to replace it.")
    kind = engine()
    work = Path(tempfile.mkdtemp(dir=path.parent, prefix=".psirt-backup-"))
    partial = path.with_name(f".{path.name}.partial")
    try:
        db_copy = work / "database"
        facts: DatabaseFacts = sqlite_snapshot(db_copy) if kind == "sqlite" else pg_snapshot(db_copy)
        manifest = Manifest(
            psirt_version=psirt_version(),
            created_at=now.isoformat(timespec="seconds"),
            engine=kind,
            server_version=facts.server_version,
            migrations=facts.migrations,
            tables=facts.tables,
            referenced_files=facts.referenced_files,
        )
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            mode = "w|gz" if compress else "w|"
            with tarfile.open(fileobj=out, mode=mode, format=tarfile.PAX_FORMAT, copybufsize=COPY_BUFFER) as tar:  # type: ignore[call-overload]
                member = _add_file(tar, manifest.database_member, db_copy)
                if member is None:  # pragma: no cover - our own temporary file
                    raise BackupError("The database copy disappeared while the archive was written.")
                manifest.files.append(member)
                carried: set[str] = set()
                for tree, root in trees().items():
                    for file in walk(root):
                        name = f"{PREFIX}/{tree}/{file.relative_to(root).as_posix()}"
                        added = _add_file(tar, name, file)
                        if added is not None:
                            manifest.files.append(added)
                            if tree == "files":
                                carried.add(file.name)
                missing = sorted(set(facts.referenced_files) - carried)
                if missing:
                    raise BackupError(
                        f"{len(missing)} attachment file(s) named by the database are not in "
                        f"{trees()['files']} (first: {missing[0]}). If a report was deleted during the backup, run "
                        "it again; otherwise those files are lost and `psirt doctor` lists them."
                    )
                data = manifest.to_json()
                info = _info(MANIFEST_NAME, len(data), now.timestamp())
                tar.addfile(info, io.BytesIO(data))
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupResult(path=path, manifest=manifest, size=path.stat().st_size)
