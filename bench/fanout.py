"""Fan-out benchmark: one advisory published to N confirmed subscribers (default 100,000) and W webhooks
(default 1,000).

Measures, on SQLite (file, WAL; `--database postgresql` for a PostgreSQL database on 127.0.0.1:5432) with
`psirt worker` processes, a local aiosmtpd server and a local webhook receiver (plain HTTP,
PSIRT_WEBHOOK_ALLOW_PRIVATE=1):
- `outbox_s`: the time `notify_advisory` takes to write every outbox row (in one transaction);
- the time until every mail reached the SMTP server, with 1 and then 2 workers (a new advisory each run);
- the webhook rate: webhooks received per second between the first and the last of a run;
- the delivery rate of a plain `smtplib` loop sending the same number of messages of the same size to the
  same server over one connection, in the same run (the reference);
- a third run with 2 workers where one is killed with SIGKILL half-way: the survivor sends the rest, the
  dead worker's claimed rows are released by the sweep (run with its clock moved past the stale-claim time
  instead of waiting ten minutes, once the survivor has nothing claimed), and every subscriber must have
  exactly one mail.

Targets: outbox filled in < 10 s; mail rate with 2 workers ≥ 1.0 × the plain loop; webhooks ≥ 200/s; every
subscriber and webhook exactly once in every run, the kill included. `--quick` uses 5,000 subscribers and 100
webhooks. The last line is `RESULT key=value …`.
"""

from __future__ import annotations

import argparse
import http.server
import os
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: `bench` must be importable

from bench._harness import free_port, pg_available, pg_create, pg_database, pg_drop

ROOT = Path(__file__).resolve().parent.parent
# This script's folder would shadow installed packages named like the other benchmarks (aiosmtpd imports `public`).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))


