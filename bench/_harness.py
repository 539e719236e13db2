"""What the load benchmarks share: a free port, a gunicorn of the project, waiting for it, client threads,
latency percentiles, a run of the wrk load generator (`run_wrk`), and for the in-process benchmarks a child
process with its own settings and database (`run_django_child`), a signed-in test client and the benchmarks'
PostgreSQL databases. Imported by the scripts as `bench._harness`
(they put the repository root on sys.path)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psirt.lib.paths import folder_lock
from psirt.tests.databases import create_database, drop_database


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
    paths: Sequence[str] = (),
) -> WrkResult:
    """Load `url` with wrk (Debian package wrk) for `seconds` from `threads` threads holding `connections`
    connections, and return what it measured. With `paths`, each connection asks for those paths of `url`'s server
    in turn (a Lua script wrk runs), starting at a different one per thread."""
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.TemporaryDirectory(prefix="psirt-wrk-") as folder:
        if paths:
            script = Path(folder) / "paths.lua"
            script.write_text(_paths_script(paths))
            command += ["-s", str(script)]
        done = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60)
    return parse_wrk(done.stdout)


# --- in-process Django benchmarks (desk, metrics): a child process with its own settings and database ---------

PG_SERVER = "postgres://postgres@127.0.0.1:5432"

_CHILD_SETTINGS = """
from psirt.settings_test import *  # noqa: F401,F403

ROOT_URLCONF = "bench_{name}_urls"
DEBUG = False
LOGGING = {{"version": 1, "disable_existing_loggers": False, "root": {{"level": "WARNING"}}}}
"""

_CHILD_URLS = '''
from django.http import HttpResponse
from django.urls import path

from psirt.urls import urlpatterns as psirt_urlpatterns


def trivial(request):
    """The reference: the same middleware, a session and a user lookup, no template."""
    return HttpResponse("ok " + str(request.user.is_authenticated))


urlpatterns = [path("bench/trivial", trivial), *psirt_urlpatterns]
'''


def pg_available() -> bool:
    """Whether a PostgreSQL server answers on 127.0.0.1:5432."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def pg_database(name: str) -> str:
    """The benchmark's PostgreSQL database name; `PSIRT_BENCH_DB_SUFFIX` tells apart two checkouts benchmarking on
    the same server at once (each creates and drops its own database)."""
    suffix = os.environ.get("PSIRT_BENCH_DB_SUFFIX", "").lower()  # PostgreSQL folds unquoted names
    return f"{name}_{suffix}" if suffix else name


def pg_create(name: str) -> str:
    """Create the benchmark's database `name` on the local server, replacing one a killed run left behind; its
    URL. Through the one helper the test suite uses too (`psirt.tests.databases`)."""
    return create_database(PG_SERVER, name, replace=True)


def pg_drop(name: str) -> None:
    """Drop the benchmark's database `name` (if it exists), disconnecting whoever is still on it."""
    drop_database(PG_SERVER, name)


