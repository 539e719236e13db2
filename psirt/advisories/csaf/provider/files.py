"""The tree on disk: atomic writes that skip identical bytes, removals, the check that a signature on disk is by
the current key, the walk over the document files, and the lock that serialises writers across processes."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from psirt.advisories.csaf.provider.layout import (
    COMPANIONS,
    FEED_NAME,
    FILE_NAME,
    LANG_DIR,
    LOCK_NAME,
    METADATA_NAME,
    TLP_FOLDER,
    YEAR_DIR,
    https_url,
)
from psirt.advisories.csaf.provider.lines import write_all
from psirt.lib.paths import folder_lock
from psirt.lib.signing import SigningKey, verify_detached


@dataclass
class Changes:
    """What one update did: files written and removed (paths relative to the tree root)."""

    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.written or self.removed)


class TreeFiles:
    """A provider tree rooted at `root`, published at `base_url`: its URLs and its files (ProviderTree adds the
    listings, the documents, the key and provider-metadata.json)."""

    def __init__(self, root: Path, *, base_url: str, key: SigningKey | None) -> None:
        self.root = Path(root)
        self.base_url = https_url(base_url.rstrip("/"))
        self.key = key
        self.changes = Changes()
        self._made: set[str] = set()  # folders known to exist

    # URLs

    @property
    def directory_url(self) -> str:
        return f"{self.base_url}/{TLP_FOLDER}"

    @property
    def feed_url(self) -> str:
        return f"{self.directory_url}/{FEED_NAME}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/{METADATA_NAME}"

    def document_url(self, path: str) -> str:
        return f"{self.directory_url}/{path}"

    @property
    def tlp_dir(self) -> Path:
        return self.root / TLP_FOLDER

    # files

    def _write(self, path: Path, data: bytes, *, compare: bool = True) -> bool:
        """Write `data` atomically unless the file already holds exactly these bytes. True when written."""
        if compare:
            try:
                if path.stat().st_size == len(data) and path.read_bytes() == data:
                    return False
            except FileNotFoundError:
                pass
        self._replace(path, lambda fd: write_all(fd, data))
        return True

    def _create(self, rel: str, data: bytes) -> None:
        """Create the file `rel` (relative to the tree root), which must not exist yet, holding `data`: written in
        place, without the temporary file and rename of `_replace`. Only for an export into an empty folder, where
        no reader can know the file before the listings, written last and atomically, name it."""
        path = os.path.join(self.root, rel)
        folder = os.path.dirname(path)
        if folder not in self._made:
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            write_all(fd, data)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        os.close(fd)
        self.changes.written.append(rel)

    def _replace(self, path: Path, fill: Callable[[int], None]) -> None:
        """Write `path` atomically: `fill` writes the new content to a file descriptor of a temporary file, which
        then replaces `path` (a reader sees the old file or the new one, never a part)."""
        folder = path.parent
        if str(folder) not in self._made:
            folder.mkdir(parents=True, exist_ok=True)
            self._made.add(str(folder))
        tmp = folder / f".{path.name}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            try:
                fill(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        self.changes.written.append(str(path.relative_to(self.root)))

    def _remove(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            self.changes.removed.append(str(path.relative_to(self.root)))

    def _signature_current(self, data: bytes, asc: Path) -> bool:
        """The .asc on disk signs `data` with the current key (a rotated key re-signs everything)."""
        if self.key is None:
            return True
        try:
            signature = asc.read_text(encoding="ascii")
        except (FileNotFoundError, UnicodeDecodeError):
            return False
        return verify_detached(data, signature, self.key.public_key)

    def remove_document(self, rel: str) -> None:
        target = self.tlp_dir / rel
        for suffix in ("", *COMPANIONS):
            self._remove(target.with_name(target.name + suffix))
        with contextlib.suppress(OSError):
            target.parent.rmdir()  # only when empty

    def document_paths(self) -> Iterator[str]:
        """Every document path (relative to white/) present on disk."""
        if not self.tlp_dir.is_dir():
            return
        for year in sorted(os.scandir(self.tlp_dir), key=lambda e: e.name):
            if not (year.is_dir(follow_symlinks=False) and YEAR_DIR.match(year.name)):
                continue
            for item in sorted(os.scandir(year.path), key=lambda e: e.name):
                if item.is_file(follow_symlinks=False) and FILE_NAME.match(item.name):
                    yield f"{year.name}/{item.name}"
                elif item.is_dir(follow_symlinks=False) and LANG_DIR.match(item.name):
                    for sub in sorted(os.scandir(item.path), key=lambda e: e.name):
                        if sub.is_file(follow_symlinks=False) and FILE_NAME.match(sub.name):
                            yield f"{year.name}/{item.name}/{sub.name}"


def tree_lock(root: Path) -> contextlib.AbstractContextManager[bool]:
    """One writer at a time per tree, across processes (web workers, task workers, the export command)."""
    return folder_lock(root, LOCK_NAME)
