"""What the load benchmarks share: a free port, a gunicorn of the project, waiting for it, client threads,
latency percentiles, and a run of the wrk load generator (`run_wrk`). Imported by the scripts as `bench._harness`
(they put the repository root on sys.path)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(
    python: str, port: int, workers: int, env: Mapping[str, str], cwd: Path | str, extra: Sequence[str] = ()
) -> subprocess.Popen:
    """psirt's WSGI app under the venv's gunicorn, in its own session (so the caller can kill the group);
    `extra` gunicorn options (e.g. a worker class) go after the defaults."""
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(python)) or "gunicorn"
    command = [gunicorn, "psirt.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    return subprocess.Popen(
        [*command, "--log-level", "warning", *extra], env=dict(env), cwd=cwd, start_new_session=True
    )


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


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured: completed requests per second, latency percentiles (from `--latency`), the
    number of requests, and the failed ones (socket errors plus answers that were not 2xx or 3xx)."""

    requests_per_second: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    errors: int


WRK = "/usr/bin/wrk"
_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk_ms(value: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", value.strip())
    if match is None:
        raise ValueError(f"wrk printed a latency this harness does not read: {value!r}")
    return float(match.group(1)) * _WRK_UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """Read wrk's report (run with --latency)."""
    percentiles = {int(p): _wrk_ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M)}
    rate = re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in ", output, re.M)
    if rate is None or total is None or len(percentiles) != 4:
        raise ValueError(f"wrk's report could not be read:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return WrkResult(
        requests_per_second=float(rate.group(1)),
        p50_ms=percentiles[50],
        p75_ms=percentiles[75],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        requests=int(total.group(1)),
        errors=errors,
    )


def run_wrk(
    url: str,
    *,
    threads: int = 2,
    connections: int = 16,
    seconds: float = 5.0,
    headers: Mapping[str, str] | None = None,
    wrk: str = WRK,
) -> WrkResult:
    """Load `url` with wrk (Debian package wrk) for `seconds` from `threads` threads holding `connections`
    connections, and return what it measured."""
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60)
    return parse_wrk(done.stdout)
