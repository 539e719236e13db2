"""The archive's layout and its manifest: what a psirt backup holds and how each member is named.

An archive is a tar file (optionally gzip-compressed) whose members all sit under `psirt-backup/`:

    psirt-backup/files/…               the encrypted attachment files, exactly as stored (ciphertext)
    psirt-backup/csaf/…                the CSAF provider tree
    psirt-backup/audit-checkpoints/…   the audit log's signed checkpoints, when kept under the var dir
    psirt-backup/db/psirt.sqlite3      the database (SQLite), or db/psirt.pgdump (pg_dump custom format)
    psirt-backup/manifest.json         versions, migration state, row counts, every member's SHA-256
    psirt-backup/manifest.json.asc     last, when the site has a signing key: its OpenPGP signature of the manifest

Member names are checked before anything is read or written: only regular files and folders, relative names
under the prefix, no `..`, no absolute path, no link, no device, no name twice. Readers take the members in any
order, the manifest last: archives of earlier releases, with the database copy first, verify and restore alike."""

from __future__ import annotations

import json
import posixpath
from dataclasses import asdict, dataclass, field
from typing import Any

from psirt.ops.backup.exceptions import ArchiveInvalid

FORMAT = "psirt-backup/1"
PREFIX = "psirt-backup"
MANIFEST_NAME = f"{PREFIX}/manifest.json"
SIGNATURE_NAME = f"{MANIFEST_NAME}.asc"
MAX_SIGNATURE_BYTES = 64 * 1024
SQLITE_MEMBER = f"{PREFIX}/db/psirt.sqlite3"
PGDUMP_MEMBER = f"{PREFIX}/db/psirt.pgdump"
# Folders of the var dir carried in the archive, by their name in the archive. The attachment spool and
# temporary files are left out: they hold half-received uploads nobody will read again.
TREES = ("files", "csaf", "audit-checkpoints")
MAX_MANIFEST_BYTES = 512 * 1024 * 1024
MAX_NAME_LENGTH = 1024


@dataclass(frozen=True)
class Member:
    """One file in the archive: its name there, its size and SHA-256."""

    path: str
    size: int
    sha256: str


@dataclass
class Manifest:
    """What a backup holds. `referenced_files` are the attachment files the database copy names: each must be
    among `files`, or the backup would restore reports whose attachments are lost."""

    psirt_version: str
    created_at: str
    engine: str
    server_version: str
    migrations: dict[str, list[str]]
    tables: dict[str, int]
    files: list[Member] = field(default_factory=list)
    referenced_files: list[str] = field(default_factory=list)
    format: str = FORMAT

    @property
    def database_member(self) -> str:
        return SQLITE_MEMBER if self.engine == "sqlite" else PGDUMP_MEMBER

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data.decode("utf-8"))
            if not isinstance(raw, dict) or raw.get("format") != FORMAT:
                raise ArchiveInvalid(f"The manifest is not a {FORMAT} manifest: this is not a psirt backup.")
            return cls(
                psirt_version=str(raw["psirt_version"]),
                created_at=str(raw["created_at"]),
                engine=_engine(raw["engine"]),
                server_version=str(raw["server_version"]),
                migrations={str(app): [str(n) for n in names] for app, names in dict(raw["migrations"]).items()},
                tables={str(name): _count(count) for name, count in dict(raw["tables"]).items()},
                files=[_member(item) for item in raw["files"]],
                referenced_files=[str(name) for name in raw["referenced_files"]],
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ArchiveInvalid(f"The manifest is malformed ({type(exc).__name__}): not a usable backup.") from None


def _engine(value: Any) -> str:
    if value not in {"sqlite", "postgresql"}:
        raise ValueError("engine")
    return str(value)


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("count")
    return value


def _member(item: Any) -> Member:
    size = _count(item["size"])
    sha = str(item["sha256"])
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ValueError("sha256")
    return Member(path=check_member_name(str(item["path"])), size=size, sha256=sha)


def check_member_name(name: str) -> str:
    """`name` if it is a safe member name under the prefix; ArchiveInvalid otherwise (absolute, `..`, backslash,
    NUL, control characters, empty parts, outside the prefix). Nothing is ever resolved against the disk."""
    bad = (
        not name
        or len(name) > MAX_NAME_LENGTH
        or name.startswith("/")
        or "\\" in name
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
        or posixpath.normpath(name) != name.rstrip("/")
        or any(part in {"", ".", ".."} for part in name.rstrip("/").split("/"))
        or not (name.rstrip("/") == PREFIX or name.startswith(PREFIX + "/"))
    )
    if bad:
        raise ArchiveInvalid(f"The archive holds a member with an unsafe name ({name[:80]!r}): refused.")
    return name
