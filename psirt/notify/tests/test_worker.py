"""`psirt worker` processes on a file SQLite database with the database task backend, mailing a real SMTP
server: a worker killed with SIGKILL mid fan-out loses nothing and duplicates nothing once another worker
takes over, also when it was killed waiting on a mail server that does not answer; a worker facing a mail server
that is down ends its drain quickly and charges no mail an attempt; SIGTERM lets the current task finish; the
worker logs what it does, without addresses."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from psirt.lib.variables import declared_int
from psirt.mail.tests.test_outage import RawServer, free_port
from psirt.tests.installation import installation_env

SMTP_SESSIONS = declared_int("PSIRT_SMTP_SESSIONS")  # the workers run with the default

pytestmark = pytest.mark.processes

SUBSCRIBERS = 12

SETUP = f"""
import os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "psirt.settings"
django.setup()
from django.db import transaction
from django.utils import timezone
from psirt.notify.models import Subscription
from psirt.notify.services import AdvisoryNotice, email_hash, notify_advisory
from psirt.tests.factories import make_line, make_product

make_product(make_line(name_en="Cameras"), "cam-1", "Cam 1")
for i in range({SUBSCRIBERS}):
    address = f"s{{i}}@example.test"
    Subscription.objects.create(
        email=address, email_hash=email_hash(address), confirmed_at=timezone.now(), all_products=True
    )
notice = AdvisoryNotice(id="VT-SA-2026-001", title_en="Overflow", severity="High", product_slugs=("cam-1",),
                        url="https://psirt.test/en/advisories/VT-SA-2026-001/", csaf_url="https://psirt.test/c.json")
with transaction.atomic():
    notify_advisory(advisory=notice, revision=1, significant=True, actor=None)
"""

SWEEP_AFTER_TIMEOUT = """
import datetime as dt, os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "psirt.settings"
django.setup()
from django.utils import timezone
from psirt.mail.services import STALE_CLAIM, sweep
print(sweep(now=timezone.now() + STALE_CLAIM + dt.timedelta(seconds=1)))
"""

STATUSES = """
import os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "psirt.settings"
django.setup()
from psirt.notify.models import Delivery
print(sorted(Delivery.objects.values_list("status", flat=True)))
"""


class HoldingSink:
    """SMTP handler that can stop at the RCPT of a given mail (counted from 1, before its DATA), so a test can
    kill or stop the worker at a moment where that mail has certainly not been delivered, and the mails of its
    group before it wait at their end of data on other sessions."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.hold_at: int | None = None
        self.rcpts = 0
        self.held = threading.Event()
        self.release = asyncio.Event()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        self.rcpts += 1
        if self.hold_at is not None and self.rcpts == self.hold_at and not self.held.is_set():
            self.held.set()
            for _ in range(100):  # at most 10 s
                if self.hold_at is None:
                    break
                await asyncio.sleep(0.1)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content)))
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[HoldingSink, int]]:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = HoldingSink()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _env(extra: dict[str, str]) -> dict[str, str]:
    return installation_env(**extra)


def _run(args: list[str], env: dict[str, str], *, code: bool = False) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", args[0]] if code else [sys.executable, "-m", "psirt.cli", *args]
    return subprocess.run(command, env=_env(env), capture_output=True, text=True, timeout=120)


@pytest.fixture
def env(migrated_var: Callable[[Path], Path], tmp_path: Path, sink: tuple[HoldingSink, int]) -> dict[str, str]:
    var = migrated_var(tmp_path / "var")
    values = {
        "PSIRT_DEV": "1",
        "PSIRT_VAR_DIR": str(var),
        "DATABASE_URL": "",
        "EMAIL_URL": f"smtp://127.0.0.1:{sink[1]}",
        "LOG_LEVEL": "INFO",
    }
    setup = _run([SETUP], values, code=True)
    assert setup.returncode == 0, setup.stderr
    return values


def _worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "psirt.cli", "worker", "--interval", "0.1", "--no-startup-delay"],
        env=_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _each_once(handler: HoldingSink) -> None:
    received = Counter(to for tos, _data in handler.messages for to in tos)
    assert received == Counter({f"s{i}@example.test": 1 for i in range(SUBSCRIBERS)})