def signed_in(user: Any) -> Any:
    """A Django test client signed in as `user`, password and second factor done (the desk asks for both)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = client.session
    now = time.time()
    session["account_authentication_methods"] = [
        {"method": "password", "at": now, "email": user.email},
        {"method": "mfa", "at": now, "type": "totp"},
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


def run_django_child(script: Path, *, name: str, database: str, pg_db: str, args: list[str]) -> dict[str, Any]:
    """Run `script --child ARGS` in a fresh directory with its own settings (the test settings, a URL
    `/bench/trivial` as the reference view), var dir and database (SQLite in the var dir, or the PostgreSQL
    database `pg_db`), and answer the JSON it prints on a line starting with "JSON "."""
    with tempfile.TemporaryDirectory(prefix=f"psirt-bench-{name}-") as tmp:
        work = Path(tmp)
        (work / f"bench_{name}_settings.py").write_text(_CHILD_SETTINGS.format(name=name))
        (work / f"bench_{name}_urls.py").write_text(_CHILD_URLS)
        root = Path(__file__).resolve().parent.parent
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PSIRT_", "DJANGO_", "TEST_DATABASE"))}
        env.update(
            DJANGO_SETTINGS_MODULE=f"bench_{name}_settings",
            PSIRT_VAR_DIR=str(work / "var"),
            PYTHONPATH=os.pathsep.join([str(work), str(root)]),
        )
        (work / "var").mkdir()
        if database == "postgresql":
            env["TEST_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{pg_db}"
        proc = subprocess.run(
            [sys.executable, str(script), "--child", *args],
            env=env,
            cwd=str(work),
            capture_output=True,
            text=True,
            timeout=3000,
        )
        lines = [line for line in proc.stdout.splitlines() if line.startswith("JSON ")]
        if proc.returncode != 0 or not lines:
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            raise SystemExit(f"{database}: the benchmark child failed (exit {proc.returncode})")
        return dict(json.loads(lines[-1][5:]))


def _paths_script(paths: Sequence[str]) -> str:
    if not all(p.isascii() and p.isprintable() for p in paths):
        raise ValueError("wrk paths must be printable ASCII (URL-encode the rest)")
    quoted = ", ".join(json.dumps(p) for p in paths)  # a JSON string of printable ASCII is a valid Lua string
    return (
        f"local paths = {{{quoted}}}\n"
        "local n = 0\n"
        'function setup(thread) n = n + 1; thread:set("offset", n * 7) end\n'
        "local i = 0\n"
        "function request()\n"
        "  i = i + 1\n"
        "  return wrk.format(nil, paths[((i + (offset or 0)) % #paths) + 1])\n"
        "end\n"
    )


SEED_CACHE = Path(os.environ.get("PSIRT_BENCH_CACHE") or Path.home() / ".cache" / "psirt-bench")


def schema_digest() -> str:
    """A digest of every migration file: a seeded database fits the code while this stays the same."""
    root = Path(__file__).resolve().parent.parent / "psirt"
    digest = hashlib.sha256()
    for path in sorted(root.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


#: Entries kept per benchmark name: the one in use and the ones used last before it (the other checkout of an
#: interleaved comparison, the quick and the full size). Older ones are removed as a new one is stored or used.
SEED_CACHE_KEEP = 3
#: A staging folder older than this belongs to a run that was killed while storing its entry.
_STAGING_MAX_AGE = 6 * 3600


def cached_seed(
    name: str, inputs: Sequence[str], files: Sequence[Path], build: Callable[[], dict[str, str]]
) -> tuple[dict[str, str], bool]:
    """Seed once, reuse after: `build()` writes `files` (a migrated and seeded SQLite database, …) and answers
    the facts to keep with them (the keys the data was written under, the figures the seeding printed). Another
    run with the same schema (`schema_digest`) and the same `inputs` (the seeding script and its arguments) gets
    copies of the files from SEED_CACHE (`PSIRT_BENCH_CACHE`, else ~/.cache/psirt-bench) and the same facts
    without building. Answers (facts, whether they were reused).

    Only the SEED_CACHE_KEEP entries of `name` used last are kept (`_evict`). Every read, store and removal of an
    entry of `name` holds the name's lock file, so two checkouts seeding or reading at once never see half an
    entry nor lose one they are copying."""
    key = hashlib.sha256("\0".join([name, schema_digest(), *inputs]).encode()).hexdigest()[:24]
    folder = SEED_CACHE / f"{name}-{key}"
    facts_file = folder / "facts.json"
    with folder_lock(_made(SEED_CACHE), f".{name}.lock"):
        if facts_file.is_file() and all((folder / path.name).is_file() for path in files):
            for path in files:
                shutil.copyfile(folder / path.name, path)
            os.utime(facts_file)  # its modification time is when the entry was last used
            _evict(name, current=folder)
            return dict(json.loads(facts_file.read_text())), True
    facts = build()
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=_made(SEED_CACHE)))
    try:
        for path in files:
            shutil.copyfile(path, staging / path.name)
        (staging / "facts.json").write_text(json.dumps(facts))
        with folder_lock(SEED_CACHE, f".{name}.lock"):
            shutil.rmtree(folder, ignore_errors=True)
            staging.rename(folder)  # whole or not at all: a run killed while copying leaves no half entry
            _evict(name, current=folder)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # no room, or the cache folder went away
    return facts, False


def _evict(name: str, *, current: Path) -> None:
    """Remove the entries of `name` but `current` and the ones used last before it (SEED_CACHE_KEEP in all), and
    staging folders of killed runs. Called holding the name's lock."""
    entry = re.compile(re.escape(name) + r"-[0-9a-f]{24}")
    staging = re.compile(r"\." + re.escape(name) + r"-\w+")
    now = time.time()
    entries: list[tuple[float, Path]] = []
    for path in SEED_CACHE.iterdir():
        if entry.fullmatch(path.name) and path != current:
            try:
                entries.append(((path / "facts.json").stat().st_mtime, path))
            except OSError:
                entries.append((0.0, path))  # no facts: never complete, nothing to keep
        elif staging.fullmatch(path.name) and path.is_dir() and now - path.stat().st_mtime > _STAGING_MAX_AGE:
            shutil.rmtree(path, ignore_errors=True)
    entries.sort(reverse=True)
    for _used, path in entries[SEED_CACHE_KEEP - 1 :]:
        shutil.rmtree(path, ignore_errors=True)


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder
