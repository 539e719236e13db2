"""Public pages benchmark: the advisory list, a filtered search, an advisory page and "Am I affected?",
served by gunicorn on SQLite with 10,000 published advisories over 1,000 products × 50 releases.

N client threads request each page for `--seconds` (`--quick`: 5 s). Reference, same server and run: a trivial
Django view (present only in this benchmark's own URLconf), measured again before and after each page, because
on a shared machine the load of other work changes within a run; each page's ratio is to the mean of the two
trivial rates measured around it. Reported per page: requests/s, p50/p99, ratio to the trivial view. The
database queries of the list and the search are counted with 100 and with 10,000 advisories: they must be the
same.

Targets: advisory page and list ≥ 0.6 of the trivial view's rate; /affected/ p99 < 50 ms; list and
search query counts independent of the number of advisories. The last line is `RESULT key=value …`.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: `bench` must be importable

from bench._harness import free_port, latency_ms, run_threads, start_gunicorn, wait_for

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
import datetime as dt, random, sys
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


def count(path):
    client = Client()
    client.get(path)  # the first request of a process loads the profile and warms caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(ctx.captured_queries)


LIST, SEARCH = "/en/advisories/", "/en/advisories/?q=web&severity=High&line=line-3&sort=severity"
seed(0, 100)
small = (count(LIST), count(SEARCH))
seed(100, ADVISORIES)
large = (count(LIST), count(SEARCH))
print(f"QUERIES {small[0]} {small[1]} {large[0]} {large[1]}")
"""


