"""Sorted line files edited without reading them whole: the body of a listing (one item per line, sorted by a key)
is searched by bisection over a memory map, and its next version is described as runs of the old bytes, kept as
they are, with the new lines between them. Writing that description copies the runs inside the kernel, so a change
costs a few page reads plus one sequential copy instead of parsing and re-encoding every line."""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# A piece of the new body: new bytes, or a run (start, end) of the old body's bytes.
Piece = bytes | tuple[int, int]


@dataclass(frozen=True)
class Insert:
    """A new line placed before the old line starting at `at` (the body's end: after every line); `key` orders
    the lines that go to the same place."""

    at: int
    key: Any
    line: bytes


@dataclass
class LineFile:
    """The lines of `data[start:end]`, each ended by `sep` except the last, ended by a newline (a JSON array one
    item per line uses `,` + newline; a plain list uses the newline alone). `start` and `end` are line starts."""

    data: mmap.mmap | bytes
    start: int
    end: int
    sep: bytes = b"\n"

    def content_end(self, newline: int) -> int:
        """Where the content of the line ended by the newline at `newline` stops (before its separator)."""
        if self.sep != b"\n" and newline > self.start and self.data[newline - 1 : newline] == self.sep[:-1]:
            return newline - 1
        return newline

    def line(self, at: int) -> tuple[bytes, int]:
        """The content of the line starting at `at`, and the start of the next line."""
        newline = self.data.find(b"\n", at, self.end)
        if newline < 0:
            raise ValueError("a line without its newline")
        return bytes(self.data[at : self.content_end(newline)]), newline + 1

    def bisect(self, key_of: Callable[[bytes], Any], target: Any) -> int:
        """The start of the first line whose key is not less than `target` (the body's end when there is none), in
        O(log n) line reads. The lines must be sorted by `key_of`."""
        lo, hi = self.start, self.end
        while lo < hi:
            mid = (lo + hi) // 2
            newline = self.data.rfind(b"\n", lo, mid)
            at = newline + 1 if newline >= 0 else lo
            content, after = self.line(at)
            if key_of(content) < target:
                lo = after
            else:
                hi = at
        return lo

    def pieces(self, removed: set[int], inserted: Sequence[Insert]) -> list[Piece]:
        """The new body: the old lines in order, without those starting at an offset in `removed`, with
        `inserted` placed. Runs of kept lines stay runs (their separators inside them)."""
        events = sorted({*removed, *(i.at for i in inserted)})
        by_place: dict[int, list[Insert]] = {}
        for item in inserted:
            by_place.setdefault(item.at, []).append(item)
        out: list[Piece] = []
        cursor = self.start
        for at in events:
            if at > cursor:
                out.append((cursor, self.content_end(at - 1)))
            out += [i.line for i in sorted(by_place.get(at, []), key=lambda i: i.key)]
            cursor = self.line(at)[1] if at in removed else at
        if cursor < self.end:
            out.append((cursor, self.content_end(self.end - 1)))
        return out

    def first_line(self, pieces: list[Piece]) -> bytes | None:
        """The content of the first line of a new body made of `pieces`."""
        if not pieces:
            return None
        first = pieces[0]
        return first if isinstance(first, bytes) else self.line(first[0])[0]


def write_pieces(fd: int, source: LineFile, pieces: list[Piece], source_fd: int) -> None:
    """Write a body made of `pieces` to the file descriptor `fd` (at its position): the items joined by the
    separator, the last ended by a newline. Runs are copied from `source_fd` (the file `source` maps) by the kernel
    where it can."""
    for n, piece in enumerate(pieces):
        if n:
            write_all(fd, source.sep)
        if isinstance(piece, bytes):
            write_all(fd, piece)
        else:
            _copy(source_fd, fd, piece[0], piece[1] - piece[0], source.data)
    if pieces:
        write_all(fd, b"\n")


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _copy(src: int, dst: int, offset: int, count: int, data: mmap.mmap | bytes) -> None:
    """`count` bytes of `src` from `offset` appended to `dst` (at its position)."""
    copy_range = getattr(os, "copy_file_range", None)
    while count > 0 and copy_range is not None:
        try:
            done = copy_range(src, dst, count, offset)
        except OSError:  # not between these files: copy through memory
            break
        if done <= 0:
            break
        offset, count = offset + done, count - done
    if count > 0:
        write_all(dst, data[offset : offset + count])
