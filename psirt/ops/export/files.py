"""The export folder on disk: checks before writing, atomic writes that stay inside the folder, the manifest of
what an export wrote, and the lock that keeps two exports from writing the same folder at once."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from psirt.lib.errors import DomainError
from psirt.lib.paths import folder_lock

MANIFEST_NAME = ".psirt-export.json"
LOCK_NAME = ".psirt-export.lock"
_TEMP_PREFIX = ".psirt-tmp-"


class ExportRefused(DomainError):
    """The export cannot start or cannot write: the message says what to change."""


@dataclass
class Manifest:
    """What the last export wrote into the folder and the state of the site it was made from."""

    exported_at: dt.datetime | None = None
    generation: str = ""
    files: set[str] = field(default_factory=set)

    def dumps(self) -> bytes:
        data = {
            "exported_at": self.exported_at.isoformat() if self.exported_at else None,
            "generation": self.generation,
            "files": sorted(self.files),
        }
        return json.dumps(data, indent=0, sort_keys=True).encode()


def read_manifest(root: Path) -> Manifest | None:
    """The folder's manifest, or None when there is none; an unreadable one is refused (not guessed at)."""
    path = root / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_bytes())
        when = data.get("exported_at")
        return Manifest(
            exported_at=dt.datetime.fromisoformat(when) if when else None,
            generation=str(data.get("generation") or ""),
            files={str(f) for f in data.get("files") or [] if isinstance(f, str)},
        )
    except (ValueError, TypeError, AttributeError, OSError) as exc:
        raise ExportRefused(f"{path} is not a readable export manifest ({exc}); remove it and export again.") from exc


def check_root(root: Path, *, force: bool, incremental: bool) -> Manifest | None:
    """Refuse a folder the export must not write: a file, a symlink, a non-empty folder that holds no earlier
    export (unless `force`), or, for an incremental export, a folder without one. Returns the earlier manifest."""
    if root.is_symlink():
        raise ExportRefused(f"{root} is a symbolic link; name the real folder.")
    if root.exists() and not root.is_dir():
        raise ExportRefused(f"{root} exists and is not a folder.")
    manifest = read_manifest(root) if root.is_dir() else None
    if incremental:
        if manifest is None or manifest.exported_at is None:
            raise ExportRefused(f"{root} holds no earlier export of the site: run a full export into it first.")
        return manifest
    busy = root.is_dir() and any(p.name not in {LOCK_NAME} for p in root.iterdir())
    if busy and not force:
        raise ExportRefused(f"{root} is not empty; choose an empty folder or add --force to replace the export there.")
    return manifest


def inside(root: Path, rel: str) -> Path:
    """The absolute path of `rel` under `root`, refusing anything that would leave it (absolute paths, "..",
    a symbolic link on the way)."""
    if not rel or rel.startswith("/") or "\\" in rel or "\x00" in rel:
        raise ExportRefused(f"refused to write {rel!r}: not a path inside the export folder.")
    parts = rel.split("/")
    if any(part in {"", ".", ".."} for part in parts):
        raise ExportRefused(f"refused to write {rel!r}: not a path inside the export folder.")
    path = root
    for part in parts:
        path = path / part
        if path.is_symlink():
            raise ExportRefused(f"refused to write {rel!r}: {path} is a symbolic link.")
    return path


def write_atomic(root: Path, rel: str, data: bytes) -> bool:
    """Write `data` to `rel` under `root` unless the file already holds exactly these bytes. The bytes go to a
    temporary file in the same folder, then replace the old file in one step: a web server serving the folder
    sees the old file or the new one, never half of one. True when the file was written."""
    path = inside(root, rel)
    try:
        if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, 0o644)  # served by a web server running as another user
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return True


def remove_stale(root: Path, files: set[str]) -> int:
    """Remove files an earlier export wrote that this one did not (an advisory no longer public, a product
    removed), then the folders left empty. Only names from the manifest are touched."""
    removed = 0
    for rel in sorted(files):
        try:
            path = inside(root, rel)
        except ExportRefused:
            continue
        if path.is_file():
            path.unlink()
            removed += 1
            parent = path.parent
            while parent != root and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
    return removed


def locked(root: Path) -> contextlib.AbstractContextManager[bool]:
    """Hold the folder's export lock: a second export (the worker's and an operator's) waits its turn."""
    return folder_lock(root, LOCK_NAME)
