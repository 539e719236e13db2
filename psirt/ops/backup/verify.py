"""`psirt backup verify ARCHIVE`, and the reading half of restore: one pass over the archive that refuses anything
unsafe or damaged before it is used.

Checked: every member name (`psirt.ops.backup.manifest.check_member_name`), only regular files (no link, device
or second copy of a name), the manifest present and last (but for its signature), every member's size and SHA-256
against it, no member missing or extra, every attachment file the database names present, and the database copy
itself: SQLite's integrity check; a PostgreSQL dump must read back through `pg_restore` (streamed, nothing
restored). Either copy's own migration state, row counts and attachment names must equal the manifest's. A
truncated or corrupted tar or gzip stream is reported as such. The manifest's OpenPGP signature, when there is
one, is checked against the certificate the caller trusts (`signer`): a signature by any other key, or none when
a signer is required, is refused."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from psirt.lib.signing import SigningUnavailable, signing_key, verify_detached
from psirt.ops.backup.database import DatabaseFacts, pg_dump_facts, sqlite_facts, tool
from psirt.ops.backup.exceptions import ArchiveInvalid, BackupError
from psirt.ops.backup.keys import load_certificates, signing_key_path
from psirt.ops.backup.manifest import (
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    MAX_SIGNATURE_BYTES,
    PREFIX,
    SIGNATURE_NAME,
    Manifest,
    Member,
    check_member_name,
)

READ_BUFFER = 1024 * 1024
SPACE_MARGIN = 64 * 1024 * 1024


@dataclass
class VerifyReport:
    manifest: Manifest
    notes: list[str] = field(default_factory=list)


def _copy_member(source: object, size: int, dest: Path | None) -> str:
    """Read `size` bytes from a tar member, writing them to `dest` (or nowhere); return the SHA-256."""
    digest = hashlib.sha256()
    out = None
    if dest is not None:
        dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if shutil.disk_usage(dest.parent).free < size + SPACE_MARGIN:
            raise ArchiveInvalid(f"Not enough free space in {dest.parent} to unpack a member of {size} bytes.")
        out = open(dest, "xb")  # noqa: SIM115 - closed below; x: never over an existing name
        os.chmod(dest, 0o600)
    try:
        while True:
            data = source.read(READ_BUFFER)  # type: ignore[attr-defined]
            if not data:
                break
            digest.update(data)
            if out is not None:
                out.write(data)
    finally:
        if out is not None:
            out.close()
    return digest.hexdigest()


@dataclass(frozen=True)
class Signer:
    """The certificate an archive's manifest must be signed by, and whether an unsigned archive is refused (a
    certificate the operator named) or only noted (this installation's own key, checked when it has one)."""

    public_key: str
    fingerprint: str
    required: bool


def scan(path: Path, *, into: Path, extract_all: bool, signer: Signer | None = None) -> VerifyReport:
    """Read the archive once, checking every member; unpack the database copy (and with `extract_all` every
    member) under `into`, at its name without the prefix. Raises ArchiveInvalid at the first problem."""
    if not path.is_file():
        raise ArchiveInvalid(f"{path} is not a file.")
    seen: dict[str, Member] = {}
    manifest_bytes: bytes | None = None
    signature: bytes | None = None
    try:
        with tarfile.open(path, mode="r|*") as tar:
            for info in tar:
                name = check_member_name(info.name)
                if signature is not None or (manifest_bytes is not None and name != SIGNATURE_NAME):
                    raise ArchiveInvalid(f"The archive has a member after its manifest ({name}): refused.")
                if info.isdir():
                    continue
                if not info.isreg():
                    raise ArchiveInvalid(f"The archive member {name} is a link or a special file: refused.")
                if name in seen:
                    raise ArchiveInvalid(f"The archive holds {name} twice: refused.")
                source = tar.extractfile(info)
                if source is None:  # pragma: no cover - regular files always have data
                    raise ArchiveInvalid(f"The archive member {name} has no data.")
                if name == MANIFEST_NAME:
                    if info.size > MAX_MANIFEST_BYTES:
                        raise ArchiveInvalid("The archive's manifest is implausibly large: refused.")
                    manifest_bytes = source.read()
                    continue
                if manifest_bytes is not None:  # the signature, right after the manifest
                    if info.size > MAX_SIGNATURE_BYTES:
                        raise ArchiveInvalid("The manifest's signature is implausibly large: refused.")
                    signature = source.read()
                    continue
                relative = name[len(PREFIX) + 1 :]
                wanted = extract_all or relative.startswith("db/")
                sha = _copy_member(source, info.size, into / relative if wanted else None)
                seen[name] = Member(path=name, size=info.size, sha256=sha)
    except (FileExistsError, NotADirectoryError, IsADirectoryError):
        # A member named like a folder of another ("files" and "files/x"): no archive of ours has that.
        raise ArchiveInvalid("The archive holds a file and a folder of the same name: refused.") from None
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ArchiveInvalid(
            f"The archive is truncated or damaged ({type(exc).__name__}): it cannot be used."
        ) from None
    if manifest_bytes is None:
        raise ArchiveInvalid(
            "The archive has no manifest (psirt-backup/manifest.json): truncated or not a psirt backup."
        )
    manifest = Manifest.from_json(manifest_bytes)
    listed = {member.path: member for member in manifest.files}
    missing = sorted(set(listed) - set(seen))
    extra = sorted(set(seen) - set(listed))
    if missing:
        raise ArchiveInvalid(
            f"{len(missing)} member(s) of the manifest are missing from the archive (first: {missing[0]})."
        )
    if extra:
        raise ArchiveInvalid(f"{len(extra)} member(s) are in the archive but not in its manifest (first: {extra[0]}).")
    for name, member in seen.items():
        if member != listed[name]:
            raise ArchiveInvalid(f"{name} does not match its checksum in the manifest: the archive was altered.")
    if manifest.database_member not in seen:
        raise ArchiveInvalid("The archive holds no database copy.")
    carried = {Path(name).name for name in seen if name.startswith(f"{PREFIX}/files/")}
    absent = sorted(set(manifest.referenced_files) - carried)
    if absent:
        raise ArchiveInvalid(f"{len(absent)} attachment file(s) named by the database are not in the archive.")
    report = VerifyReport(manifest=manifest)
    _check_signature(manifest_bytes, signature, signer, report)
    _check_database(manifest, into / manifest.database_member[len(PREFIX) + 1 :], report)
    return report


def _check_signature(manifest: bytes, signature: bytes | None, signer: Signer | None, report: VerifyReport) -> None:
    if signature is None:
        if signer is not None and signer.required:
            raise ArchiveInvalid(
                f"The archive's manifest is not signed, and a signature by {signer.fingerprint} is required."
            )
        report.notes.append("signature: the manifest is not signed")
        return
    if signer is None:
        report.notes.append("signature: present, not checked (no signing key here: pass --signer CERT)")
        return
    text = signature.decode("ascii", "replace")
    if not verify_detached(manifest, text, signer.public_key):
        raise ArchiveInvalid(
            f"The manifest's signature is not by {signer.fingerprint}: the archive was altered, or made by another "
            "installation (name its certificate with --signer)."
        )
    report.notes.append(f"signature: the manifest is signed by {signer.fingerprint}")


def _check_database(manifest: Manifest, copy: Path, report: VerifyReport) -> None:
    if manifest.engine == "sqlite":
        try:
            conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
            try:
                result = conn.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                conn.close()
            facts = sqlite_facts(copy)
        except sqlite3.DatabaseError as exc:
            raise ArchiveInvalid(f"The database copy does not open as SQLite ({exc}).") from None
        if result != "ok":
            raise ArchiveInvalid(f"The database copy fails SQLite's integrity check ({result}).")
        _compare(manifest, facts)
        report.notes.append(
            f"database: SQLite integrity ok, {sum(facts.tables.values())} rows in {len(facts.tables)} tables"
        )
        return
    try:
        tool("pg_restore")
    except BackupError:  # without the client tools only the checksum vouches for the dump
        report.notes.append("database: PostgreSQL dump checked by checksum only (pg_restore is not installed)")
        return
    try:
        facts = pg_dump_facts(copy)
    except BackupError as exc:
        raise ArchiveInvalid(f"The PostgreSQL dump does not read back: {exc.message}") from None
    _compare(manifest, facts)
    report.notes.append(
        f"database: PostgreSQL dump reads back, {sum(facts.tables.values())} rows in {len(facts.tables)} tables"
    )


def _sorted(migrations: dict[str, list[str]]) -> dict[str, list[str]]:
    return {app: sorted(names) for app, names in migrations.items()}


def _compare(manifest: Manifest, facts: DatabaseFacts) -> None:
    """The database copy's own migration state, row counts and attachment names against the manifest's: a
    manifest rewritten together with its checksums cannot hide a changed copy."""
    if _sorted(facts.migrations) != _sorted(manifest.migrations):
        raise ArchiveInvalid("The database copy's migration state differs from the manifest's.")
    if facts.tables != manifest.tables:
        differ = sorted(
            k for k in set(facts.tables) | set(manifest.tables) if facts.tables.get(k) != manifest.tables.get(k)
        )
        raise ArchiveInvalid(
            f"The database copy's row counts differ from the manifest's ({len(differ)} tables, first: {differ[0]})."
        )
    if sorted(facts.referenced_files) != sorted(manifest.referenced_files):
        raise ArchiveInvalid("The attachment files the database copy names differ from the manifest's.")


def installation_signer() -> Signer | None:
    """This installation's own signing key, when it has one (configured, or the development key already made):
    its archives are signed by it. An unsigned archive is then only noted (earlier releases did not sign)."""
    if not signing_key_path().is_file():
        return None
    try:
        key = signing_key()
    except SigningUnavailable:
        return None
    return Signer(public_key=key.public_key, fingerprint=key.fingerprint, required=False)


def certificate_signer(path: Path) -> Signer:
    """The OpenPGP certificate in `path` (the public half of the signing key of the installation that made the
    archive): its signature is then required."""
    cert = load_certificates([path])[0]
    return Signer(public_key=str(cert), fingerprint=str(cert.fingerprint).upper(), required=True)


def verify_archive(path: Path, signer: Signer | None = None) -> VerifyReport:
    """Check an archive without restoring it (only the database copy is unpacked, into a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="psirt-verify-") as tmp:
        return scan(path, into=Path(tmp), extract_all=False, signer=signer)
