"""The server as `psirt up` and `psirt serve` run it (the same gunicorn command line, `psirt.cli._serve_args`),
started as a subprocess on a free port and attacked over real sockets."""

from __future__ import annotations

import contextlib
import json
import os
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


@contextlib.contextmanager
def _running(var: Path, log: Path | None = None, **values: str) -> Iterator[int]:
    """`psirt serve` with two workers on a free port, answering /healthz; its port. gunicorn's log goes to `log`."""
    port = _free_port()
    env = installation_env(PSIRT_DEV="1", PSIRT_VAR_DIR=str(var), PORT=str(port), WEB_CONCURRENCY="2", **values)
    with open(log or os.devnull, "wb") as output:
        proc = subprocess.Popen([sys.executable, "-m", "psirt.cli", "serve"], env=env, stdout=output, stderr=output)
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
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, migrated_var: Callable[[Path], Path]) -> Iterator[int]:
    var = migrated_var(Path(tmp_path_factory.mktemp("serve")) / "var")
    with _running(var) as port:
        for _ in range(20):  # every worker has loaded the URL map and middleware: later timings are the server's
            _get(port, "/healthz", timeout=10)
        yield port


def _healthz_answers_at_once(port: int) -> None:
    """Five fresh GETs of /healthz are answered at once (median under 0.1 s, none over 1 s)."""
    timings = []
    for _ in range(5):
        status, body, elapsed = _get(port, "/healthz")
        assert (status, body) == (200, b"ok\n")
        timings.append(elapsed)
    assert statistics.median(timings) < 0.1, timings
    assert max(timings) < 1.0, timings


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
        _healthz_answers_at_once(server)
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


def test_clients_that_never_close_after_their_answer_do_not_hold_up_the_worker(server: int) -> None:
    """After an answer the server closes its side and waits for the client's close (so that unread bytes do not
    reset the connection); a client that reads its answer and then keeps its end open must not stall anything
    else meanwhile. Every open end here would otherwise hold a worker's event loop for two seconds."""
    lingering: list[socket.socket] = []
    try:
        for _ in range(10):
            conn = socket.create_connection(("127.0.0.1", server), timeout=5)
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := conn.recv(65536):  # the whole answer, up to the server's half-close
                data += chunk
            assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"ok\n"), data[:200]
            lingering.append(conn)  # read to the end, never closed
        _healthz_answers_at_once(server)
    finally:
        for conn in lingering:
            conn.close()


def _import_seconds(var: Path) -> float:
    """How long a fresh process takes to load the application, as a worker started from scratch would."""
    env = installation_env(PSIRT_DEV="1", PSIRT_VAR_DIR=str(var))
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import psirt.wsgi"], env=env, check=True, timeout=120)
    return time.monotonic() - started


def test_workers_are_replaced_without_the_site_going_quiet(
    tmp_path: Path, migrated_var: Callable[[Path], Path]
) -> None:
    """With a small request limit both workers are replaced again and again while one client asks without pause.
    A replacement is a fork of the loaded master and the old worker leaves at once, so no answer waits anywhere
    near as long as loading the application takes (which is what a replacement started from scratch costs, and
    more when both workers reach their limit together)."""
    var = migrated_var(tmp_path / "var")
    log = tmp_path / "gunicorn.log"
    with _running(var, log, PSIRT_MAX_REQUESTS="20", LOG_LEVEL="INFO") as port:
        gaps = []
        for _ in range(300):
            status, _body, elapsed = _get(port, "/healthz", timeout=60)
            assert status == 200
            gaps.append(elapsed)
    import_seconds = _import_seconds(var)  # measured now: the machine's load scales both alike
    replaced = log.read_text(errors="replace").count("Autorestarting worker")
    assert replaced >= 6, f"only {replaced} workers were replaced"  # 300 requests over limits of 20 to 40
    assert max(gaps) < max(1.0, import_seconds / 2), (max(gaps), import_seconds, sorted(gaps)[-5:])


FORK_PROBE = """
import json, os, random, sys, threading
from django.db import connection, connections
import psirt.wsgi  # what gunicorn's master loads with --preload
from psirt.lib import business_days, serve_hooks

serve_hooks.when_ready(None)


def target(fd):
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # the descriptor listdir itself had open
        return ""


master = {
    "threads": [thread.name for thread in threading.enumerate()],
    "connections": [c.alias for c in connections.all(initialized_only=True) if c.connection is not None],
    "sockets": sorted(name for name in map(target, os.listdir("/proc/self/fd")) if name.startswith("socket:")),
}
connection.ensure_connection()  # a start-up step that used the database: the fork must not inherit it
children = []
for _ in range(2):
    serve_hooks.pre_fork(None, None)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        seen = {
            "inherited": connection.connection is not None,
            "random": random.getrandbits(64),
            "holiday tables": sorted(code for code, _ in business_days._tables),
        }
        os.write(write, json.dumps(seen).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    children.append(json.loads(os.read(read, 1000)))
    connection.ensure_connection()
print(json.dumps({"master": master, "children": children}))
"""


def test_the_preloaded_master_holds_nothing_a_fork_would_share(
    tmp_path: Path, migrated_var: Callable[[Path], Path]
) -> None:
    """gunicorn's master loads the application once and forks every worker from it: after loading, it runs no
    thread and holds no socket or database connection; a connection opened before a fork is closed first; the
    children inherit what it warmed up; and the two children draw different random numbers."""
    var = migrated_var(tmp_path / "var")
    env = installation_env(PSIRT_DEV="1", PSIRT_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="psirt.settings")
    done = subprocess.run([sys.executable, "-c", FORK_PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["master"] == {"threads": ["MainThread"], "connections": [], "sockets": []}
    assert [child["inherited"] for child in seen["children"]] == [False, False]
    # What the master warmed up, every worker has from its first request on.
    assert [child["holiday tables"] for child in seen["children"]] == [["CN"], ["CN"]]
    assert seen["children"][0]["random"] != seen["children"][1]["random"]
