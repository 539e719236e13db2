"""Intake benchmark: reports per second through POST /api/v1/reports, served as `psirt serve` serves it.

N client threads post reports (each with a 50 KB attachment, multipart) for 30 s (`--quick`: 6 s) and we
report accepted reports per second, p50/p99 latency, server CPU per request, and 201 answers against rows in
the database (must be equal: nothing lost); `psirt audit verify` must pass after the burst. The client is
Python threads, not wrk: every answer is checked.

The reference, in the same server and run, is a view of this benchmark's own URLconf that does the mandatory
work of a report and nothing else: parse the same multipart body (Django's parser), encrypt the same text
fields and the file with the same keys and psirt's own functions (`psirt.lib.crypto.seal`, the file store),
write the file with fsync, and insert as many rows as psirt inserts per report (counted in the warm-up) in one
transaction. First on SQLite, then on PostgreSQL when 127.0.0.1:5432 answers (database `psirt_bench`, created
and dropped here). The acknowledgment mails go to a real SMTP server through one `psirt worker`, and the
result says how many went over each SMTP connection (`mails_per_smtp_connection`: the worker sends the batch
it claims over one connection, so a burst is not one connection per mail).

After the load, each backend measures both views again in one process, without server or client: CPU per
report, how much of it goes to the database (the statements and COMMIT in the driver, and on PostgreSQL the
database server's own process), and from these `statement_ceiling`, the ratio psirt would reach if nothing but
its database work cost more than the reference's — the bound that psirt's statements alone put on the ratio.

`--server sync` runs gunicorn's plain sync worker instead of psirt's BufferingWorker, and `--no-recode` drops
the multipart header middleware: the two runs that say what each costs.

Targets (2-core machine): ≥ 100 reports/s, p99 < 500 ms, ratio to the reference ≥ 0.7, zero lost.
The last line is `RESULT key=value …`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: `bench` must be importable

from bench._harness import (
    free_port,
    latency_ms,
    pg_available,
    pg_create,
    pg_database,
    pg_drop,
    run_threads,
    start_gunicorn,
    wait_for,
)

ROOT = Path(__file__).resolve().parent.parent
# Python puts this script's folder first on sys.path; the other benchmarks in it (e.g. bench/public.py) would
# shadow installed packages of the same name (aiosmtpd imports `public`).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
PG_DB = pg_database("psirt_bench")
SINK_COUNT = [0]  # mails received by the benchmark's SMTP server
SINK_SESSIONS: set[tuple[str, int]] = set()  # the client ends of the SMTP connections that delivered them
WARMUP_REPORTS = 8

BENCH_SETTINGS = """
import os

from psirt.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench_urls"
# Every request comes from 127.0.0.1: limits high enough not to refuse the benchmark, but still counted
# (the counter writes are part of what is measured).
PSIRT_INTAKE_RATES = {"report_ip": (10**9, 3600), "report_email": (10**9, 3600)}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
if os.environ.get("BENCH_NO_RECODE"):
    MIDDLEWARE = [m for m in MIDDLEWARE if m != "psirt.lib.multipart.MultipartHeaderMiddleware"]
"""

BENCH_URLS = '''
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from psirt.intake.api import TEXT_FIELDS
from psirt.lib.crypto import file_store, seal
from psirt.urls import urlpatterns as psirt_urlpatterns


@csrf_exempt
def reference(request):
    """The mandatory work of a report and nothing else: parse the multipart body (Django's parser, files in
    memory), encrypt the text fields and each file's name and content with psirt's keys and functions, write
    each file with fsync (the store's save), and insert `rows` rows in one transaction."""
    request.upload_handlers = [MemoryFileUploadHandler(request)]
    rows = max(1, int(request.GET.get("rows", "1")))
    texts = [seal(request.POST.get(name) or "") for name in TEXT_FIELDS]
    stored = [(seal(f.name), file_store().save(f.chunks(), prefix="r")) for f in request.FILES.getlist("attachments")]
    values = ["\\n".join(getattr(t, "token", "") for t in texts)]
    values += [getattr(name, "token", "") + " " + item.name for name, item in stored]
    values += [""] * max(0, rows - len(values))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO bench_reference (at, payload) VALUES (CURRENT_TIMESTAMP, %s)", [[v] for v in values]
        )
    return JsonResponse({"tracking_id": stored[0][1].name if stored else "none"}, status=201)


