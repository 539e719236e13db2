"""Reading what the operator names: the files and directories to import, each file read as JSON with limits on
size, type and symbolic links, and the check that a document can be stored exactly as given."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from psirt.advisories.csaf.importer.base import Refused

# The largest real CSAF documents (distribution kernels) are tens of MB; beyond this it is not an advisory.
MAX_BYTES = 64 * 1024 * 1024
# A directory walk stops here: a mistyped path (/) must not read a whole disk.
MAX_FILES = 20_000

_UNSTORABLE_CHAR = re.compile("[\x00\ud800-\udfff]")


def read_document(path: Path, *, max_bytes: int = MAX_BYTES, follow_symlinks: bool = True) -> Any:
    """The JSON value in `path`. Refused for anything but a regular file of at most `max_bytes` of UTF-8 JSON; a
    symbolic link is refused too unless `follow_symlinks` (the operator named it). The size and type are checked on
    the opened file, so a file swapped between the check and the read is still caught."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0))
    try:
        if not follow_symlinks and path.is_symlink():
            raise Refused("a symbolic link inside a directory is not followed")
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise Refused("no such file") from None
    except OSError as exc:
        raise Refused(f"cannot open: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Refused("not a regular file")
        if info.st_size > max_bytes:
            raise Refused(f"larger than {max_bytes // (1024 * 1024) or 1} MB, too large for a CSAF document")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Refused(f"larger than {max_bytes // (1024 * 1024) or 1} MB, too large for a CSAF document")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refused(f"not UTF-8 text (byte {exc.start}); CSAF documents are UTF-8") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise Refused(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except _NotJson as exc:
        raise Refused(f"not JSON: {exc}") from None
    except RecursionError:
        raise Refused("not JSON we can read: nested too deeply") from None


class _NotJson(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def unstorable_reason(value: Any, path: str = "", depth: int = 0) -> str | None:
    """The JSON path of the first value no database column can store as given: a NUL character or a lone surrogate
    in a string (PostgreSQL's text and jsonb refuse them, UTF-8 cannot encode a surrogate), a NaN or infinite number.
    The stored document must be the original, so such a document is refused rather than silently changed."""
    if depth > 200:
        return path or "/"
    if isinstance(value, str):
        if _UNSTORABLE_CHAR.search(value):
            return path or "/"
        return None
    if isinstance(value, float):
        return None if value == value and value not in (float("inf"), float("-inf")) else (path or "/")
    if isinstance(value, dict):
        for key, item in value.items():
            found = unstorable_reason(key, f"{path}/{key}", depth + 1) or unstorable_reason(
                item, f"{path}/{key}", depth + 1
            )
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if found := unstorable_reason(item, f"{path}/{index}", depth + 1):
                return found
    return None


def iter_files(paths: Sequence[str | Path]) -> Iterator[tuple[Path, bool, str]]:
    """(path, named by the operator?, problem) for every file to import: the files named, and the `*.json` files
    under the directories named, sorted, without following symbolic links (a link could lead out of the tree or
    into a loop) and without entering hidden folders. A problem (e.g. "no such file") is reported, not raised."""
    count = 0
    for raw in paths:
        path = Path(raw)
        if path.is_dir() and not path.is_symlink():
            root = path.resolve()
            for folder, dirs, files in os.walk(root, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.startswith(".") or not name.lower().endswith(".json"):
                        continue
                    count += 1
                    if count > MAX_FILES:
                        yield Path(folder, name), False, f"more than {MAX_FILES} files: import the rest separately"
                        return
                    candidate = Path(folder, name)
                    # os.walk does not leave `root`, but check anyway: a name is never allowed to climb out.
                    if not candidate.resolve(strict=False).is_relative_to(root) and not candidate.is_symlink():
                        yield candidate, False, "outside the directory being imported"
                        continue
                    yield candidate, False, ""
        elif path.is_dir():
            yield path, True, "a symbolic link to a directory is not followed; name the directory itself"
        else:
            count += 1
            yield path, True, ""
