"""Multipart bodies whose part headers are not UTF-8.

Django reads each part's headers as UTF-8 and silently skips a header it cannot decode: a file whose name was
sent in GB18030 (Chinese Windows) or Latin-1 loses its Content-Disposition, becomes an unnamed part and is
dropped, while the rest of the form is accepted as if no file had been sent. `recode_part_headers` puts a
stream in front of the parser that re-encodes such header lines to UTF-8 (GB18030 when the bytes are valid
GB18030, otherwise UTF-8 with replacement characters), so the file arrives and its name is then made safe like
every other name. Bodies are not buffered: only a part's header block (bounded) is held back at a time."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from django.http import HttpRequest, HttpResponseBase

MAX_HEADER_BLOCK = 16 * 1024  # a part header block longer than this is passed through as it is
READ_SIZE = 64 * 1024
_BOUNDARY = re.compile(r'boundary="?([^";,]+)"?', re.IGNORECASE)


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def recode_header_line(line: bytes) -> bytes:
    """`line` as UTF-8: unchanged when it already is; else decoded as GB18030, or failing that with U+FFFD."""
    try:
        line.decode("utf-8")
        return line
    except UnicodeDecodeError:
        pass
    try:
        text = line.decode("gb18030")
    except UnicodeDecodeError:
        text = line.decode("utf-8", errors="replace")
    return text.encode("utf-8")


def recode_header_block(block: bytes) -> bytes:
    return b"\r\n".join(recode_header_line(line) for line in block.split(b"\r\n"))


class RecodingStream:
    """Reads `source` and hands out the same bytes, except that each part's header block (from a delimiter line
    to the blank line after it) is re-encoded to UTF-8."""

    def __init__(self, source: _Readable, boundary: bytes) -> None:
        self._source = source
        # A delimiter starts a line: CRLF "--" boundary. The body's first line has no CRLF before it, so one is
        # put in front here and taken off again in `read`.
        self._delimiter = b"\r\n--" + boundary
        self._pending = bytearray(b"\r\n")  # read, not yet examined
        self._lead = 2
        self._ready = bytearray()  # examined, to be handed out
        self._eof = False

    def read(self, size: int = -1, /) -> bytes:
        while not self._eof and (size is None or size < 0 or len(self._ready) < size):
            self._fill()
        if size is None or size < 0 or size >= len(self._ready):
            out = bytes(self._ready)
            self._ready.clear()
        else:
            out = bytes(self._ready[:size])
            del self._ready[:size]
        return out

    def readline(self, size: int = -1, /) -> bytes:
        while b"\n" not in self._ready and not self._eof:
            self._fill()
        end = self._ready.find(b"\n")
        length = len(self._ready) if end < 0 else end + 1
        if size is not None and 0 <= size < length:
            length = size
        out = bytes(self._ready[:length])
        del self._ready[:length]
        return out

    def _fill(self) -> None:
        chunk = self._source.read(READ_SIZE)
        if chunk:
            self._pending += chunk
        else:
            self._eof = True
        self._examine()
        if self._lead and len(self._ready) >= self._lead:
            del self._ready[: self._lead]
            self._lead = 0

    def _examine(self) -> None:
        pending, ready = self._pending, self._ready
        while True:
            start = pending.find(self._delimiter)
            if start < 0:
                # A delimiter may straddle two reads: keep its possible beginning back.
                keep = 0 if self._eof else min(len(pending), len(self._delimiter) - 1)
                ready += pending[: len(pending) - keep]
                del pending[: len(pending) - keep]
                return
            end = pending.find(b"\r\n\r\n", start, start + MAX_HEADER_BLOCK)
            if end < 0:
                if self._eof or len(pending) - start >= MAX_HEADER_BLOCK:
                    # No header block here (the closing delimiter, or a malformed part): pass it on unchanged.
                    cut = start + len(self._delimiter)
                    ready += pending[:cut]
                    del pending[:cut]
                    continue
                ready += pending[:start]
                del pending[:start]
                return
            ready += pending[:start]
            ready += recode_header_block(bytes(pending[start:end]))
            ready += b"\r\n\r\n"
            del pending[: end + 4]


def recode_part_headers(request: HttpRequest) -> None:
    """Put a `RecodingStream` in front of a multipart request's body (before anything parses it)."""
    content_type = request.META.get("CONTENT_TYPE", "")
    if not content_type.lower().startswith("multipart/"):
        return
    match = _BOUNDARY.search(content_type)
    stream = getattr(request, "_stream", None)
    if match is None or stream is None or hasattr(request, "_files") or getattr(request, "_read_started", False):
        return
    request._stream = RecodingStream(stream, match.group(1).encode("latin-1"))  # type: ignore[assignment]


class MultipartHeaderMiddleware:
    """Installs `recode_part_headers` for every request, before any middleware or view reads the form."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        recode_part_headers(request)
        return self.get_response(request)
