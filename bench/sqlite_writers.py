"""SQLite writers under a burst: psirt's backend (writers queue in the kernel) against Django's own (SQLite's busy
handler), interleaved in one run.

Several processes of several threads each, as gunicorn's workers run them, loop for a few seconds: an `atomic()`
block that inserts one row and holds the transaction for 1.5 ms more (a sleep: the time a service spends between
its statements), then 10 ms outside any transaction. Both backends get the settings psirt gives a SQLite
database (`psirt.lib.config`: WAL, IMMEDIATE, a 20 s timeout) and differ only in ENGINE. Reported per backend,
medians over the rounds: transactions per second, the wait from asking for the transaction to holding it (p50,
p99, longest), the CPU time per transaction of the writer processes, and the "database is locked" errors.

The last line is `RESULT key=value …`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: `psirt` must be importable

ENGINES = {"busy_handler": "django.db.backends.sqlite3", "queue": "psirt.lib.sqlite"}


def database_settings(path: Path, engine: str) -> dict[str, Any]:
    """psirt's settings for the SQLite database `path`, with ENGINE replaced by `engine`."""
    from psirt.lib.config import load_config

    env = {"DATABASE_URL": f"sqlite:///{path}", "PSIRT_VAR_DIR": str(path.parent / "var")}
    database = dict(load_config(env, base_dir=path.parent, web=False).database)
    database["ENGINE"] = engine
    return database


def child(engine: str, path: Path, seconds: float, threads: int) -> None:
    """One writer process: `threads` threads looping for `seconds`; prints its waits and CPU time as JSON."""
    import django
    from django.conf import settings

    settings.configure(DATABASES={"default": database_settings(path, engine)}, USE_TZ=True)
    django.setup()
    from django.db import OperationalError, connection, transaction

    waits: list[float] = []
    errors = [0]
    start = threading.Barrier(threads)

    def writer() -> None:
        start.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            asked = time.perf_counter()
            try:
                with transaction.atomic():
                    held = time.perf_counter()
                    with connection.cursor() as cursor:
                        cursor.execute("INSERT INTO written (at) VALUES (%s)", [held])
                    time.sleep(0.0015)
                waits.append(held - asked)
            except OperationalError:
                errors[0] += 1
            time.sleep(0.010)
        connection.close()

    cpu = time.process_time()
    workers = [threading.Thread(target=writer) for _ in range(threads)]
    for each in workers:
        each.start()
    for each in workers:
        each.join()
    cpu = time.process_time() - cpu
    print("JSON " + json.dumps({"waits": waits, "errors": errors[0], "cpu_s": cpu}))


def burst(engine: str, folder: Path, processes: int, threads: int, seconds: float) -> dict[str, float]:
    """One round: `processes` writer processes on a fresh database; the figures of the round."""
    import sqlite3

    path = folder / f"writers-{time.monotonic_ns()}.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE written (id INTEGER PRIMARY KEY, at REAL)")
    command = [sys.executable, __file__, "--child", engine, str(path), str(seconds), str(threads)]
    started = time.monotonic()
    children = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    outputs = [c.communicate()[0] for c in children]
    elapsed = time.monotonic() - started
    if any(c.returncode for c in children):
        raise SystemExit(f"a writer process failed: {outputs}")
    results = [json.loads(next(line[5:] for line in out.splitlines() if line.startswith("JSON "))) for out in outputs]
    waits = sorted(w * 1000 for r in results for w in r["waits"])
    with sqlite3.connect(path) as db:
        rows = int(db.execute("SELECT count(*) FROM written").fetchone()[0])
    if rows != len(waits):
        raise SystemExit(f"{len(waits)} transactions committed but {rows} rows written")
    return {
        "tx_s": len(waits) / seconds,
        "wait_p50_ms": waits[len(waits) // 2],
        "wait_p99_ms": waits[min(len(waits) - 1, int(len(waits) * 0.99))],
        "wait_max_ms": waits[-1],
        "cpu_ms_per_tx": sum(r["cpu_s"] for r in results) * 1000 / max(len(waits), 1),
        "errors": sum(r["errors"] for r in results),
        "elapsed_s": elapsed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=4, metavar=("ENGINE", "PATH", "SECONDS", "THREADS"), help="(internal)")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 5 s per backend instead of 4 of 10 s")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    if args.child:
        engine, path, seconds, threads = args.child
        child(engine, Path(path), float(seconds), int(threads))
        return 0
    rounds = args.rounds or (2 if args.quick else 4)
    seconds = args.seconds or (5.0 if args.quick else 10.0)
    print(
        f"SQLite writers: {args.processes} processes x {args.threads} threads, {rounds} rounds of {seconds:.0f} s "
        f"per backend, interleaved; load average {os.getloadavg()[0]:.2f}"
    )
    figures: dict[str, list[dict[str, float]]] = {name: [] for name in ENGINES}
    with tempfile.TemporaryDirectory(prefix="psirt-bench-writers-") as tmp:
        for round_ in range(rounds):
            for name, engine in ENGINES.items():
                result = burst(engine, Path(tmp), args.processes, args.threads, seconds)
                figures[name].append(result)
                print(
                    f"  round {round_ + 1} {name:12} {result['tx_s']:7.1f} tx/s  wait p50 {result['wait_p50_ms']:7.1f} "
                    f"p99 {result['wait_p99_ms']:7.1f} max {result['wait_max_ms']:7.1f} ms  "
                    f"CPU {result['cpu_ms_per_tx']:.3f} ms/tx  errors {result['errors']:.0f}",
                    flush=True,
                )
    fields = []
    for name, results in figures.items():
        for key in ("tx_s", "wait_p50_ms", "wait_p99_ms", "wait_max_ms", "cpu_ms_per_tx", "errors"):
            fields.append(f"{name}_{key}={statistics.median(r[key] for r in results):.2f}")
    print("RESULT " + " ".join(fields) + f" load={os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
