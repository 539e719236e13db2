"""Public pages benchmark: the home page, the advisory list, a filtered search, an advisory page and "Am I
affected?", served by gunicorn (4 sync workers) on SQLite with 10,000 published advisories over 1,000 products ×
50 releases, loaded with the wrk load generator (Debian package wrk).

Twice: with the page cache off (every request renders), then on. Per page, wrk holds 8 connections for `--seconds`
(`--quick`: 1 s) over a handful of URLs of that page; the reference, same server and run, is a trivial Django view
(only in this benchmark's URLconf), measured before and after every page because the load of a shared machine
changes within a run: a page's ratio is its rate over the mean of the two trivial rates around it. With the cache
off, each page is also asked by one connection alone: nothing queues, so that p50 is the server time of a render
(`nocache_<page>_p50_ms`, plus a loopback round trip of ~0.1 ms). Finally, with the cache on, wrk runs through a
publication (a new advisory inserted by another process): every cached page must show it on the next request and
the renders after it must not pile up (`publication_p99_ms`). The database queries of the list and the search are
counted with 100 and with 10,000 advisories, by the code under test on every run: they must be the same. The
migrated and seeded databases (of 100 and of all advisories) are kept in the benchmarks' seed cache
(`bench._harness.cached_seed`, keyed by the migrations and the seeding script), so only
the first run after a schema change pays for seeding.

Targets: uncached server time ≤ 15 ms (p50) for list, search, advisory and affected; uncached ratio ≥ 0.2; cached
ratio ≥ 0.9 for every page; p99 < 200 ms through a publication; query counts flat. The last line is
`RESULT key=value …`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import os
import random
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: `bench` must be importable

from bench._harness import WrkResult, cached_seed, free_port, run_wrk, start_gunicorn, wait_for

ROOT = Path(__file__).resolve().parent.parent

BENCH_SETTINGS = """
import os

from psirt.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench_urls"
PSIRT_PUBLIC_PAGE_CACHE = float(os.environ.get("BENCH_PAGE_CACHE", "0"))
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
"""

BENCH_URLS = """
from django.http import HttpResponse
from django.urls import path

from psirt.urls import urlpatterns as psirt_urlpatterns


def trivial(request):
    return HttpResponse("ok")


urlpatterns = [path("bench/trivial", trivial), *psirt_urlpatterns]
"""

# Run inside the benchmark's Django (python -c): seeds the database, prints query counts.
SEED = r"""
import datetime as dt, random, sqlite3, sys
import django
django.setup()
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from psirt.advisories.models import Advisory, AffectedProduct, Revision
from psirt.catalog.models import FirmwareRelease, Product, ProductLine
from psirt.lib.cvss import score_vector, severity_for

PRODUCTS, RELEASES, ADVISORIES = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(5)
VECTORS = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N",
    "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N",
    "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N",
]
SCORES = {v: score_vector(v) for v in VECTORS}

with transaction.atomic():
    lines = [ProductLine.objects.create(slug=f"line-{i}", name_en=f"Line {i}", position=i) for i in range(10)]
    Product.objects.bulk_create(
        Product(line=lines[i % 10], slug=f"p-{i}", name=f"Product {i}", model_numbers=f"M{i}-A, M{i}-B")
        for i in range(PRODUCTS)
    )
    products = list(Product.objects.order_by("id"))
    FirmwareRelease.objects.bulk_create(
        (
            FirmwareRelease(product=p, version=f"V1.0.{r}", position=r, download_url="https://dl.example/f.bin")
            for p in products
            for r in range(RELEASES)
        ),
        batch_size=5000,
    )
    releases = {}
    for rel in FirmwareRelease.objects.values_list("id", "product_id", "position"):
        releases[(rel[1], rel[2])] = rel[0]


