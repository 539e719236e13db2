"""No plaintext of an upload ever reaches the disk, not even when the server is killed mid-upload.

A real `psirt serve` (gunicorn, one worker, its own var folder and temporary folder) receives a 20 MB attachment
whose every line carries a marker; once most of it has arrived the whole process group is killed with SIGKILL,
then every file under the var folder and the temporary folder (all the process could write) is read for the
marker. Django's default upload handling would have left the file in plaintext in the temporary folder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.processes

MARKER = b"KILL9UPLOADMARKER"
FILE_BYTES = 20 * 1024 * 1024
LINE = MARKER + b" secret proof-of-concept bytes " + b"x" * 33 + b"\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(var: Path, tmp: Path, port: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PSIRT_", "DATABASE_URL", "SECRET_KEY", "DJANGO_SETTINGS", "EMAIL_URL", "TEST_"))
    }
    env.update(
        {
            "PSIRT_DEV": "1",
            "PSIRT_VAR_DIR": str(var),
            "DATABASE_URL": "",
            "EMAIL_URL": "locmem:",
            "PORT": str(port),
            "PSIRT_BIND": "127.0.0.1",
            "WEB_CONCURRENCY": "1",
            "TMPDIR": str(tmp),
            "TEMP": str(tmp),
            "TMP": str(tmp),
        }
    )
    return env


def _bytes_written(*roots: Path) -> int:
    total = 0
    for root in roots:
        for path in root.rglob("*"):
            try:
                if path.is_file() and path.suffix not in {".sqlite3", ".sqlite3-wal", ".sqlite3-shm"}:
                    total += path.stat().st_size
            except FileNotFoundError:
                continue
    return total


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:] if proc.stderr else "server exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server never listened")


def test_killed_mid_upload_leaves_no_plaintext_anywhere_it_could_write(
    tmp_path: Path, migrated_var: Callable[[Path], Path]
) -> None:
    var, tmp = migrated_var(tmp_path / "var"), tmp_path / "tmp"
    tmp.mkdir()
    port = _free_port()
    env = _env(var, tmp, port)
    cwd = str(Path(__file__).resolve().parents[3])
    baseline = _bytes_written(var, tmp)
    server = subprocess.Popen(
        [sys.executable, "-m", "psirt.cli", "serve"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: master and worker are killed together below
    )
    try:
        _wait_for_port(port, server, time.monotonic() + 90)
        boundary = b"----psirtkill9"
        fields = {"reporter_email": "ada@research.test", "description": "x", "accept_guidelines": "true"}
        head = b""
        for k, v in fields.items():
            head += b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + k.encode() + b'"\r\n\r\n'
            head += v.encode() + b"\r\n"
        head += b"--" + boundary + b'\r\nContent-Disposition: form-data; name="attachments"; filename="poc.txt"\r\n'
        head += b"Content-Type: text/plain\r\n\r\n"
        tail = b"\r\n--" + boundary + b"--\r\n"
        length = len(head) + FILE_BYTES + len(tail)
        request = (
            b"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\n"
            b"Content-Length: " + str(length).encode() + b"\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            # The server reads a whole request into memory before a worker thread takes it (a stalled client
            # ties up no worker, and its half-sent body never reaches the disk), so the whole body is sent and
            # the kill lands while the worker writes the upload out.
            conn.sendall(request + head)
            payload = (LINE * (FILE_BYTES // len(LINE) + 1))[:FILE_BYTES]  # exactly the declared length
            for offset in range(0, FILE_BYTES, 1024 * 1024):
                conn.sendall(payload[offset : offset + 1024 * 1024])
            conn.sendall(tail)
            deadline = time.monotonic() + 60
            # Wait until the server has written most of the file (encrypted or not) somewhere.
            while _bytes_written(var, tmp) - baseline < 10 * 1024 * 1024:
                assert time.monotonic() < deadline, "the upload never reached the disk"
                assert server.poll() is None, "the server died before the kill"
                time.sleep(0.01)
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
    leaks = []
    for root in (var, tmp):
        for path in root.rglob("*"):
            if path.is_file() and MARKER in path.read_bytes():
                leaks.append(str(path))
    assert leaks == []
    # What the worker wrote (a spool file cut short, or the stored attachment if it finished first) is
    # ciphertext under var/files, which the sweep removes when abandoned.
    assert list((var / "files").rglob("*.enc")) or list((var / "files" / "spool").glob(".tmp-upload-*"))
