"""Where the state that every process of an installation must see alike lives on disk.

The encrypted attachments (`files/`) and the CSAF provider tree (`csaf/`) are written by one process and read by
every other: a report uploaded through one app server is opened on the desk through another, and the tree a
worker writes after a publication is served by all app servers. They live in `PSIRT_SHARED_DIR` when it is set
(storage every machine mounts), else in `PSIRT_VAR_DIR`. Everything else under the var dir (the page cache,
collected static files, development secrets, SQLite) belongs to one machine."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings


def shared_dir() -> Path:
    """The folder holding `files/` and `csaf/`: `PSIRT_SHARED_DIR`, or the var dir when it is not set."""
    return Path(getattr(settings, "PSIRT_SHARED_DIR", None) or settings.PSIRT_VAR_DIR)


@contextlib.contextmanager
def folder_lock(root: Path, name: str, *, wait: float | None = None, poll: float = 0.01) -> Iterator[bool]:
    """Hold the exclusive lock file `name` in `root` (created with the folder if missing): one holder at a time,
    across threads and processes (web workers, task workers, a command an operator runs).

    Without `wait`, block until the lock is held and yield True. With `wait` (seconds), try every `poll` seconds and
    yield False when the lock could not be had in time or the lock file cannot be opened: the caller goes on
    without it (a best-effort lock, such as the page cache's one render per stale page)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        handle = os.open(root / name, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        if wait is None:
            raise
        yield False
        return
    try:
        if wait is None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        yield False
                        return
                    time.sleep(poll)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)
