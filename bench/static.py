"""Static export benchmark: the public site exported by `psirt export-site` and served by nginx (the example
configuration, deploy/nginx-static.conf) against the same pages from the application (`psirt serve`, gunicorn,
with its page cache on), in one run, loaded by wrk (Debian package).

Reference, same run: nginx serving a trivial static file of the same size as the exported page ("nginx's own
rate"); the goal is the exported page at that rate. Pages: an advisory page and the advisory list (`--quick`: the
advisory page only), on a site of 100 advisories. Reported per page and server: requests/s, p50/p99 from wrk's latency
distribution, and the ratios export/app and export/trivial.

The app runs as `psirt serve` runs it, so each worker is replaced after 2,000 to 4,000 requests
(`PSIRT_MAX_REQUESTS` and its spread): at the app's rate that happens within a run. A replacement is a fork of
the preloaded master, so the app keeps answering; a request held up meanwhile counts in wrk's latency (the app's
p99). The run reports how many workers were replaced while wrk ran (`<page>_app_recycled`), so its p99 and rate
are read knowing that.

`--advisories N` (not in `--quick`) also measures the incremental export at scale: N published advisories, the
manifest of a full export (written without rendering: the incremental run trusts it for every page it does not
render), then an incremental export after one new advisory (every list page after it shifts) and after a
revision of an old one (only its pages). The last line is `RESULT key=value …`.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: `bench` must be importable

from bench._harness import WrkResult, free_port, run_wrk, wait_for

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SITE_ADVISORIES = 100  # the site whose pages are served (--quick: 30); --advisories measures exports at scale
APP_URL = "http://127.0.0.1:9"  # forms of the exported pages point here; nothing is sent during the benchmark

# Run inside the benchmark's Django (python -c): writes nginx's configuration from the example.
NGINX_CONF = r"""
import sys
from pathlib import Path
import django
django.setup()
from psirt.ops.export.nginx import example_config
root, work, port, app_url = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
(Path(work) / "nginx.conf").write_text(example_config(root=Path(root), work=Path(work), port=port, app_url=app_url))
"""

# Run inside the benchmark's Django: N published advisories in bulk (no CSAF tree: the export copies the tree as
# it is, its cost is a file copy per document).
SEED = r"""
import datetime as dt, sys
import django
django.setup()
from django.db import transaction
from django.utils import timezone
from psirt.advisories.models import Advisory, AffectedProduct, Revision
from psirt.catalog.models import FirmwareRelease, Product, ProductLine

N, PREFIX = int(sys.argv[1]), sys.argv[2]
now = timezone.now()
with transaction.atomic():
    lines = [
        ProductLine.objects.create(slug=f"{PREFIX}line-{i}", name_en=f"Line {i}", position=100 + i)
        for i in range(10)
    ]
    products = [
        Product.objects.create(line=lines[i % 10], slug=f"{PREFIX}p-{i}", name=f"Product {i}")
        for i in range(100)
    ]
    releases = [
        [FirmwareRelease.objects.create(product=p, version=f"V1.0.{r}", position=r) for r in range(5)]
        for p in products
    ]
    batch = []
    for n in range(N):
        year = 2026 - (n % 5)
        batch.append(Advisory(
            advisory_id=f"{PREFIX}BN-SA-{year}-{n:05d}", year=year, number=(100000 if PREFIX else 10000) + n,
            state="published",
            title_en=f"Vulnerability {n} in the web interface", summary_en=f"Summary of issue {n}.",
            description_en="A description. " * 20, workarounds_en="Block port 80.",
            cvss31_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", cvss31_base=9.8, score=9.8,
            severity="critical", published_at=now - dt.timedelta(hours=n + 1),
            revised_at=now - dt.timedelta(hours=n + 1),
        ))
    Advisory.objects.bulk_create(batch, batch_size=2000)
    rows, revs = [], []
    for aid, number in Advisory.objects.filter(advisory_id__startswith=f"{PREFIX}BN-SA-").values_list("id", "number"):
        k = number % 100
        rows.append(
            AffectedProduct(advisory_id=aid, product=products[k], introduced=releases[k][1], fixed=releases[k][3])
        )
        revs.append(Revision(advisory_id=aid, number=1, date=now, summary_en="Initial publication."))
    AffectedProduct.objects.bulk_create(rows, batch_size=5000)
    Revision.objects.bulk_create(revs, batch_size=5000)
