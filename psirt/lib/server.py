"""The gunicorn worker of `psirt serve` / `psirt up`: a client that is slow to send its request costs no thread.

gunicorn's threaded worker hands a connection to a thread as soon as its first bytes arrive; the thread then waits
for the rest of the head and for the body, so a few clients that promise a body and never send it hold every
thread and the site stops answering. `BufferingWorker` reads each request's head and body in its event loop,
without blocking, and hands the connection to a thread only when the whole request is there (or its head
announces more than `preread_limit()`, above the largest report the site accepts, which the application refuses
by its length without reading it). The bytes wait in memory, never on disk. A connection silent for
`IDLE_TIMEOUT` seconds, or whose request is not complete within `REQUEST_DEADLINE` seconds, is dropped without
an answer. Reads a thread still makes give up after `IDLE_TIMEOUT` seconds of silence.

After the answer, the connection is closed gracefully (the write side first, then what the client still sends
is read and thrown away until it closes, so that unread bytes do not make the kernel reset the connection and cut
the answer short) — in the event loop too: gunicorn waits for the client's close with a blocking read of up to
two seconds on the thread that reads every request, so one client that never closed its end held up the whole
worker for two seconds per connection.

The documented reverse proxy (deploy/nginx.conf) terminates TLS and bounds each client's header and body
timeouts; it passes request bodies through unbuffered, so they are not written to its temporary files in
plaintext: holding slow requests is this worker's job."""

from __future__ import annotations

import contextlib
import errno
import gc
import selectors
import socket
import sys
import time
from functools import partial
from typing import Any

from django.conf import settings
from gunicorn.workers.gthread import TConn, ThreadWorker

# A request head larger than this is handed over at once, for gunicorn to refuse.
HEAD_LIMIT = 64 * 1024
IDLE_TIMEOUT = 30.0
REQUEST_DEADLINE = 30 * 60.0
# Multipart framing and form fields around the attachments of the largest report.
BODY_SLACK = 16 * 1024 * 1024
# After the answer: how long, and for how many bytes, a client's close is waited for (gunicorn's own bounds).
LINGER_TIMEOUT = 2.0
LINGER_DRAIN = 64 * 1024
# How long a thread may keep the interpreter while another waits for it (CPython's default is 5 ms).
SWITCH_INTERVAL = 0.0005


def preread_limit() -> int:
    """Bodies up to this many bytes are read before a thread is used: every report the site accepts."""
    return int(settings.PSIRT_MAX_ATTACHMENTS_TOTAL_MB) * 1024 * 1024 + BODY_SLACK


HAND_OVER = -1


def request_size(data: bytes | bytearray) -> int | None:
    """How many bytes the whole request in `data` has (head and the body its Content-Length announces); None
    while the head is incomplete. `HAND_OVER` when a thread should answer at once, without waiting for a body: a
    head that is too large or malformed, a chunked body, or a body over `preread_limit()` (all refused)."""
    end = data.find(b"\r\n\r\n", 0, HEAD_LIMIT + 4)
    if end < 0:
        return HAND_OVER if len(data) > HEAD_LIMIT else None
    length = 0
    for line in bytes(data[:end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"transfer-encoding":
            return HAND_OVER
        if name == b"content-length":
            text = value.strip()
            if not (text.isascii() and text.isdigit()):
                return HAND_OVER
            length = int(text)
    if length > preread_limit():
        return HAND_OVER
    return end + 4 + length


class BufferedConn(TConn):  # type: ignore[misc]
    """A connection whose request was read by the event loop; the thread's parser starts from those bytes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received = bytearray()
        self.size: int | None = None  # of the whole request, once its head is read
        self.deadline = time.monotonic() + REQUEST_DEADLINE
        self.idle_until = time.monotonic() + IDLE_TIMEOUT
        # The worker's event loop, which waits for the client's close after the answer (see BufferingWorker.linger).
        self.linger: Any = None
        self.drained = 0

    def init(self) -> None:
        fresh = not self.initialized
        super().init()
        if fresh:
            self.sock.settimeout(IDLE_TIMEOUT)
            if self.received:
                self.parser.unreader.unread(bytes(self.received))
                self.received = bytearray()

    def close(self, graceful: bool = False) -> None:
        if graceful and self.linger is not None:
            self.linger(self)
        else:
            super().close(graceful)


class BufferingWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker that reads whole requests in its event loop (see the module's docstring).
    Connections are not kept alive, so every request on a connection is read this way."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reading: dict[BufferedConn, None] = {}
        self.lingering: dict[BufferedConn, None] = {}

    def init_process(self) -> None:
        # A thread coming back from the database with a lock held there (SQLite's write lock, a row every
        # submission takes on PostgreSQL) must wait for the interpreter before its next statement; with the
        # default interval each such wait can last 5 ms while other threads parse and encrypt, and every writer
        # queued behind that lock waits as long. A shorter interval hands the interpreter over sooner.
        sys.setswitchinterval(SWITCH_INTERVAL)
        super().init_process()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        # What is loaded by now (Django, psirt, their modules, classes and tables) lives as long as the process,
        # yet every full collection of the cyclic garbage collector visits all of it: one such pass, in the
        # middle of a request, took hundreds of milliseconds on a loaded machine. Frozen, the collector no
        # longer looks at it (moving it out of sight touches no object, so a forked worker's pages stay shared
        # with the master's); what requests make is collected as before.
        gc.freeze()

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
        conn.linger = self.linger
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
        conn.idle_until = time.monotonic() + IDLE_TIMEOUT
        if conn.size is None:
            conn.size = request_size(conn.received)
        if conn.size is not None and len(conn.received) >= conn.size:
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

    def linger(self, conn: BufferedConn) -> None:
        """Close `conn` gracefully without blocking: its write side now, the rest when the client has closed its
        end, has sent `LINGER_DRAIN` bytes more, or `LINGER_TIMEOUT` seconds have passed (swept by
        `murder_pending`)."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_linger_bytes, conn))
        except (OSError, ValueError, KeyError):
            conn.linger = None
            conn.close()
            return
        conn.deadline = time.monotonic() + LINGER_TIMEOUT
        self.lingering[conn] = None

    def on_linger_bytes(self, conn: BufferedConn, client: Any) -> None:
        try:
            chunk = conn.sock.recv(LINGER_DRAIN)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        conn.drained += len(chunk)
        if not chunk or conn.drained >= LINGER_DRAIN:
            self._end_linger(conn)

    def _end_linger(self, conn: BufferedConn) -> None:
        with contextlib.suppress(OSError, KeyError, ValueError):
            self.poller.unregister(conn.sock)
        self.lingering.pop(conn, None)
        conn.linger = None
        conn.close()

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        for conn in [conn for conn in self.reading if min(conn.deadline, conn.idle_until) <= now]:
            self._drop(conn)
        for conn in [conn for conn in self.lingering if conn.deadline <= now]:
            self._end_linger(conn)