class Load:
    """N threads requesting paths (picked at random from `paths`) as fast as the server answers."""

    def __init__(self, port: int, paths: list[str], clients: int, seconds: float) -> None:
        self.port, self.paths, self.clients, self.seconds = port, paths, clients, seconds
        self.latencies: list[float] = []
        self.ok = 0
        self.other = 0
        self._lock = threading.Lock()

    def run(self) -> float:
        stop_at = time.monotonic() + self.seconds

        def client(seed: int) -> None:
            rng = random.Random(seed)
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            while time.monotonic() < stop_at:
                path = rng.choice(self.paths)
                started = time.perf_counter()
                try:
                    conn.request("GET", path, headers={"Host": "127.0.0.1"})
                    response = conn.getresponse()
                    response.read()
                except OSError:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                    with self._lock:
                        self.other += 1
                    continue
                elapsed = time.perf_counter() - started
                with self._lock:
                    self.latencies.append(elapsed)
                    if response.status == 200:
                        self.ok += 1
                    else:
                        self.other += 1
            conn.close()

        return run_threads(client, self.clients)

    def summary(self, elapsed: float) -> dict[str, float]:
        return {
            "rps": self.ok / elapsed,
            **latency_ms(self.latencies),
            "ok": self.ok,
            "other": self.other,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s per page instead of 20 s")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--advisories", type=int, default=10_000)
    parser.add_argument("--products", type=int, default=1_000)
    parser.add_argument("--releases", type=int, default=50)
    args = parser.parse_args()
    seconds = args.seconds or (5.0 if args.quick else 20.0)
    print(
        f"public benchmark: {args.advisories} advisories, {args.products} products × {args.releases} releases, "
        f"{args.clients} clients, {args.workers} gunicorn workers, {seconds:.0f} s per page",
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
    }
    python = sys.executable
    try:
        subprocess.run([python, "-m", "psirt.cli", "migrate", "-v", "0"], env=env, check=True, cwd=work)
        began = time.monotonic()
        seeded = subprocess.run(
            [python, "-c", SEED, str(args.products), str(args.releases), str(args.advisories)],
            env=env,
            check=True,
            cwd=work,
            capture_output=True,
            text=True,
        )
        line = next(x for x in seeded.stdout.splitlines() if x.startswith("QUERIES"))
        list_small, search_small, list_large, search_large = (int(x) for x in line.split()[1:])
        print(
            f"  seeded in {time.monotonic() - began:.0f} s; queries with 100 / {args.advisories} advisories: "
            f"list {list_small} / {list_large}, search {search_small} / {search_large}",
            flush=True,
        )
        rng = random.Random(7)
        year_of = [2026 - (n % 5) for n in range(args.advisories)]
        pages = {
            "trivial": ["/bench/trivial"],
            "list": ["/en/advisories/", "/en/advisories/?page=2", "/en/advisories/?sort=severity"],
            "search": [
                "/en/advisories/?q=web&severity=High&line=line-3&sort=severity",
                "/en/advisories/?q=CVE-2025-10001",
                "/en/advisories/?product=p-42",
            ],
            "advisory": [
                f"/en/advisories/BN-SA-{year_of[n]}-{n:05d}/"
                for n in (rng.randrange(args.advisories) for _ in range(50))
            ],
            "affected": [
                f"/en/affected/?product=p-{rng.randrange(args.products)}&version=V1.0.{rng.randrange(args.releases)}"
                for _ in range(50)
            ],
        }
        results: dict[str, float] = {}
        # First with the page cache off (PSIRT_PUBLIC_PAGE_CACHE=0), then on as installed: the targets are judged
        # on the second run, both are reported.
        for mode, cache_seconds in (("nocache", "0"), ("cache", "60")):
            print(f"  -- page cache {'off' if cache_seconds == '0' else 'on (' + cache_seconds + ' s)'}", flush=True)
            port = free_port()
            server = start_gunicorn(python, port, args.workers, {**env, "BENCH_PAGE_CACHE": cache_seconds}, work)
            try:
                wait_for(port)
                Load(port, [p for paths in pages.values() for p in paths], 2, 2).run()  # warm-up
                # The first full-concurrency run after start-up is slow for every path, the trivial one too: not
                # a reference to compare with.
                Load(port, pages["trivial"], args.clients, 2).run()
                trivial_rates = []
                names = [name for name in pages if name != "trivial"]
                steps = [step for name in names for step in (("trivial", pages["trivial"]), (name, pages[name]))]
                for index, (label, measured) in enumerate([*steps, ("trivial", pages["trivial"])]):
                    load = Load(port, measured, args.clients, seconds)
                    summary = load.summary(load.run())
                    key = f"reference{index // 2}" if label == "trivial" else label
                    for field, value in summary.items():
                        results[f"{mode}_{key}_{field}"] = value
                    if label == "trivial":
                        trivial_rates.append(summary["rps"])
                    print(
                        f"  {label:9} {summary['rps']:8.1f} req/s  p50 {summary['p50_ms']:6.1f} ms  "
                        f"p99 {summary['p99_ms']:6.1f} ms  200={int(summary['ok'])}  other={int(summary['other'])}",
                        flush=True,
                    )
                results[f"{mode}_trivial_rps"] = statistics.median(trivial_rates)
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    fields = []
    errors = 0
    for mode in ("nocache", "cache"):
        ref = results[f"{mode}_trivial_rps"] or 1.0
        for index, name in enumerate(("list", "search", "advisory", "affected")):
            around = (results[f"{mode}_reference{index}_rps"] + results[f"{mode}_reference{index + 1}_rps"]) / 2
            results[f"{mode}_{name}_ratio"] = results[f"{mode}_{name}_rps"] / (around or 1.0)
            fields.append(f"{mode}_{name}_rps={results[f'{mode}_{name}_rps']:.1f}")
            fields.append(f"{mode}_{name}_p99_ms={results[f'{mode}_{name}_p99_ms']:.1f}")
            fields.append(f"{mode}_{name}_ratio={results[f'{mode}_{name}_ratio']:.2f}")
        fields.append(f"{mode}_trivial_rps={ref:.1f}")  # the median of the reference runs
        errors += sum(int(v) for k, v in results.items() if k.startswith(f"{mode}_") and k.endswith("_other"))
        print(
            f"  ratios to the trivial view ({mode}): "
            + ", ".join(f"{n} {results[f'{mode}_{n}_ratio']:.2f}" for n in ("list", "search", "advisory", "affected")),
            flush=True,
        )
    fields.append(f"list_queries={list_small}/{list_large} search_queries={search_small}/{search_large}")
    bounded = list_small == list_large and search_small == search_large
    print("RESULT " + " ".join(fields) + f" queries_bounded={'yes' if bounded else 'NO'} errors={errors}")
    return 0 if bounded and errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