def seed(start, end):
    now = timezone.now()
    with transaction.atomic():
        batch = []
        for n in range(start, end):
            vector = VECTORS[n % len(VECTORS)]
            result = SCORES[vector]
            year = 2026 - (n % 5)
            batch.append(Advisory(
                advisory_id=f"BN-SA-{year}-{n:05d}", year=year, number=n, state="published",
                title_en=f"Vulnerability {n} in the web interface", summary_en=f"Summary of issue {n}.",
                description_en="A description. " * 20, workarounds_en="Block port 80.",
                cvss31_vector=result.vector, cvss31_base=result.base, score=result.base,
                severity=severity_for(result.base), exploitation=("none", "poc", "active")[n % 3],
                identifiers=f"CVE-{year}-{10000 + n}", published_at=now - dt.timedelta(hours=n),
                revised_at=now - dt.timedelta(hours=n),
            ))
        Advisory.objects.bulk_create(batch, batch_size=2000)
        created = list(Advisory.objects.filter(number__gte=start, number__lt=end).values_list("id", "number"))
        rows, revs = [], []
        for aid, n in created:
            for k in range(1 + n % 2):
                pid = products[(n * 7 + k * 13) % len(products)].id
                lo = rng.randrange(0, RELEASES - 10)
                rows.append(AffectedProduct(
                    advisory_id=aid, product_id=pid, introduced_id=releases[(pid, lo)],
                    fixed_id=releases[(pid, lo + rng.randrange(1, 10))],
                ))
            revs.append(Revision(advisory_id=aid, number=1, date=now, summary_en="Initial publication."))
        AffectedProduct.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
        Revision.objects.bulk_create(revs, batch_size=5000)


seed(0, 100)
connection.ensure_connection()
with sqlite3.connect(sys.argv[4]) as small:  # the database as it was at 100 advisories, for the query counts
    connection.connection.backup(small)
seed(100, ADVISORIES)
"""


# Run inside the benchmark's Django against the database of 100 advisories, then of all: the queries of the list and
# the search, counted by the code under test (not kept with the seeded files).
COUNT = r"""
import django
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


LIST, SEARCH = "/en/advisories/", "/en/advisories/?q=web&severity=High&line=line-3&sort=severity"


def count(path):
    with CaptureQueriesContext(connection) as ctx:
        response = Client().get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(ctx.captured_queries)


# The first requests of a process create the organization profile (which moves the site generation) and fill the
# per-process caches: counted is a request of a warm process, as every request after the first few.
for path in (LIST, SEARCH, LIST, SEARCH):
    Client().get(path)
print("QUERIES", count(LIST), count(SEARCH))
"""


PUBLISH = r"""
import datetime as dt, sys
import django
django.setup()
from django.utils import timezone
from psirt.advisories.models import Advisory, Revision

now = timezone.now()
advisory = Advisory.objects.create(
    advisory_id=sys.argv[1], year=2026, number=99999, state="published", title_en="Freshly published",
    summary_en="Just out.", description_en="A description.", score=9.8, severity="Critical", exploitation="active",
    published_at=now, revised_at=now,
)
Revision.objects.create(advisory=advisory, number=1, date=now, summary_en="Initial publication.")
"""

NEW_ID = "BN-SA-2026-99999"
TARGET_RENDER_MS = 15.0
TARGET_NOCACHE_RATIO = 0.2
TARGET_CACHE_RATIO = 0.9
TARGET_PUBLICATION_P99_MS = 200.0


def wrk(port: int, paths: list[str], seconds: float, connections: int = 8) -> WrkResult:
    """wrk over `paths`; a run that completed no request counts as an error (a figure of 0 is no figure)."""
    threads = 1 if connections == 1 else 2
    result = run_wrk(
        f"http://127.0.0.1:{port}/", threads=threads, connections=connections, seconds=seconds, paths=paths
    )
    return result if result.requests else dataclasses.replace(result, errors=result.errors + 1)


def fetch(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def ready(port: int, timeout: float = 300) -> None:
    """Until the workers answer: the port is open as soon as gunicorn's master listens, the workers may still be
    importing Django on a loaded machine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if fetch(port, "/bench/trivial")[0] == 200:
                return
        time.sleep(0.2)
    raise SystemExit("gunicorn's workers did not answer")