def test_killed_worker_loses_nothing_and_sends_nothing_twice(
    env: dict[str, str], sink: tuple[HoldingSink, int]
) -> None:
    handler, _port = sink
    # SIGKILL in the middle of the fan-out, at the RCPT of mail 7: with groups of four, mail 5 and 6 wait at
    # their end of data on two other sessions, their rows not yet marked sent.
    handler.hold_at = 7
    first = _worker(env)
    try:
        assert handler.held.wait(timeout=60), "the worker never reached the held message"
        first.kill()
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    handler.hold_at = None
    # The server discarded the mails whose end of data never came: only whole groups before the held mail.
    delivered = SMTP_SESSIONS * ((7 - 1) // SMTP_SESSIONS)
    assert len(handler.messages) == delivered
    statuses = _run([STATUSES], env, code=True).stdout
    assert "'sending'" in statuses and statuses.count("'sent'") == delivered  # the dead worker's claimed batch
    # The periodic sweep, once the dead worker's claim is stale, hands the rest to a new drain.
    sweep = _run([SWEEP_AFTER_TIMEOUT], env, code=True)
    assert sweep.returncode == 0, sweep.stderr
    second = _run(["worker", "--batch", "--no-startup-delay"], env)
    assert second.returncode == 0, second.stderr
    _each_once(handler)
    assert _run([STATUSES], env, code=True).stdout.strip() == str(["sent"] * SUBSCRIBERS)
    logs = second.stdout + second.stderr
    assert "sent" in logs and "example.test" not in logs


def test_sigterm_lets_the_current_task_finish(env: dict[str, str], sink: tuple[HoldingSink, int]) -> None:
    handler, _port = sink
    handler.hold_at = 3
    worker = _worker(env)
    try:
        assert handler.held.wait(timeout=60)
        worker.send_signal(signal.SIGTERM)
        handler.hold_at = None
        out, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    assert "shutting down gracefully" in out + err
    _each_once(handler)


DUPLICATES = """
import os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "psirt.settings"
django.setup()
from psirt.notify.models import Delivery
from psirt.mail.tasks import drain_outbox, send_message
for pk in Delivery.objects.values_list("pk", flat=True):
    send_message.enqueue(message_id=pk)
    send_message.enqueue(message_id=pk)
drain_outbox.enqueue()
drain_outbox.enqueue()
"""


def test_two_workers_racing_through_duplicated_tasks_send_each_mail_once(
    env: dict[str, str], sink: tuple[HoldingSink, int]
) -> None:
    handler, _port = sink
    duplicates = _run([DUPLICATES], env, code=True)
    assert duplicates.returncode == 0, duplicates.stderr
    command = [sys.executable, "-m", "psirt.cli", "worker", "--batch", "--no-startup-delay", "--interval", "0.05"]
    workers = [
        subprocess.Popen(command, env=_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for worker in workers:
        _out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    _each_once(handler)


ROWS = """
import os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "psirt.settings"
django.setup()
from psirt.notify.models import Delivery
print(sorted(Delivery.objects.values_list("status", "attempts")))
"""

PAUSE_OVER = """
import os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "psirt.settings"
django.setup()
from django.utils import timezone
from psirt.mail.models import OutboxMessage, TransportPause
from psirt.mail.services import DUE, sweep
# The mail server's pause has run out (as it does after 30 s): its rows are due, and the sweep starts a drain.
now = timezone.now()
TransportPause.objects.update(retry_at=now)
OutboxMessage.objects.filter(status__in=DUE).update(next_attempt_at=now)
print(sweep())
"""


def test_a_worker_killed_during_a_mail_server_outage_loses_nothing_charges_nothing_and_sends_each_once(
    migrated_var: Callable[[Path], Path], tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "PSIRT_DEV": "1",
        "PSIRT_VAR_DIR": str(migrated_var(tmp_path / "var")),
        "DATABASE_URL": "",
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "LOG_LEVEL": "INFO",
    }
    setup = _run([SETUP], env, code=True)
    assert setup.returncode == 0, setup.stderr
    # The mail server accepts connections and never answers: the worker waits on its first one; killed there.
    silent = RawServer(greeting=None, port=port)
    try:
        worker = _worker(env)
        try:
            for _ in range(600):
                if silent.accepted:
                    break
                time.sleep(0.1)
            assert silent.accepted, "the worker never connected"
            worker.kill()
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
    finally:
        silent.close()
    assert _run([ROWS], env, code=True).stdout.strip() == str([("sending", 0)] * SUBSCRIBERS)
    # Now nobody listens (refused): once the claims are stale, a worker's drain tries a few times, pauses the
    # mail server and ends at once, every row waiting and none charged.
    sweep = _run([SWEEP_AFTER_TIMEOUT], env, code=True)
    assert sweep.returncode == 0, sweep.stderr
    started = time.monotonic()
    second = _run(["worker", "--batch", "--no-startup-delay"], env)
    assert second.returncode == 0, second.stderr
    assert time.monotonic() - started < 60
    assert _run([ROWS], env, code=True).stdout.strip() == str([("queued", 0)] * SUBSCRIBERS)
    logs = second.stdout + second.stderr
    assert logs.count("the mail server is unreachable") == 1 and "example.test" not in logs
    # The mail server is back on its port: after the pause, every mail goes out once.
    from aiosmtpd.controller import Controller

    handler = HoldingSink()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        over = _run([PAUSE_OVER], env, code=True)
        assert over.returncode == 0, over.stderr
        third = _run(["worker", "--batch", "--no-startup-delay"], env)
        assert third.returncode == 0, third.stderr
    finally:
        controller.stop()
    _each_once(handler)
    assert _run([ROWS], env, code=True).stdout.strip() == str([("sent", 0)] * SUBSCRIBERS)
    assert "reachable again" in third.stdout + third.stderr
