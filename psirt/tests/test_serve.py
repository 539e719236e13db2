"""The server as `psirt up` and `psirt serve` run it (the same gunicorn command line, `psirt.cli._serve_args`),
started as a subprocess on a free port and attacked over real sockets."""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from psirt.tests.installation import installation_env

pytestmark = pytest.mark.processes

SLOW_CLIENTS = 50


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes, float]:
    """Status, body and seconds taken for one GET on a fresh connection."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    elapsed = time.monotonic() - started
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body, elapsed


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, migrated_var: Callable[[Path], Path]) -> Iterator[int]:
    var = migrated_var(Path(tmp_path_factory.mktemp("serve")) / "var")
    port = _free_port()
    env = installation_env(PSIRT_DEV="1", PSIRT_VAR_DIR=str(var), PORT=str(port), WEB_CONCURRENCY="2")
    proc = subprocess.Popen(
        [sys.executable, "-m", "psirt.cli", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, "psirt serve exited"
            assert time.monotonic() < deadline, "psirt serve did not answer /healthz within 60 s"
            time.sleep(0.2)
        for _ in range(20):  # every worker has loaded the URL map and middleware: later timings are the server's
            _get(port, "/healthz", timeout=10)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_fifty_clients_that_never_send_their_body_do_not_stop_healthz(server: int) -> None:
    """Each slow client sends complete headers promising a form body and then nothing: a worker that reads the
    body itself would wait on it. /healthz must still answer at once."""
    slow: list[socket.socket] = []
    try:
        for n in range(SLOW_CLIENTS):
            conn = socket.create_connection(("127.0.0.1", server), timeout=5)
            if n % 5 == 0:  # some never even finish their headers
                conn.sendall(b"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
            else:
                conn.sendall(
                    b"POST /en/report/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nsummary="
                )
            slow.append(conn)
        time.sleep(1.0)  # every slow request has reached the server and is waiting for its body
        timings = []
        for _ in range(5):
            status, body, elapsed = _get(server, "/healthz")
            assert (status, body) == (200, b"ok\n")
            timings.append(elapsed)
        assert statistics.median(timings) < 0.1, timings
        assert max(timings) < 1.0, timings
    finally:
        for conn in slow:
            conn.close()


def _post(port: int, path: str, body: bytes, pieces: int = 1) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        )
        step = max(1, len(body) // pieces)
        for start in range(0, len(body), step):
            conn.sendall(body[start : start + step])
            time.sleep(0.05)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), rest


def test_a_body_sent_in_pieces_reaches_the_application_whole(server: int) -> None:
    """The event loop gathers the pieces; the application reads the same bytes the client sent: a JSON body
    split in ten pieces is parsed (and refused as an incomplete report, 422), not cut short (400)."""
    body = b'{"reporter_email": "' + b"a" * 200_000 + b'@x.test"}'
    status, answer = _post(server, "/api/v1/reports", body, pieces=10)
    assert status == 422, answer[:300]


def test_a_client_that_goes_silent_is_dropped_and_healthz_still_answers(server: int) -> None:
    """A body promised and never sent is not waited for forever: the connection is closed without an answer
    once it has been silent for the idle timeout, and nothing else waited meanwhile."""
    from psirt.lib.server import IDLE_TIMEOUT

    assert IDLE_TIMEOUT <= 30
    with socket.create_connection(("127.0.0.1", server), timeout=IDLE_TIMEOUT + 5) as conn:
        conn.sendall(b"POST /en/report/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n")
        assert _get(server, "/healthz")[0] == 200
        assert conn.recv(100) == b""  # closed by the server, not by our timeout