print("SEEDED")
"""

# Run inside the benchmark's Django: the manifest of a full export of the site as it is now, written without
# rendering the pages (a full export at 10,000 advisories takes a good part of an hour on a loaded machine). An
# incremental export trusts the manifest for every page it does not render, so its cost is measured as it is.
MANIFEST = r"""
import math, sys
from pathlib import Path
import django
django.setup()
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override
from psirt.advisories import queries
from psirt.catalog.models import Product, ProductLine
from psirt.ops.export import changes, files, links
from psirt.pages import generation

urls = changes.entry_urls()
variants = [{}] + [{"line": s} for s in ProductLine.objects.values_list("slug", flat=True)]
variants += [{"year": str(y)} for y in queries.filter_choices()["years"]]
for lang in changes.languages():
    with override(lang):
        listing = reverse("advisories:list")
        urls += [reverse("catalog:product", args=[s]) for s in Product.objects.values_list("slug", flat=True)]
    for params in variants:
        count = queries.filtered_advisories(queries.ListFilters.from_params(params)).count()
        prefix = "".join(f"{k}={v}&" for k, v in params.items())
        urls += [f"{listing}?{prefix}page={p}" for p in range(1, max(1, math.ceil(count / queries.PER_PAGE)) + 1)]
known = set()
for url in urls:
    try:
        known.add(links.target(url).file)
    except links.UnsafeUrl:
        pass
manifest = files.Manifest(exported_at=timezone.now(), generation=generation.current()[1], files=known)
(Path(sys.argv[1]) / files.MANIFEST_NAME).write_bytes(manifest.dumps())
print(len(known))
"""

# Run inside the benchmark's Django: one more advisory published now, or an old one revised now.
CHANGE = r"""
import sys
import django
django.setup()
from django.utils import timezone
from psirt.advisories.models import Advisory, AffectedProduct, Revision
kind = sys.argv[1]
now = timezone.now()
if kind == "new":
    old = Advisory.objects.get(advisory_id="BN-SA-2026-00000")
    new = Advisory.objects.create(
        advisory_id="BN-SA-2026-99999", year=2026, number=99999, state="published", title_en="A new one",
        summary_en="New.", cvss31_vector=old.cvss31_vector, cvss31_base=9.8, score=9.8, severity="critical",
        published_at=now, revised_at=now,
    )
    row = old.affected.first()
    AffectedProduct.objects.create(advisory=new, product=row.product, introduced=row.introduced, fixed=row.fixed)
    Revision.objects.create(advisory=new, number=1, date=now, summary_en="Initial publication.")
else:
    advisory = Advisory.objects.get(advisory_id="BN-SA-2023-05003")
    advisory.summary_en = "Revised summary."
    advisory.save()
print("CHANGED")
"""


def _psirt(env: dict[str, str], *args: str, capture: bool = True) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "psirt.cli", *args], env=env, check=True, capture_output=capture, text=True, cwd=ROOT
    )
    return done.stdout if capture else ""


def _django(env: dict[str, str], script: str, *args: str) -> None:
    subprocess.run([sys.executable, "-c", script, *args], env=env, check=True, cwd=ROOT, capture_output=True)


def _wait_ok(port: int, path: str, timeout: float = 120) -> None:
    """Until `path` answers 200 (gunicorn listens before its workers have booted)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path, headers={"Host": "127.0.0.1"})
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{path} did not answer 200 on port {port}")
        time.sleep(0.2)


