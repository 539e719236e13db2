"""What the load benchmarks share: a free port, a gunicorn of the project, waiting for it, client threads, and
latency percentiles. Imported by the scripts as `bench._harness` (they put the repository root on sys.path)."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(python: str, port: int, workers: int, env: Mapping[str, str], cwd: Path | str) -> subprocess.Popen:
    """psirt's WSGI app under the venv's gunicorn, in its own session (so the caller can kill the group)."""
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(python)) or "gunicorn"
    command = [gunicorn, "psirt.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    return subprocess.Popen([*command, "--log-level", "warning"], env=dict(env), cwd=cwd, start_new_session=True)


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn did not start on port {port}")


def run_threads(client: Callable[[int], None], count: int) -> float:
    """Run `client(i)` in `count` threads at once; the wall-clock seconds until the last one ends."""
    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - began


def latency_ms(latencies: list[float]) -> dict[str, float]:
    """p50 and p99 of latencies given in seconds, in milliseconds (0 when there are none)."""
    lat = sorted(latencies) or [0.0]
    return {
        "p50_ms": statistics.median(lat) * 1000,
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
    }
