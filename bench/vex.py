"""Components benchmark: a catalog of products × releases, each release with a generated CycloneDX SBOM drawn from a
pool of component versions; then OSV records about those components.

Reports: SBOM import rate (documents/s, through the service: parse, schema check, store, match), time to import and
match the whole OSV set, time to re-match after one new OSV record with 100 releases stored and with every release
stored (it must not grow with the catalog), the answer time of `GET /api/v1/vex` (p50/p99, in-process client), and
the database size. Reference in the same run: the same OSV files parsed with plain `json.load` (target: import and
match ≤ 5× that).

Full size is the issue's (1,000 products × 50 releases × 300 components, pool 5,000, 50,000 OSV records) and takes
hours on a small machine; `--quick` (20 × 5 × 100, pool 1,000, 2,000 records) runs in about a minute. SQLite in a
temporary folder. The last line is `RESULT key=value …`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as bench/vex.py: its folder (holding bench/csaf.py) must not shadow the `csaf` package the validator imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

NAMES = ["openssl", "busybox", "linux", "zlib", "curl", "lighttpd", "dropbear", "libxml2", "sqlite", "mbedtls"]


def _setup(var_dir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "psirt.settings_test"
    os.environ["PSIRT_VAR_DIR"] = str(var_dir)
    os.environ.pop("TEST_DATABASE_URL", None)
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _pool(size: int) -> list[tuple[str, str]]:
    """(name, version) pairs: generic C-style packages, versions like 3.0.13."""
    names = [f"{NAMES[i % len(NAMES)]}{i // len(NAMES) or ''}" for i in range(max(1, size // 10))]
    return [
        (names[i % len(names)], f"{1 + i // (len(names) * 20)}.{(i // len(names)) % 20}.{i % 7}") for i in range(size)
    ]


def _sbom(parts: list[tuple[str, str]]) -> bytes:
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "components": [
                {"type": "library", "name": n, "version": v, "purl": f"pkg:generic/{n}@{v}"} for n, v in parts
            ],
        }
    ).encode()


def _osv(n: int, name: str, fixed: str) -> dict[str, object]:
    return {
        "id": f"OSV-BENCH-{n:06d}",
        "modified": "2026-01-01T00:00:00Z",
        "aliases": [f"CVE-2026-{n + 100000}"],
        "affected": [
            {
                "package": {"ecosystem": "OSS-Fuzz", "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            }
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--releases", type=int, default=50)
    parser.add_argument("--components", type=int, default=300)
    parser.add_argument("--pool", type=int, default=5000)
    parser.add_argument("--records", type=int, default=50000)
    args = parser.parse_args()
    if args.quick:
        args.products, args.releases, args.components, args.pool, args.records = 20, 5, 100, 1000, 2000
    rng = random.Random(16)
    with tempfile.TemporaryDirectory(prefix="psirt-bench-vex-") as tmp:
        work = Path(tmp)
        _setup(work / "var")
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from psirt.catalog.models import FirmwareRelease, Product, ProductLine
        from psirt.components.services import import_sbom, import_vulnerabilities
        from psirt.components.vulndata import json_files, parse_records, read_file

        line = ProductLine.objects.create(slug="bench", name_en="Bench")
        products = Product.objects.bulk_create(
            Product(line=line, slug=f"p{i}", name=f"Product {i}") for i in range(args.products)
        )
        FirmwareRelease.objects.bulk_create(
            FirmwareRelease(product=p, version=f"1.{r}", position=r + 1) for p in products for r in range(args.releases)
        )
        releases = list(FirmwareRelease.objects.order_by("pk"))
        pool = _pool(args.pool)
        sboms = [_sbom(rng.sample(pool, min(args.components, len(pool)))) for _ in releases]

        # OSV files: one record per file, about the pool's packages
        osv_dir = work / "osv"
        osv_dir.mkdir()
        names = sorted({n for n, _v in pool})
        for n in range(args.records):
            name = names[n % len(names)]
            (osv_dir / f"{n:06d}.json").write_text(json.dumps(_osv(n, name, f"1.{n % 20}.{n % 7}")))

        def rematch_one(tag: int) -> float:
            record = parse_records(_osv(900000 + tag, names[tag % len(names)], "1.10.3"), origin="bench")
            t = time.perf_counter()
            import_vulnerabilities(records=record)
            return time.perf_counter() - t

        # "a small catalog": 100 releases, or a tenth of a --quick one
        first = 100 if len(releases) >= 1000 else max(1, len(releases) // 10)
        t0 = time.perf_counter()
        for release, data in zip(releases[:first], sboms[:first], strict=True):
            import_sbom(release=release, data=data, actor=None)
        small_sbom_s = time.perf_counter() - t0
        # a few records so that one new record has company
        import_vulnerabilities(records=[r for p in json_files([str(osv_dir)])[:200] for r in read_file(p)])
        rematch_small = statistics.median(rematch_one(i) for i in range(5))

        t0 = time.perf_counter()
        for release, data in zip(releases[first:], sboms[first:], strict=True):
            import_sbom(release=release, data=data, actor=None)
        rest_s = time.perf_counter() - t0
        sbom_rate = len(releases) / (small_sbom_s + rest_s)
        # Each figure as soon as it is measured: a long run that fails later still leaves what it measured.
        print(f"SBOM import: {sbom_rate:.1f} documents/s ({len(releases)} releases)", flush=True)
        print(f"re-match after one new record at {first} releases: {rematch_small * 1000:.1f} ms", flush=True)

        files = json_files([str(osv_dir)])
        t0 = time.perf_counter()
        for path in files:
            with open(path) as handle:
                json.load(handle)
        parse_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        call_command("import_vulns", str(osv_dir), stdout=io.StringIO())  # read, check, store, match
        match_s = time.perf_counter() - t0
        rematch_full = statistics.median(rematch_one(100 + i) for i in range(5))
        print(f"OSV: json.load {parse_s:.2f} s, import+match {match_s:.2f} s ({match_s / parse_s:.1f}x)", flush=True)

        client = Client()
        latencies = []
        slugs = {p.pk: p.slug for p in products}
        # A running server is warm: the first requests (URL map, API schema, caches) are timed apart.
        t = time.perf_counter()
        for _warm in range(5):
            client.get(f"/api/v1/vex?cve=CVE-2026-100000&product={slugs[releases[0].product_id]}&version=1.0")
        warmup_ms = (time.perf_counter() - t) * 1000
        for _ask in range(200):
            release = releases[rng.randrange(len(releases))]
            cve = f"CVE-2026-{100000 + rng.randrange(args.records)}"
            url = f"/api/v1/vex?cve={cve}&product={slugs[release.product_id]}&version={release.version}"
            t = time.perf_counter()
            response = client.get(url)
            latencies.append((time.perf_counter() - t) * 1000)
            assert response.status_code in {200, 404}, response.content
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        connection.close()
        db_mb = (work / "var" / "test.sqlite3").stat().st_size / 1e6

    ratio = match_s / parse_s if parse_s else float("inf")
    print(
        f"catalog: {args.products} products × {args.releases} releases × {args.components} components, pool {args.pool}"
    )
    print(f"SBOM import: {sbom_rate:.1f} documents/s")
    print(
        f"OSV: {args.records} records; json.load reference {parse_s:.2f} s; import+match {match_s:.2f} s ({ratio:.1f}×)"
    )
    print(
        "re-match after one new record:",
        f"{rematch_small * 1000:.1f} ms at {first} releases,",
        f"{rematch_full * 1000:.1f} ms at {len(releases)}",
    )
    print(f"/api/v1/vex: p50 {p50:.1f} ms, p99 {p99:.1f} ms (after 5 warm-up requests, {warmup_ms:.0f} ms in all)")
    print(f"database: {db_mb:.1f} MB")
    fields = {
        "sbom_docs_per_s": f"{sbom_rate:.1f}",
        "osv_records": args.records,
        "parse_s": f"{parse_s:.2f}",
        "match_s": f"{match_s:.2f}",
        "match_vs_parse": f"{ratio:.1f}",
        "rematch_ms_small": f"{rematch_small * 1000:.1f}",
        "rematch_ms_full": f"{rematch_full * 1000:.1f}",
        "releases": len(releases),
        "vex_p50_ms": f"{p50:.1f}",
        "vex_p99_ms": f"{p99:.1f}",
        "vex_warmup_ms": f"{warmup_ms:.0f}",
        "db_mb": f"{db_mb:.1f}",
    }
    print("RESULT " + " ".join(f"{k}={v}" for k, v in fields.items()))


if __name__ == "__main__":
    main()