def line(label: str, r: WrkResult, extra: str = "") -> None:
    print(
        f"  {label:16} {r.requests_per_second:8.1f} req/s  p50 {r.p50_ms:6.1f} ms  p99 {r.p99_ms:6.1f} ms  "
        f"errors={r.errors}{extra}",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 s per measurement instead of 10 s")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--advisories", type=int, default=10_000)
    parser.add_argument("--products", type=int, default=1_000)
    parser.add_argument("--releases", type=int, default=50)
    args = parser.parse_args()
    seconds = args.seconds or (1.0 if args.quick else 10.0)
    started = time.monotonic()
    print(
        f"public benchmark: {args.advisories} advisories, {args.products} products × {args.releases} releases, "
        f"{args.workers} gunicorn workers, wrk, {seconds:.0f} s per measurement; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    from cryptography.fernet import Fernet

    work = Path(tempfile.mkdtemp(prefix="psirt-bench-public-"))
    (work / "bench_settings.py").write_text(BENCH_SETTINGS)
    (work / "bench_urls.py").write_text(BENCH_URLS)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PSIRT_", "DJANGO_"))},
        "PSIRT_DEV": "1",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "PSIRT_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PSIRT_AUDIT_KEYS": Fernet.generate_key().decode(),
        "PSIRT_VAR_DIR": str(work / "var"),
        "DATABASE_URL": f"sqlite:///{work}/bench.sqlite3",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "PSIRT_BASE_URL": "http://127.0.0.1:8000",
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": f"{work}{os.pathsep}{ROOT}",
        "LOG_LEVEL": "WARNING",
        # A worker killed for a slow start on a loaded machine would never answer.
        "GUNICORN_CMD_ARGS": "--timeout 300",
    }
    python = sys.executable
    rng = random.Random(7)
    year_of = [2026 - (n % 5) for n in range(args.advisories)]
    pages = {
        "home": ["/en/", "/zh-hans/"],
        "list": ["/en/advisories/", "/en/advisories/?page=2", "/en/advisories/?sort=severity"],
        "search": [
            "/en/advisories/?q=web&severity=High&line=line-3&sort=severity",
            "/en/advisories/?q=CVE-2025-10001",
            "/en/advisories/?product=p-42",
        ],
        "advisory": [
            f"/en/advisories/BN-SA-{year_of[n]}-{n:05d}/" for n in (rng.randrange(args.advisories) for _ in range(50))
        ],
        "affected": [
            f"/en/affected/?product=p-{rng.randrange(args.products)}&version=V1.0.{rng.randrange(args.releases)}"
            for _ in range(50)
        ],
    }
    trivial = ["/bench/trivial"]
    results: dict[str, float] = {}
    errors = 0
    fresh = True
    keys = ("SECRET_KEY", "PSIRT_ENCRYPTION_KEYS", "PSIRT_AUDIT_KEYS")

    def build() -> dict[str, str]:
        subprocess.run([python, "-m", "psirt.cli", "migrate", "-v", "0"], env=env, check=True, cwd=work)
        subprocess.run([python, "-c", SEED, *sizes, str(work / "small.sqlite3")], env=env, check=True, cwd=work)
        with contextlib.closing(sqlite3.connect(work / "bench.sqlite3")) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the one file that is kept
        return {key: env[key] for key in keys}

    def queries(database: str) -> list[int]:
        counted = subprocess.run(
            [python, "-c", COUNT],
            env={**env, "DATABASE_URL": f"sqlite:///{work}/{database}"},
            check=True,
            cwd=work,
            capture_output=True,
            text=True,
        )
        return [int(x) for x in next(x for x in counted.stdout.splitlines() if x.startswith("QUERIES")).split()[1:]]

    try:
        began = time.monotonic()
        sizes = [str(args.products), str(args.releases), str(args.advisories)]
        seeded = [work / "bench.sqlite3", work / "small.sqlite3"]
        facts, reused = cached_seed("public", [SEED, *sizes], seeded, build)
        env.update({key: facts[key] for key in keys})  # the keys the stored data was written under
        (list_small, search_small), (list_large, search_large) = queries("small.sqlite3"), queries("bench.sqlite3")
        print(
            f"  {'seeded database reused' if reused else 'migrated and seeded'} in {time.monotonic() - began:.0f} s; "
            f"queries with 100 / {args.advisories} advisories: list {list_small} / {list_large}, "
            f"search {search_small} / {search_large}",
            flush=True,
        )
        # With the page cache off (PSIRT_PUBLIC_PAGE_CACHE=0), then on as installed.
        for mode, cache_seconds in (("nocache", "0"), ("cache", "60")):
            print(f"  -- page cache {'off' if cache_seconds == '0' else 'on (' + cache_seconds + ' s)'}", flush=True)
            port = free_port()
            server = start_gunicorn(python, port, args.workers, {**env, "BENCH_PAGE_CACHE": cache_seconds}, work)
            try:
                wait_for(port)
                ready(port)
                wrk(port, [p for paths in pages.values() for p in paths], min(2.0, seconds), connections=4)  # warm-up
                if mode == "cache":
                    for path in (p for paths in pages.values() for p in paths):
                        fetch(port, path)  # every URL stored once: the cached run measures hits, not first renders
                # The first full-concurrency run after start-up is slow for every path, the trivial one too: not
                # a reference to compare with.
                wrk(port, trivial, 1)
                references = [wrk(port, trivial, seconds)]
                line("trivial", references[-1])
                for name, paths in pages.items():
                    if mode == "nocache":
                        alone = wrk(port, paths, seconds, connections=1)
                        results[f"nocache_{name}_p50_ms"] = alone.p50_ms
                        line(f"{name} (1 conn.)", alone)
                        errors += alone.errors
                    measured = wrk(port, paths, seconds)
                    references.append(wrk(port, trivial, seconds))
                    around = (references[-2].requests_per_second + references[-1].requests_per_second) / 2
                    ratio = measured.requests_per_second / (around or 1.0)
                    results[f"{mode}_{name}_rps"] = measured.requests_per_second
                    results[f"{mode}_{name}_p99_ms"] = measured.p99_ms
                    results[f"{mode}_{name}_ratio"] = ratio
                    errors += measured.errors
                    line(name, measured, f"  ratio {ratio:.2f}")
                    line("trivial", references[-1])
                results[f"{mode}_trivial_rps"] = statistics.median(r.requests_per_second for r in references)
                if mode == "cache":
                    fresh = publication_run(port, pages, seconds, python, env, work, results)
                    errors += int(results["publication_errors"])
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    fields = []
    for name in ("list", "search", "advisory", "affected", "home"):
        fields.append(f"nocache_{name}_p50_ms={results[f'nocache_{name}_p50_ms']:.1f}")
    for mode in ("nocache", "cache"):
        for name in pages:
            fields.append(f"{mode}_{name}_ratio={results[f'{mode}_{name}_ratio']:.2f}")
        fields.append(f"{mode}_trivial_rps={results[f'{mode}_trivial_rps']:.0f}")
    fields.append(
        f"cache_list_rps={results['cache_list_rps']:.0f} cache_list_p99_ms={results['cache_list_p99_ms']:.1f}"
    )
    fields.append(
        f"publication_p99_ms={results['publication_p99_ms']:.1f} publication_fresh={'yes' if fresh else 'NO'}"
    )
    fields.append(f"list_queries={list_small}/{list_large} search_queries={search_small}/{search_large}")
    bounded = list_small == list_large and search_small == search_large
    fields.append(f"queries_bounded={'yes' if bounded else 'NO'} errors={errors}")
    fields.append(f"seed_reused={'yes' if reused else 'no'} total_s={time.monotonic() - started:.0f}")
    print("RESULT " + " ".join(fields))
    return 0 if bounded and errors == 0 and fresh else 1


