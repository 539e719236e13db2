"""`psirt backup DEST`: one archive of the database, the encrypted files, the CSAF tree and the audit checkpoints.

Why the archive is consistent while reports keep arriving: the database state is fixed first, as one committed
state (`psirt.ops.backup.database`: SQLite is copied, PostgreSQL's snapshot is exported and pg_dump dumps it while
the files are carried); the files are walked after that. A stored file is written under a temporary name and
renamed into place before the row naming it commits, and is never rewritten afterwards (only `psirt rotatekeys`
re-encrypts files in place: do not run it during a backup). So every file a row of the copy names already existed,
complete, when the copy was taken, and is found by the later walk of the file store; files that arrive after the
copy are carried too and are simply unreferenced after a restore (the hourly sweep removes them). A file deleted
between the two steps (a report purged meanwhile) would be missed: the backup compares the names in the copy with
the files it carried and refuses to finish rather than write an archive that restores reports without their
attachments."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import gzip
import hashlib
import importlib.metadata
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
from psirt.lib.signing import signing_available, signing_key
from psirt.ops.backup.database import DatabaseFacts, engine, pg_snapshot, sqlite_snapshot
from psirt.ops.backup.exceptions import BackupError
from psirt.ops.backup.manifest import MANIFEST_NAME, PREFIX, SIGNATURE_NAME, Manifest, Member

COPY_BUFFER = 1024 * 1024
BLOCK = 512
RECORD = 20 * BLOCK  # tar's customary record: the archive's length is a multiple of it
WHOLE_FILE = 8 * 1024 * 1024  # files up to this size are read, hashed and written in one piece
_USTAR_MAX_SIZE = 8**11 - 1  # what the 11 octal digits of a ustar size field hold


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest
    size: int
    signed_by: str | None = None  # the fingerprint of the key that signed the manifest


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


def tar_header(name: str, size: int, mtime: int) -> bytes:
    """The header block(s) of a regular, owner-only member. A plain ustar block when the name is ASCII and fits
    its 100 bytes and the size its 11 octal digits (every member psirt writes today); otherwise tarfile's own PAX
    header, which carries any name and size. Both are what `tarfile` and GNU tar read."""
    raw = name.encode("ascii", "replace")
    if len(raw) > 100 or not name.isascii() or not 0 <= size <= _USTAR_MAX_SIZE or not 0 <= mtime < 8**11:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, mtime, 0o600
        info.uname = info.gname = ""
        return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    block = bytearray(BLOCK)
    block[0 : len(raw)] = raw
    block[100:124] = b"0000600\x000000000\x000000000\x00"  # mode, uid, gid
    block[124:136] = b"%011o\x00" % size
    block[136:148] = b"%011o\x00" % mtime
    block[148:156] = b"        "  # the checksum is summed with its own field as spaces
    block[156:157] = b"0"  # a regular file
    block[257:265] = b"ustar\x0000"
    block[148:156] = b"%06o\x00 " % sum(block)
    return bytes(block)


def _padding(size: int) -> bytes:
    return bytes(-size % BLOCK)


class ArchiveWriter:
    """Writes a tar stream member by member: one header built per file, and each file read once, hashed and
    written with its header and padding in one write (`tarfile` spends most of a backup building headers and
    copying through its layers). With `compress`, the same stream goes through gzip."""

    def __init__(self, out: IO[bytes], *, compress: bool) -> None:
        self._fd = out.fileno()
        self._gzip = gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=0) if compress else None
        self.written = 0

    def _write(self, *parts: bytes) -> None:
        before = self.written
        self.written += sum(len(part) for part in parts)
        if self._gzip is not None:
            for part in parts:
                self._gzip.write(part)
            return
        done = os.writev(self._fd, parts)
        if done < self.written - before:  # a short write (a signal, a full disk): write the rest in turn
            rest = memoryview(b"".join(parts))[done:]
            while rest:
                rest = rest[os.write(self._fd, rest) :]

    def add_bytes(self, name: str, data: bytes, mtime: float) -> Member:
        self._write(tar_header(name, len(data), int(mtime)), data, _padding(len(data)))
        return Member(path=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    def add_file(self, name: str, path: Path) -> Member | None:
        """Add one file; None if it went away since the walk (a stash expired meanwhile)."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError as exc:
            if exc.errno in {errno.ENOENT, errno.ELOOP}:
                return None  # gone, or replaced by a link since the walk: links are never carried
            raise
        try:
            stat = os.fstat(fd)
            size = stat.st_size
            header = tar_header(name, size, int(stat.st_mtime))
            if size <= WHOLE_FILE:
                data = _read_exact(fd, size, path)
                self._write(header, data, _padding(size))
                digest = hashlib.sha256(data)
            else:
                self._write(header)
                digest = hashlib.sha256()
                left = size
                while left:
                    chunk = _read_exact(fd, min(COPY_BUFFER, left), path)
                    digest.update(chunk)
                    self._write(chunk)
                    left -= len(chunk)
                self._write(_padding(size))
        finally:
            os.close(fd)
        return Member(path=name, size=size, sha256=digest.hexdigest())

    def close(self) -> None:
        """The end-of-archive blocks, the stream padded to whole records."""
        end = 2 * BLOCK + (-(self.written + 2 * BLOCK) % RECORD)
        self._write(bytes(end))
        if self._gzip is not None:
            self._gzip.close()


