"""Where the state that every process of an installation must see alike lives on disk.

The encrypted attachments (`files/`) and the CSAF provider tree (`csaf/`) are written by one process and read by
every other: a report uploaded through one app server is opened on the desk through another, and the tree a
worker writes after a publication is served by all app servers. They live in `PSIRT_SHARED_DIR` when it is set
(storage every machine mounts), else in `PSIRT_VAR_DIR`. Everything else under the var dir (the page cache,
collected static files, development secrets, SQLite) belongs to one machine."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings


def shared_dir() -> Path:
    """The folder holding `files/` and `csaf/`: `PSIRT_SHARED_DIR`, or the var dir when it is not set."""
    return Path(getattr(settings, "PSIRT_SHARED_DIR", None) or settings.PSIRT_VAR_DIR)


@contextlib.contextmanager
def folder_lock(root: Path, name: str) -> Iterator[None]:
    """Hold the exclusive lock file `name` in `root` (created with the folder if missing): one writer of the folder
    at a time, across processes (web workers, task workers, a command an operator runs)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / name, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