class Sink:
    def __init__(self) -> None:
        self.count = 0
        self.rcpts: Counter[str] = Counter()
        self.sizes: list[int] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self.lock:
            self.count += 1
            for rcpt in envelope.rcpt_tos:  # type: ignore[attr-defined]
                self.rcpts[rcpt] += 1
            if len(self.sizes) < 5:
                self.sizes.append(len(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"

    def reset(self) -> None:
        with self.lock:
            self.count = 0
            self.rcpts = Counter()


class Receiver:
    """A local webhook receiver: counts deliveries by their X-PSIRT-Delivery id, and when they arrived."""

    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        self.first = self.last = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            # HTTP/1.1, as any real receiver speaks: a client may keep its connection open between deliveries.
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.perf_counter()
                with receiver.lock:
                    receiver.ids[self.headers.get("X-PSIRT-Delivery", "")] += 1
                    receiver.first = receiver.first or now
                    receiver.last = now
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            self.ids = Counter()
            self.first = self.last = 0.0

    @property
    def count(self) -> int:
        return sum(self.ids.values())

    def rate(self) -> float:
        return self.count / (self.last - self.first) if self.last > self.first else 0.0


def create_webhooks(n: int, port: int) -> None:
    from psirt.notify.models import Webhook
    from psirt.notify.services.webhooks import new_secret

    Webhook.objects.bulk_create(
        Webhook(name=f"hook {i}", url=f"http://127.0.0.1:{port}/hook/{i}", secret=new_secret(), all_products=True)
        for i in range(n)
    )


def create_subscribers(n: int) -> None:
    from django.utils import timezone

    from psirt.catalog.models import Product, ProductLine
    from psirt.notify.models import Subscription
    from psirt.notify.services import email_hash

    line = ProductLine.objects.create(slug="cameras", name_en="Cameras")
    Product.objects.create(line=line, slug="cam-1", name="Cam 1")
    now = timezone.now()
    batch = []
    for i in range(n):
        address = f"s{i}@bench.test"
        batch.append(Subscription(email=address, email_hash=email_hash(address), confirmed_at=now, all_products=True))
        if len(batch) == 5000:
            Subscription.objects.bulk_create(batch)
            batch = []
    if batch:
        Subscription.objects.bulk_create(batch)


def publish(number: int) -> tuple[float, int]:
    from django.db import transaction

    from psirt.notify.services import AdvisoryNotice, notify_advisory

    notice = AdvisoryNotice(
        id=f"VT-SA-2026-{number:03d}",
        title_en="Buffer overflow in the web server",
        title_zh="网页服务器缓冲区溢出",
        summary_en="An attacker on the network can run code. Update the firmware.",
        severity="High",
        product_slugs=("cam-1",),
        product_line_slugs=("cameras",),
        url=f"https://psirt.test/en/advisories/VT-SA-2026-{number:03d}/",
        csaf_url=f"https://psirt.test/advisories/VT-SA-2026-{number:03d}/csaf.json",
    )
    start = time.perf_counter()
    with transaction.atomic():
        count = notify_advisory(advisory=notice, revision=1, significant=True, actor=None)
    return time.perf_counter() - start, count


def release_dead_claims(sink: Sink, n: int) -> None:
    """After a worker was killed: once the survivor has sent everything it could (nothing queued, nothing new
    arriving), the rows still `sending` are the dead worker's; the sweep releases them, with its clock moved
    past the stale-claim time, and the survivor sends them."""
    import datetime as dt

    from django.db import connections
    from django.utils import timezone

    from psirt.mail.models import OutboxMessage, OutboxStatus
    from psirt.mail.services import STALE_CLAIM, sweep

    seen: tuple[int, int] = (-1, -1)
    while sink.count < n:
        queued = OutboxMessage.objects.filter(status=OutboxStatus.QUEUED).count()
        now = (sink.count, OutboxMessage.objects.filter(status=OutboxStatus.SENDING).count())
        if queued == 0 and now == seen:
            break
        seen = now
        time.sleep(2.0)
    released = OutboxMessage.objects.filter(status=OutboxStatus.SENDING).count()
    sweep(now=timezone.now() + STALE_CLAIM + dt.timedelta(seconds=1))
    connections.close_all()
    print(f"  killed worker: {released} claimed rows released by the sweep", flush=True)


_SETTLED: dict[str, object] = {}


def settled(sink: Sink) -> bool:
    """After the kill: no row is left to send and the server has taken nothing new for five seconds (checked
    every two)."""
    from django.db import connections

    from psirt.mail.models import OutboxMessage, OutboxStatus

    now = time.perf_counter()
    if now - float(_SETTLED.get("at", 0.0)) < 2.0:  # type: ignore[arg-type]
        return False
    _SETTLED["at"] = now
    busy = OutboxMessage.objects.filter(status__in=[OutboxStatus.QUEUED, OutboxStatus.SENDING]).exists()
    connections.close_all()
    if busy or _SETTLED.get("count") != sink.count:
        _SETTLED.update(count=sink.count, since=now)
        return False
    return now - float(_SETTLED.get("since", now)) >= 5.0  # type: ignore[arg-type]


def run_workers(
    workers: int,
    sink: Sink,
    n: int,
    env: dict[str, str],
    timeout: float,
    *,
    done: Callable[[], bool],
    kill_at: int | None = None,
) -> float:
    command = [sys.executable, "-m", "psirt.cli", "worker", "--interval", "0.2", "--no-startup-delay", "-v", "0"]
    start = time.perf_counter()
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)
    ]
    killed = False
    try:
        while not done() and time.perf_counter() - start < timeout:
            if kill_at is not None and sink.count >= kill_at:
                procs[0].send_signal(signal.SIGKILL)
                procs[0].wait()
                kill_at = None
                release_dead_claims(sink, n)
                killed = True
            if killed and settled(sink):
                break  # every row is final and nothing more arrives: a mail lost in the kill never will
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    time.sleep(0.5)  # anything sent late would show up as a duplicate
    return elapsed