def _read_exact(fd: int, size: int, path: Path) -> bytes:
    data = os.read(fd, size)
    if len(data) == size:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = os.read(fd, size - got)
        if not more:
            raise BackupError(
                f"{path} shrank while it was copied: a stored file is never rewritten, run the backup again."
            )
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def target_path(dest: Path, *, compress: bool, now: dt.datetime) -> Path:
    """DEST itself, or a dated name inside DEST when it is a folder (what a schedule passes)."""
    if dest.is_dir():
        return dest / f"psirt-backup-{now:%Y%m%dT%H%M%SZ}.tar{'.gz' if compress else ''}"
    return dest


def create_backup(*, dest: Path, compress: bool = False, force: bool = False) -> BackupResult:
    """Write the archive to `dest` (a file name, or a folder to put a dated archive in). The archive appears under
    its name only when complete; on any failure nothing is left under that name.

    On PostgreSQL, pg_dump writes the dump from its snapshot while the files are carried; the dump goes in last,
    before the manifest. The files are still walked after the snapshot was taken, which is what makes the archive
    consistent (see above)."""
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
        snapshot: contextlib.AbstractContextManager[DatabaseFacts] = (
            pg_snapshot(db_copy) if kind == "postgresql" else contextlib.nullcontext(sqlite_snapshot(db_copy))
        )
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out:
            archive = ArchiveWriter(out, compress=compress)
            with snapshot as facts:
                manifest = Manifest(
                    psirt_version=psirt_version(),
                    created_at=now.isoformat(timespec="seconds"),
                    engine=kind,
                    server_version=facts.server_version,
                    migrations=facts.migrations,
                    tables=facts.tables,
                    referenced_files=facts.referenced_files,
                )
                carried: set[str] = set()
                for tree, root in trees().items():
                    for file in walk(root):
                        added = archive.add_file(f"{PREFIX}/{tree}/{file.relative_to(root).as_posix()}", file)
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
            member = archive.add_file(manifest.database_member, db_copy)
            if member is None:  # pragma: no cover - our own temporary file
                raise BackupError("The database copy disappeared while the archive was written.")
            manifest.files.append(member)
            data = manifest.to_json()
            archive.add_bytes(MANIFEST_NAME, data, now.timestamp())
            # Signed with the key that signs the CSAF documents, when the site has one: `backup verify` then tells
            # this site's archives from any other, which checksums alone cannot.
            signed_by = None
            if signing_available():
                key = signing_key()
                archive.add_bytes(SIGNATURE_NAME, key.sign_detached(data).encode("ascii"), now.timestamp())
                signed_by = key.fingerprint
            archive.close()
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupResult(path=path, manifest=manifest, size=path.stat().st_size, signed_by=signed_by)
