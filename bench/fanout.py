"""Fan-out benchmark: one advisory published to N confirmed subscribers (default 100,000).

Measures, on SQLite (file, WAL) with `psirt worker` processes and a local aiosmtpd server:
- `outbox_s`: the time `notify_advisory` takes to write every outbox row (in one transaction);
- the time until every mail reached the SMTP server, with 1 and then 2 workers (a new advisory each run);
- the delivery rate of a plain `smtplib` loop sending the same number of messages of the same size to the
  same server over one connection, in the same run (the reference).

Targets: outbox filled in < 30 s; delivery rate ≥ 0.5 × the plain loop; the server received exactly N
messages per run, no duplicates. `--quick` uses 5,000 subscribers. The last line is `RESULT key=value …`.
"""

from __future__ import annotations

import argparse
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
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: `bench` must be importable

from bench._harness import free_port

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


def run_workers(workers: int, sink: Sink, n: int, env: dict[str, str], timeout: float) -> float:
    command = [sys.executable, "-m", "psirt.cli", "worker", "--interval", "0.2", "--no-startup-delay", "-v", "0"]
    start = time.perf_counter()
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)
    ]
    try:
        while sink.count < n and time.perf_counter() - start < timeout:
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
    parser.add_argument("--quick", action="store_true", help="5,000 subscribers instead of 100,000")
    parser.add_argument("--subscribers", type=int, default=None)
    args = parser.parse_args()
    n = args.subscribers or (5000 if args.quick else 100_000)

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
            "DATABASE_URL": "",
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
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
        print(f"created {n} subscribers in {time.perf_counter() - started:.1f} s", flush=True)
        timeout = max(120.0, n / 50)
        results: dict[str, float] = {}
        duplicates = 0
        delivered_all = True
        for number, workers in ((1, 1), (2, 2)):
            sink.reset()
            outbox_s, rows = publish(number)
            from django.db import connections

            connections.close_all()
            elapsed = run_workers(workers, sink, n, env, timeout)
            dup = sum(c - 1 for c in sink.rcpts.values() if c > 1)
            duplicates += dup
            delivered_all = delivered_all and sink.count == n and len(sink.rcpts) == n
            results[f"outbox_s_{workers}w"] = outbox_s
            results[f"deliver_s_{workers}w"] = elapsed
            results[f"rate_{workers}w"] = sink.count / elapsed
            print(
                f"{workers} worker(s): outbox {rows} rows in {outbox_s:.1f} s; {sink.count} mails in {elapsed:.1f} s "
                f"({sink.count / elapsed:.0f}/s), duplicates {dup}",
                flush=True,
            )
        size = sink.sizes[0] if sink.sizes else 2000
        sink.reset()
        plain_s = plain_loop(smtp_port, n, size)
        plain_rate = n / plain_s
        print(f"plain smtplib loop: {n} mails in {plain_s:.1f} s ({plain_rate:.0f}/s)", flush=True)
        best = max(results["rate_1w"], results["rate_2w"])
        ratio = best / plain_rate
        outbox_s = max(results["outbox_s_1w"], results["outbox_s_2w"])
        ok = outbox_s < 30 and ratio >= 0.5 and duplicates == 0 and delivered_all
        print(
            "RESULT "
            f"subscribers={n} delivered={'all' if delivered_all else 'NO'} duplicates={duplicates} "
            f"outbox_s={outbox_s:.2f} deliver_1w_s={results['deliver_s_1w']:.1f} "
            f"deliver_2w_s={results['deliver_s_2w']:.1f} rate_1w={results['rate_1w']:.0f} "
            f"rate_2w={results['rate_2w']:.0f} plain_rate={plain_rate:.0f} rate_ratio={ratio:.2f} "
            f"targets={'met' if ok else 'MISSED'}"
        )
        return 0
    finally:
        controller.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
