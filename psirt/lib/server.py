"""The gunicorn worker of `psirt serve` / `psirt up`: a client that is slow to send its request costs no thread.

gunicorn's threaded worker hands a connection to a thread as soon as its first bytes arrive; the thread then waits
for the rest of the head and for the body, so a few clients that promise a body and never send it hold every
thread and the site stops answering. `BufferingWorker` reads each request's head and body in its event loop,
without blocking, and hands the connection to a thread only when the whole request is there (or its head
announces more than `PREREAD_LIMIT`, which the application refuses by its length without reading it). A request
that is not complete within `REQUEST_DEADLINE` seconds is dropped. Reads a thread still makes (a body over the
limit) give up after `READ_TIMEOUT` seconds of silence.

This is the second line: the documented deployment puts a buffering reverse proxy (deploy/nginx.conf) in front,
which does the same for every connection before psirt sees it."""

from __future__ import annotations

import contextlib
import errno
import selectors
import time
from functools import partial
from typing import Any

from gunicorn.workers.gthread import TConn, ThreadWorker

# Bodies up to this size are read before a thread is used: above every form and report the site accepts.
PREREAD_LIMIT = 64 * 1024 * 1024
# A request head larger than this is handed over at once, for gunicorn to refuse.
HEAD_LIMIT = 64 * 1024
REQUEST_DEADLINE = 60.0
READ_TIMEOUT = 30.0


def request_complete(data: bytes | bytearray) -> bool:
    """Whether `data` holds a whole request a thread can serve without waiting: the head and the body its
    Content-Length announces. A head that is too large, malformed, chunked or announces more than
    `PREREAD_LIMIT` counts as complete too: the thread answers it (refuses it) without waiting for a body."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return len(data) > HEAD_LIMIT
    length = 0
    for line in bytes(data[:end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"transfer-encoding":
            return True
        if name == b"content-length":
            text = value.strip()
            if not text.isdigit():
                return True
            length = int(text)
    if length > PREREAD_LIMIT:
        return True
    return len(data) - (end + 4) >= length


class BufferedConn(TConn):  # type: ignore[misc]
    """A connection whose request was read by the event loop; the thread's parser starts from those bytes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received = bytearray()
        self.deadline = time.monotonic() + REQUEST_DEADLINE

    def init(self) -> None:
        fresh = not self.initialized
        super().init()
        if fresh:
            self.sock.settimeout(READ_TIMEOUT)
            if self.received:
                self.parser.unreader.unread(bytes(self.received))
                self.received = bytearray()


class BufferingWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker that reads whole requests in its event loop (see the module's docstring).
    Connections are not kept alive, so every request on a connection is read this way."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reading: dict[BufferedConn, None] = {}

    def accept(self, listener: Any) -> None:
        if self.cfg.is_ssl:  # TLS is the proxy's job; raw bytes cannot be read ahead of the handshake
            super().accept(listener)
            return
        try:
            client_sock, client_addr = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = BufferedConn(self.cfg, client_sock, client_addr, listener.getsockname())
        self.reading[conn] = None
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_request_bytes, conn))

    def on_request_bytes(self, conn: BufferedConn, client: Any) -> None:
        try:
            chunk = conn.sock.recv(256 * 1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # the client went away before finishing its request
            self._drop(conn)
            return
        conn.received += chunk
        if request_complete(conn.received):
            self.poller.unregister(conn.sock)
            del self.reading[conn]
            conn.data_ready = True
            self.enqueue_req(conn)

    def _drop(self, conn: BufferedConn) -> None:
        with contextlib.suppress(OSError, KeyError, ValueError):
            self.poller.unregister(conn.sock)
        self.reading.pop(conn, None)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        for conn in [conn for conn in self.reading if conn.deadline <= now]:
            self._drop(conn)