def publication_run(
    port: int,
    pages: dict[str, list[str]],
    seconds: float,
    python: str,
    env: dict[str, str],
    work: Path,
    results: dict[str, float],
) -> bool:
    """wrk over every cached page while another process publishes an advisory a third of the way in; then the
    next request of the list, the home page and the new advisory's page must show it (the cache stays exact)."""
    duration = max(3.0, 2 * seconds)
    mixed = [paths[0] for paths in pages.values()] + pages["advisory"][1:10]
    measured: list[WrkResult] = []
    loader = threading.Thread(target=lambda: measured.append(wrk(port, mixed, duration)))
    loader.start()
    time.sleep(duration / 3)
    subprocess.run([python, "-c", PUBLISH, NEW_ID], env=env, check=True, cwd=work)
    loader.join()
    fresh = all(NEW_ID in fetch(port, path)[1] for path in ("/en/advisories/", "/en/"))
    fresh = fresh and fetch(port, f"/en/advisories/{NEW_ID}/")[0] == 200
    result = measured[0]
    results["publication_p99_ms"] = result.p99_ms
    results["publication_errors"] = result.errors
    line("through publication", result, f"  new advisory shown at once: {'yes' if fresh else 'NO'}")
    return fresh


if __name__ == "__main__":
    raise SystemExit(main())