urlpatterns = [path("bench/reference", reference), *psirt_urlpatterns]
'''

# Rows counted per table (the benchmark's own table aside) to find how many rows psirt inserts per report.
COUNT_SQL = """
import django
django.setup()
from django.db import connection
with connection.cursor() as c:
    c.execute("SELECT COUNT(*) FROM intake_report")
    print(c.fetchone()[0])
"""

COUNT_ROWS = """
import json, django
django.setup()
from django.db import connection
with connection.cursor() as c:
    counts = {}
    for table in connection.introspection.table_names(c):
        c.execute('SELECT COUNT(*) FROM "%s"' % table)
        counts[table] = c.fetchone()[0]
print(json.dumps(counts))
"""

# The database's share of a report, measured in one process through Django's WSGI handler (no server, no
# client, one thread), for psirt's intake and for the reference: the thread's CPU time inside the database
# calls (each statement through the driver, and COMMIT) and, on PostgreSQL, the CPU time of the database
# server's process that serves the connection. It gives the ratio psirt could reach at best with the statements
# it runs for each report if none of its own Python code cost anything (`statement_ceiling`): the reference's
# whole cost over the reference's cost plus psirt's extra database work. Rounds alternate between the two; the
# medians are printed as JSON.
STATEMENT_FLOOR = """
import io, json, os, statistics, sys, time, uuid
import django
django.setup()
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from bench.intake import multipart_body

handler = WSGIHandler()
attachment = os.urandom(50 * 1024)
inside = [0.0]

def timed(execute, sql, params, many, context):
    started = time.thread_time()
    try:
        return execute(sql, params, many, context)
    finally:
        inside[0] += time.thread_time() - started

plain_commit = BaseDatabaseWrapper._commit

def timed_commit(self):
    started = time.thread_time()
    try:
        return plain_commit(self)
    finally:
        inside[0] += time.thread_time() - started

BaseDatabaseWrapper._commit = timed_commit

def server_cpu():
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def post(path, n, prefix):
    body, ctype = multipart_body(n, attachment, prefix)
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": ctype,
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
        "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.errors": sys.stderr,
    }
    status = []
    answer = handler(environ, lambda s, headers, exc_info=None: status.append(s))
    b"".join(answer)
    answer.close()
    if not status[0].startswith("201"):
        raise SystemExit(f"{path}: {status[0]}")

def measure(path, count):
    prefix = uuid.uuid4().hex[:8]
    inside[0] = 0.0
    server = server_cpu()
    started = time.thread_time()
    with connection.execute_wrapper(timed):
        for n in range(count):
            post(path, n, prefix)
    total = time.thread_time() - started
    server = server_cpu() - server
    return {"cpu": (total + server) * 1000 / count, "db": (inside[0] + server) * 1000 / count}

paths = {"intake": "/api/v1/reports", "ref": "/bench/reference?rows=" + sys.argv[1]}
count = int(sys.argv[2])
for path in paths.values():
    measure(path, 10)
rounds = {name: [] for name in paths}
for _ in range(3):
    for name, path in paths.items():
        rounds[name].append(measure(path, count))
medians = {f"{name}_{key}": statistics.median(r[key] for r in runs) for name, runs in rounds.items() for key in runs[0]}
print(json.dumps(medians))
"""


def multipart_body(n: int, attachment: bytes, prefix: str = "") -> tuple[bytes, str]:
    boundary = "bench" + secrets.token_hex(8)
    fields = {
        "reporter_name": f"Bench Reporter {n}",
        "reporter_email": f"bench{prefix}{n}@bench.test",
        "organization": "Bench Lab",
        "product": "Bench camera",
        "version": "V1.0.0",
        "description": "Stack overflow in the RTSP handler when the URL is longer than 4096 bytes. " * 5,
        "technical_details": "Steps: 1. connect 2. send DESCRIBE with a long URL 3. observe crash. " * 10,
        "accept_guidelines": "true",
    }
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="capture-{n}.pcap"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + attachment
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Load:
    """N threads posting as fast as the server answers, for `seconds` (or `run_count`: a number of posts)."""

    def __init__(self, port: int, path: str, clients: int, seconds: float) -> None:
        self.port, self.path, self.clients, self.seconds = port, path, clients, seconds
        self.latencies: list[float] = []
        self.status: dict[int, int] = {}
        self.errors = 0
        self.tracking_ids: list[str] = []
        self._lock = threading.Lock()
        self._limit: int | None = None
        self.timeout = 30.0

    def run_count(self, count: int) -> None:
        """Post `count` reports; every one must be accepted (gunicorn's workers may still be loading the app:
        their first answer may take long on a busy machine)."""
        self._limit, self.seconds, self.timeout = count, 600, 300
        self.run()
        if self.status.get(201, 0) != count:
            raise SystemExit(f"{self.path}: {count} posts answered {self.status}, {self.errors} errors")

    def run(self) -> float:
        attachment = os.urandom(50 * 1024)
        stop_at = time.monotonic() + self.seconds
        counter = iter(range(self._limit or 10**9))
        prefix = uuid.uuid4().hex[:6]  # e-mail addresses differ between loads

        def client() -> None:
            while time.monotonic() < stop_at:
                with self._lock:
                    n = next(counter, None)
                if n is None:
                    return
                body, ctype = multipart_body(n, attachment, prefix)
                started = time.perf_counter()
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                    conn.request("POST", self.path, body=body, headers={"Content-Type": ctype, "Host": "127.0.0.1"})
                    response = conn.getresponse()
                    data = response.read()
                    conn.close()
                except OSError as exc:
                    with self._lock:
                        self.errors += 1
                        if self.errors <= 3:
                            print(f"    {self.path}: {type(exc).__name__}: {exc}", flush=True)
                    continue
                elapsed = time.perf_counter() - started
                with self._lock:
                    self.latencies.append(elapsed)
                    self.status[response.status] = self.status.get(response.status, 0) + 1
                    if response.status == 201 and data:
                        self.tracking_ids.append(json.loads(data)["tracking_id"])

        return run_threads(lambda _: client(), self.clients)

    def summary(self, elapsed: float) -> dict[str, float]:
        ok = self.status.get(201, 0)
        return {
            "rps": ok / elapsed,
            **latency_ms(self.latencies),
            "ok": ok,
            "other": sum(v for k, v in self.status.items() if k != 201) + self.errors,
        }


def start_smtp_sink() -> tuple[object, int]:
    """A real SMTP server swallowing the acknowledgment mails (the mail is part of what is measured)."""
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            SINK_COUNT[0] += 1
            SINK_SESSIONS.add(tuple(session.peer))  # type: ignore[attr-defined]
            return "250 OK"

    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port


def session_cpu(session: int) -> float:
    """CPU seconds (user + system) used so far by every live process of a session (gunicorn's master and
    workers, or the mail worker): the numbers that say where a report's cost goes."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # field 6 of stat: the session id
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def python_in(env: dict[str, str], work: Path, code: str, *args: str) -> str:
    """Run `code` (with `args` as its sys.argv[1:]) in a fresh interpreter with the benchmark's settings; the last
    line of its standard output."""
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, check=True, cwd=work, capture_output=True)
    return done.stdout.decode().strip().splitlines()[-1] if done.stdout.strip() else ""


def row_counts(env: dict[str, str], work: Path) -> dict[str, int]:
    counts: dict[str, int] = json.loads(python_in(env, work, COUNT_ROWS))
    counts.pop("bench_reference", None)
    return counts


def server_options(kind: str) -> list[str]:
    """gunicorn options: `psirt serve`'s (its worker model, the application loaded once in the master and warmed
    there, its hooks) or gunicorn's plain sync worker."""
    if kind == "sync":
        return []
    from psirt.cli import SERVER_OPTIONS

    return list(SERVER_OPTIONS)


def run_backend(label: str, database_url: str, args: argparse.Namespace, smtp_port: int) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix=f"psirt-bench-{label}-"))
    (work / "bench_settings.py").write_text(BENCH_SETTINGS)
    (work / "bench_urls.py").write_text(BENCH_URLS)
    from cryptography.fernet import Fernet

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PSIRT_", "DJANGO_"))},
        "PSIRT_DEV": "1",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "PSIRT_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PSIRT_AUDIT_KEYS": Fernet.generate_key().decode(),
        "PSIRT_VAR_DIR": str(work / "var"),
        "DATABASE_URL": database_url,
        "EMAIL_URL": os.environ.get("BENCH_EMAIL_URL") or f"smtp://127.0.0.1:{smtp_port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PSIRT_BASE_URL": "http://127.0.0.1:8000",
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": f"{work}{os.pathsep}{ROOT}",
        "LOG_LEVEL": "WARNING",
    }
    if args.no_recode:
        env["BENCH_NO_RECODE"] = "1"
    python = sys.executable
    subprocess.run([python, "-m", "psirt.cli", "migrate", "-v", "0"], env=env, check=True, cwd=work)
    create = (
        "CREATE TABLE bench_reference (id INTEGER PRIMARY KEY AUTOINCREMENT, at TIMESTAMP, payload TEXT)"
        if database_url.startswith("sqlite")
        else "CREATE TABLE bench_reference (id BIGSERIAL PRIMARY KEY, at TIMESTAMP, payload TEXT)"
    )
    python_in(
        env,
        work,
        f"import django; django.setup(); from django.db import connection; connection.cursor().execute({create!r})",
    )
    # One background worker sends the acknowledgment mails from the outbox, as `psirt up` runs it: its CPU
    # is part of the run, and the mails it delivered are counted at the end.
    worker = subprocess.Popen(
        [python, "-m", "psirt.cli", "worker"], env=env, cwd=work, start_new_session=True, stdout=subprocess.DEVNULL
    )
    port = free_port()
    server = start_gunicorn(python, port, args.workers, env, work, server_options(args.server))
    sink_before = SINK_COUNT[0]
    SINK_SESSIONS.clear()
    try:
        wait_for(port)
        seconds = args.seconds
        # Warm-up (imports, connections), which also tells how many rows psirt inserts per report: the
        # reference inserts as many.
        before = row_counts(env, work)
        warm = Load(port, "/api/v1/reports", 2, 0)
        warm.run_count(WARMUP_REPORTS)
        after = row_counts(env, work)
        inserted = {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t, 0)}
        rows_per_report = round(sum(inserted.values()) / WARMUP_REPORTS)
        print(
            f"  {label:8} psirt inserts {rows_per_report} rows per report ("
            + ", ".join(f"{t} {n / WARMUP_REPORTS:g}" for t, n in sorted(inserted.items()))
            + ")",
            flush=True,
        )
        Load(port, f"/bench/reference?rows={rows_per_report}", 2, 0).run_count(WARMUP_REPORTS)
        results: dict[str, float] = {"rows_per_report": rows_per_report}
        worker_cpu_start = 0.0
        for name, path in (("ref", f"/bench/reference?rows={rows_per_report}"), ("intake", "/api/v1/reports")):
            load = Load(port, path, args.clients, seconds)
            cpu_before = session_cpu(server.pid), session_cpu(worker.pid)
            elapsed = load.run()
            summary = load.summary(elapsed)
            done = max(1, len(load.latencies))
            summary["server_cpu_ms"] = (session_cpu(server.pid) - cpu_before[0]) * 1000 / done
            if name == "intake":
                worker_cpu_start = cpu_before[1]
            for key, value in summary.items():
                results[f"{name}_{key}"] = value
            if name == "intake":
                results["intake_unique_ids"] = len(set(load.tracking_ids))
            print(
                f"  {label:8} {name:7} {summary['rps']:8.1f} req/s  p50 {summary['p50_ms']:6.1f} ms  "
                f"p99 {summary['p99_ms']:6.1f} ms  201={int(summary['ok'])}  other={int(summary['other'])}  "
                f"server CPU {summary['server_cpu_ms']:.1f} ms/request",
                flush=True,
            )
        rows = int(python_in(env, work, COUNT_SQL))
        # The audit chain of the burst (one entry per report, appended by concurrent writers) verifies.
        verify = subprocess.run(
            [python, "-m", "psirt.cli", "audit", "verify"], env=env, cwd=work, capture_output=True, text=True
        )
        results["audit_verified"] = 1 if verify.returncode == 0 else 0
        if verify.returncode:
            print(f"  {label:8} audit verify FAILED: {(verify.stdout + verify.stderr).strip()[-300:]}", flush=True)
        # Let the worker drain the outbox (up to 60 s), then count what the SMTP server received.
        deadline = time.monotonic() + 60
        while SINK_COUNT[0] - sink_before < rows and time.monotonic() < deadline:
            time.sleep(0.2)
        results["mails"] = SINK_COUNT[0] - sink_before
        # One SMTP connection per batch the worker claims, not one per mail.
        results["mails_per_smtp_connection"] = results["mails"] / max(1, len(SINK_SESSIONS))
        # The mail worker's CPU from the start of the intake phase until the outbox is drained, per mail.
        results["worker_cpu_ms"] = (session_cpu(worker.pid) - worker_cpu_start) * 1000 / max(1, results["mails"])
    finally:
        for proc in (server, worker):
            os.killpg(proc.pid, signal.SIGTERM)
        server.wait(timeout=30)
        worker.wait(timeout=30)
    files = len(list((work / "var" / "files").rglob("*-a.enc")))  # the reference's files end in -r.enc
    warmup = rows - int(results["intake_ok"])  # warm-up reports are stored too
    results["rows"] = rows
    results["lost"] = int(results["intake_ok"]) + WARMUP_REPORTS - rows
    results["files_missing"] = rows - files
    results["mails_missing"] = rows - int(results["mails"])
    results["duplicate_ids"] = int(results["intake_ok"] - results["intake_unique_ids"])
    results["ratio"] = results["intake_rps"] / results["ref_rps"] if results["ref_rps"] else 0.0
    print(
        f"  {label:8} rows in database {rows} (incl. {warmup} warm-up), files {files}, lost {results['lost']}, "
        f"acknowledgment mails delivered {int(results['mails'])} over {len(SINK_SESSIONS)} SMTP connections, "
        f"tracking IDs unique "
        f"{'yes' if results['intake_unique_ids'] == results['intake_ok'] else 'NO'}, "
        f"mail worker CPU {results['worker_cpu_ms']:.1f} ms/mail, audit chain "
        f"{'verified' if results['audit_verified'] else 'BROKEN'}, ratio to reference {results['ratio']:.2f}",
        flush=True,
    )
    # After every count above: the reports posted here are not part of the load's figures.
    floor = json.loads(python_in(env, work, STATEMENT_FLOOR, str(rows_per_report), "60" if args.quick else "200"))
    results["inproc_ratio"] = floor["ref_cpu"] / floor["intake_cpu"]
    results["statement_ceiling"] = floor["ref_cpu"] / (floor["ref_cpu"] + floor["intake_db"] - floor["ref_db"])
    print(
        f"  {label:8} in one process, CPU per report (of it in the database): psirt {floor['intake_cpu']:.2f} "
        f"({floor['intake_db']:.2f}) ms, reference {floor['ref_cpu']:.2f} ({floor['ref_db']:.2f}) ms; ratio "
        f"{results['inproc_ratio']:.2f}, at best {results['statement_ceiling']:.2f} with psirt's statements",
        flush=True,
    )
    shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 s per phase instead of 30 s")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--server",
        choices=("buffering", "sync"),
        default="buffering",
        help="psirt's BufferingWorker or gunicorn's sync",
    )
    parser.add_argument("--no-recode", action="store_true", help="without the multipart header middleware")
    args = parser.parse_args()
    args.seconds = args.seconds or (6.0 if args.quick else 30.0)
    print(
        f"intake benchmark: {args.clients} clients, {args.workers} gunicorn workers ({args.server}"
        f"{', no multipart header middleware' if args.no_recode else ''}), {args.seconds:.0f} s per phase, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    controller, smtp_port = start_smtp_sink()
    results: dict[str, float] = {}
    try:
        if not args.no_sqlite:
            with tempfile.TemporaryDirectory(prefix="psirt-bench-db-") as tmp:
                sqlite = run_backend("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args, smtp_port)
            results.update({f"sqlite_{k}": v for k, v in sqlite.items()})
        if not args.no_postgres and pg_available():
            pg_create(PG_DB)
            try:
                pg = run_backend("postgres", f"postgres://postgres@127.0.0.1:5432/{PG_DB}", args, smtp_port)
            finally:
                pg_drop(PG_DB)
            results.update({f"pg_{k}": v for k, v in pg.items()})
        else:
            print("  postgres: skipped (nothing listens on 127.0.0.1:5432)")
    finally:
        controller.stop()  # type: ignore[attr-defined]
    keys = [
        "intake_rps",
        "intake_p50_ms",
        "intake_p99_ms",
        "intake_server_cpu_ms",
        "worker_cpu_ms",
        "mails_per_smtp_connection",
        "ref_rps",
        "ref_server_cpu_ms",
        "ratio",
        "inproc_ratio",
        "statement_ceiling",
        "lost",
        "files_missing",
        "mails_missing",
        "audit_verified",
        "rows_per_report",
    ]
    fields = []
    for backend in ("sqlite", "pg"):
        for key in keys:
            name = f"{backend}_{key}"
            if name in results:
                value = results[name]
                fields.append(f"{name}={value:.2f}" if isinstance(value, float) else f"{name}={value}")
    ok = all(
        results.get(f"{b}_{k}", 0) == 0
        for b in ("sqlite", "pg")
        for k in ("lost", "files_missing", "mails_missing", "duplicate_ids")
    ) and all(results.get(f"{b}_audit_verified", 1) == 1 for b in ("sqlite", "pg"))
    met = ok and all(
        results[f"{b}_intake_rps"] >= 100 and results[f"{b}_intake_p99_ms"] < 500 and results[f"{b}_ratio"] >= 0.7
        for b in ("sqlite", "pg")
        if f"{b}_intake_rps" in results
    )
    print(
        "RESULT "
        + " ".join(fields)
        + f" nothing_lost={'yes' if ok else 'NO'} targets={'met' if met else 'MISSED'} load={os.getloadavg()[0]:.2f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