def _line(name: str, result: WrkResult, reference: WrkResult | None = None) -> None:
    ratio = f"  ×{result.requests_per_second / reference.requests_per_second:.2f}" if reference else ""
    print(
        f"  {name:<34} {result.requests_per_second:9.0f} req/s  p50 {result.p50_ms:7.2f} ms  "
        f"p99 {result.p99_ms:7.2f} ms  errors {result.errors}{ratio}",
        flush=True,
    )


def _recycled(server_log: Path) -> int:
    """How many workers gunicorn has recycled so far (`--max-requests`), from its log."""
    return server_log.read_text(errors="replace").count("Autorestarting worker")


def _export_line(output: str) -> str:
    match = re.search(r"(\d+) files rendered, (\d+) written, (\d+) removed, in ([0-9.]+) s", output)
    return "?" if match is None else f"{match.group(1)} rendered, {match.group(2)} written in {match.group(4)} s"


def _scale(env: dict[str, str], site: Path, advisories: int) -> dict[str, float]:
    """Incremental exports at `advisories` after a new advisory and after a revision, against the manifest of a
    full export (see MANIFEST)."""
    print(f"  -- at {advisories} advisories", flush=True)
    _django(env, SEED, str(advisories - SITE_ADVISORIES), "")
    _django(env, MANIFEST, str(site))
    figures: dict[str, float] = {}
    for kind in ("new", "revision"):
        _django(env, CHANGE, kind)
        began = time.monotonic()
        out = _psirt(env, "export-site", str(site), "--changed-since", "last")
        seconds = time.monotonic() - began
        print(f"  incremental after a {kind}: {_export_line(out)} ({seconds:.1f} s with start-up)", flush=True)
        figures[f"incremental_{kind}_s"] = seconds
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the advisory page only, 4 s per run")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per wrk run (default 10, quick 4)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes of the app")
    parser.add_argument("--advisories", type=int, default=0, help="also measure exports at this many advisories")
    args = parser.parse_args()
    seconds = args.seconds or (4.0 if args.quick else 10.0)
    load = os.getloadavg()
    print(
        f"static benchmark: wrk -t{args.threads} -c{args.connections} {seconds:.0f} s per run, app with "
        f"{args.workers} workers and its page cache; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        flush=True,
    )
    from cryptography.fernet import Fernet

    work = Path(tempfile.mkdtemp(prefix="psirt-bench-static-"))
    work.chmod(0o755)  # nginx started by root serves as "nobody"
    app_port, nginx_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PSIRT_", "DJANGO_"))},
        "PSIRT_DEV": "1",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "PSIRT_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PSIRT_AUDIT_KEYS": Fernet.generate_key().decode(),
        "PSIRT_VAR_DIR": str(work / "var"),
        "DATABASE_URL": f"sqlite:///{work}/bench.sqlite3",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PSIRT_BASE_URL": f"http://127.0.0.1:{app_port}",
        "PSIRT_APP_URL": APP_URL,
        "PSIRT_PUBLIC_PAGE_CACHE": "300",
        "PORT": str(app_port),
        "WEB_CONCURRENCY": str(args.workers),
        "DJANGO_SETTINGS_MODULE": "psirt.settings",
        "LOG_LEVEL": "WARNING",
    }
    site = work / "site"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        began = time.monotonic()
        _psirt(env, "migrate", "-v", "0")
        site_advisories = 30 if args.quick else SITE_ADVISORIES
        _django(env, SEED, str(site_advisories), "S")
        out = _psirt(env, "export-site", str(site))
        setup = time.monotonic() - began
        print(
            f"  site of {site_advisories} advisories exported: {_export_line(out)} (set-up {setup:.0f} s)", flush=True
        )
        advisory = sorted(p.name for p in (site / "en" / "advisories").iterdir() if p.is_dir() and p.name != "_q")[0]
        pages = {"advisory": f"/en/advisories/{advisory}/"}
        if not args.quick:
            pages["list"] = "/en/advisories/"
        # nginx's own rate: a file of the same size as each exported page, in the same folder.
        (site / "bench").mkdir()
        for name, path in pages.items():
            size = (site / path.strip("/") / "index.html").stat().st_size
            (site / "bench" / f"{name}.html").write_bytes(b"<!doctype html>\n" + b"x" * (size - 16))
        nginx_dir = work / "nginx"
        nginx_dir.mkdir()
        _django(env, NGINX_CONF, str(site), str(nginx_dir), str(nginx_port), APP_URL)
        conf = nginx_dir / "nginx.conf"
        nginx_cmd = [NGINX, "-p", str(nginx_dir), "-c", str(conf), "-e", str(nginx_dir / "error.log")]
        processes.append(subprocess.Popen([*nginx_cmd, "-g", "daemon off;"], stderr=subprocess.DEVNULL))
        server_log = work / "serve.log"  # gunicorn's own messages (the access log goes to stdout, dropped)
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "psirt.cli", "serve"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=server_log.open("wb"),
                start_new_session=True,
            )
        )
        wait_for(nginx_port)
        wait_for(app_port)
        results: dict[str, float] = {}
        for name, path in pages.items():
            run = {"threads": args.threads, "connections": args.connections, "seconds": seconds}
            host = {"Host": "127.0.0.1"}
            _wait_ok(app_port, path)
            _wait_ok(nginx_port, path)
            run_wrk(f"http://127.0.0.1:{app_port}{path}", threads=1, connections=1, seconds=1, headers=host)  # warm
            # nginx's own rate before and after the export's, averaged: the machine's load changes within a run.
            before = run_wrk(f"http://127.0.0.1:{nginx_port}/bench/{name}.html", **run, headers=host)  # type: ignore[arg-type]
            exported = run_wrk(f"http://127.0.0.1:{nginx_port}{path}", **run, headers=host)  # type: ignore[arg-type]
            after = run_wrk(f"http://127.0.0.1:{nginx_port}/bench/{name}.html", **run, headers=host)  # type: ignore[arg-type]
            recycled_before = _recycled(server_log)
            app = run_wrk(f"http://127.0.0.1:{app_port}{path}", **run, headers=host)  # type: ignore[arg-type]
            recycled = _recycled(server_log) - recycled_before
            trivial = WrkResult(
                requests_per_second=(before.requests_per_second + after.requests_per_second) / 2,
                p50_ms=(before.p50_ms + after.p50_ms) / 2,
                p75_ms=(before.p75_ms + after.p75_ms) / 2,
                p90_ms=(before.p90_ms + after.p90_ms) / 2,
                p99_ms=(before.p99_ms + after.p99_ms) / 2,
                requests=before.requests + after.requests,
                errors=before.errors + after.errors,
            )
            print(f"  {name} page {path}", flush=True)
            _line("nginx, trivial file of the same size", trivial)
            print(f"    (before {before.requests_per_second:.0f}, after {after.requests_per_second:.0f} req/s)")
            _line("nginx, exported page", exported, trivial)
            _line("app (psirt serve, page cache)", app)
            print(f"    (workers recycled by gunicorn's --max-requests during the app's run: {recycled})")
            if exported.errors or app.errors:
                raise SystemExit("a server answered with errors: the rates would not compare the same pages")
            results |= {
                f"{name}_static_rps": exported.requests_per_second,
                f"{name}_app_rps": app.requests_per_second,
                f"{name}_trivial_rps": trivial.requests_per_second,
                f"{name}_static_p99_ms": exported.p99_ms,
                f"{name}_app_p99_ms": app.p99_ms,
                f"{name}_app_recycled": recycled,
                f"{name}_static_over_app": exported.requests_per_second / max(app.requests_per_second, 1e-9),
                f"{name}_static_over_trivial": exported.requests_per_second / max(trivial.requests_per_second, 1e-9),
            }
        for proc in processes:
            proc.terminate()
            proc.wait(timeout=20)
        processes.clear()
        if args.advisories and not args.quick:
            results |= _scale(env, site, args.advisories)
        load = os.getloadavg()
        results["load1"] = load[0]
    finally:
        for proc in processes:
            proc.terminate()
            proc.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)
    print("RESULT " + " ".join(f"{key}={value:.2f}" for key, value in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