def plain_loop(port: int, n: int, size: int) -> float:
    body = ("x" * 76 + "\n") * max(1, size // 77)
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(n):
            msg = EmailMessage()
            msg["From"] = "psirt@bench.test"
            msg["To"] = f"p{i}@bench.test"
            msg["Subject"] = "Security advisory: VT-SA-2026-001 Buffer overflow in the web server"
            msg.set_content(body)
            smtp.send_message(msg)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 subscribers and 100 webhooks")
    parser.add_argument("--subscribers", type=int, default=None)
    parser.add_argument("--webhooks", type=int, default=None)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    database_url = ""
    pg_db = pg_database("psirt_bench_fanout")
    if args.database == "postgresql":
        if not pg_available():
            parser.error("no PostgreSQL server answers on 127.0.0.1:5432")
        pg_create(pg_db)
        database_url = f"postgres://postgres@127.0.0.1:5432/{pg_db}"
    n = args.subscribers or (5000 if args.quick else 100_000)
    hooks = args.webhooks if args.webhooks is not None else (100 if args.quick else 1000)
    receiver = Receiver()

    from aiosmtpd.controller import Controller

    sink = Sink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    tmp = Path(tempfile.mkdtemp(prefix="psirt-fanout-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}
    env.update(
        {
            "PSIRT_DEV": "1",
            "PSIRT_VAR_DIR": str(tmp / "var"),
            "DATABASE_URL": database_url,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            "PSIRT_WEBHOOK_ALLOW_PRIVATE": "1",
        }
    )
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "psirt.settings"
    try:
        subprocess.run(
            [sys.executable, "-m", "psirt.cli", "migrate", "-v", "0"], env=env, check=True, capture_output=True
        )
        import django

        django.setup()
        started = time.perf_counter()
        create_subscribers(n)
        create_webhooks(hooks, receiver.port)
        print(f"created {n} subscribers and {hooks} webhooks in {time.perf_counter() - started:.1f} s", flush=True)
        # Generous: on a loaded machine the kill run (with its wait for the survivor before the sweep) is slow.
        timeout = max(300.0, n / 50)
        results: dict[str, float] = {}
        duplicates = 0
        delivered_all = True
        for number, workers, kill in ((1, 1, False), (2, 2, False), (3, 2, True)):
            sink.reset()
            receiver.reset()
            outbox_s, rows = publish(number)
            from django.db import connections

            connections.close_all()
            elapsed = run_workers(
                workers,
                sink,
                n,
                env,
                timeout,
                done=lambda: sink.count >= n and receiver.count >= hooks,
                kill_at=n // 2 if kill else None,
            )
            dup = sum(c - 1 for c in sink.rcpts.values() if c > 1)
            # Webhooks are marked after the receiver's answer: a kill between the two sends one again (the
            # receiver recognises it by X-PSIRT-Delivery); counted apart from the mails.
            hook_dup = sum(c - 1 for c in receiver.ids.values() if c > 1)
            duplicates += dup + (0 if kill else hook_dup)
            results[f"hook_dup_{workers}w" + ("_kill" if kill else "")] = hook_dup
            complete = sink.count == n and len(sink.rcpts) == n and len(receiver.ids) == hooks and dup == 0
            delivered_all = delivered_all and complete
            if kill:
                results["kill_complete"] = float(complete)
                if not complete:
                    # Which: rows not sent yet when the run timed out, or rows marked sent that never arrived
                    # (a kill between the hand-over's commit and the end of data).
                    from psirt.mail.models import OutboxMessage

                    statuses = Counter(
                        OutboxMessage.objects.filter(reference=f"VT-SA-2026-{number:03d}", kind="subscriber")
                        .values_list("status", flat=True)
                        .iterator()
                    )
                    connections.close_all()
                    print(f"  kill run incomplete: rows by status {dict(statuses)}", flush=True)
            label = f"{workers}w" + ("_kill" if kill else "")
            results[f"outbox_s_{label}"] = outbox_s
            results[f"deliver_s_{label}"] = elapsed
            results[f"rate_{label}"] = sink.count / elapsed
            results[f"hook_rate_{label}"] = receiver.rate()
            print(
                f"{workers} worker(s){', one killed half-way' if kill else ''}: "
                f"outbox {rows} rows in {outbox_s:.1f} s; "
                f"{sink.count} mails in {elapsed:.1f} s ({sink.count / elapsed:.0f}/s), {receiver.count} webhooks "
                f"({receiver.rate():.0f}/s), duplicate mails {dup}, duplicate webhooks {hook_dup}",
                flush=True,
            )
        size = sink.sizes[0] if sink.sizes else 2000
        sink.reset()
        plain_s = plain_loop(smtp_port, n, size)
        plain_rate = n / plain_s
        print(f"plain smtplib loop: {n} mails in {plain_s:.1f} s ({plain_rate:.0f}/s)", flush=True)
        ratio = results["rate_2w"] / plain_rate
        hook_rate = min(results["hook_rate_1w"], results["hook_rate_2w"])
        outbox_s = max(results[k] for k in results if k.startswith("outbox_s_"))
        ok = outbox_s < 10 and ratio >= 1.0 and hook_rate >= 200 and duplicates == 0 and delivered_all
        print(
            "RESULT "
            f"database={args.database} "
            f"subscribers={n} webhooks={hooks} delivered={'all' if delivered_all else 'NO'} duplicates={duplicates} "
            f"outbox_s={outbox_s:.2f} deliver_1w_s={results['deliver_s_1w']:.1f} "
            f"deliver_2w_s={results['deliver_s_2w']:.1f} rate_1w={results['rate_1w']:.0f} "
            f"rate_2w={results['rate_2w']:.0f} plain_rate={plain_rate:.0f} rate_ratio_2w={ratio:.2f} "
            f"hook_rate={hook_rate:.0f} kill_hook_dup={results['hook_dup_2w_kill']:.0f} "
            f"kill_exactly_once={'yes' if results['kill_complete'] else 'NO'} "
            f"targets={'met' if ok else 'MISSED'} load={os.getloadavg()[0]:.2f}"
        )
        return 0
    finally:
        controller.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        if database_url:
            from django.db import connections

            connections.close_all()
            pg_drop(pg_db)


if __name__ == "__main__":
    sys.exit(main())
