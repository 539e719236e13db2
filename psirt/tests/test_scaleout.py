"""Scale-out on real parts: the README's deployment block, run as written against one PostgreSQL database.

Two `psirt serve` processes (separate var dirs, one shared folder), two `psirt worker`s and one
`psirt scheduler`, in production mode, with a real SMTP server and a real webhook receiver. The test drives them
as a reverse proxy would (Host, X-Forwarded-For, X-Forwarded-Proto from 127.0.0.1, a trusted proxy) and checks
what only several processes can get wrong: reports through either server, each acknowledged by one mail; an
advisory published through one server's configuration shown at once by the other, although both had cached the
list; the fan-out mailed once in total by two workers; a rate limit reached through one server refusing on the
other. Every process is stopped by its process group at the end, and none may be left.

Runs on the PostgreSQL leg of `make test` (TEST_DATABASE_URL), on a database of its own, dropped at the end."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from psirt.lib.variables import VARIABLES
from psirt.notify.services.webhooks import SIGNATURE_HEADER, verify_signature
from psirt.tests.installation import MigratedPostgres, installation_env

pytestmark = [pytest.mark.scaleout, pytest.mark.processes]

ROOT = Path(__file__).resolve().parents[2]
HOST = "psirt.test"
SUBSCRIBERS = 8
REPORT_RATE = 10  # psirt.intake.services.limits.DEFAULT_RATES["report_ip"]: new reports per address and hour
SERVERS = 2
WORKERS = 2

# Values the test gives to the variables the README's block exports (the block's own are placeholders).
# Set only here, for the machine the test plays: the webhook receiver listens on loopback, which production
# refuses; one process per server keeps the test light (more are covered by WEB_CONCURRENCY's own tests).
TEST_ONLY = {"PSIRT_WEBHOOK_ALLOW_PRIVATE": "1", "WEB_CONCURRENCY": "2", "LOG_LEVEL": "INFO"}


# --- the README's block ------------------------------------------------------------------------------------------


@dataclass
class Deployment:
    """The README's deployment block: the variables every machine sets, and the commands of each step."""

    exported: list[str]
    steps: dict[int, list[list[str]]] = field(default_factory=dict)


def readme_deployment() -> Deployment:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- deploy-commands:[^>]*-->\n```sh\n(.*?)\n```", text, re.S)
    assert found, "README.md has no deploy-commands block"
    deployment = Deployment(exported=[])
    step = 0
    for line in found.group(1).splitlines():
        if heading := re.match(r"# (\d)\. ", line):
            step = int(heading.group(1))
            continue
        code = line.split("  #", 1)[0].strip()
        if not code or code.startswith("#"):
            continue
        words = shlex.split(code)
        if words[0] == "export":
            deployment.exported += [word.split("=", 1)[0] for word in words[1:] if "=" in word]
            continue
        assert step, f"README deploy command outside a numbered step: {line!r}"
        assert words[0] == "psirt", f"README deploy command is not a psirt command: {line!r}"
        deployment.steps.setdefault(step, []).append(words[1:])
    return deployment


def test_the_readme_block_is_the_one_this_test_runs() -> None:
    """Runs on SQLite too: the block parses into the four steps the scale-out test plays, and exports only
    variables psirt declares."""
    deployment = readme_deployment()
    declared = {variable.name for variable in VARIABLES}
    assert set(deployment.exported) <= declared, set(deployment.exported) - declared
    assert [words[0] for words in deployment.steps[1]] == ["migrate"]
    assert deployment.steps[2][-1] == ["serve"]
    assert deployment.steps[3] == [["worker"]]
    assert deployment.steps[4] == [["scheduler"]]
    assert sorted(deployment.steps) == [1, 2, 3, 4]


# --- the parts around psirt: PostgreSQL, SMTP, a webhook receiver --------------------------------------------------


@pytest.fixture(scope="module")
def database(migrated_postgres: Callable[[], AbstractContextManager[MigratedPostgres]]) -> Iterator[MigratedPostgres]:
    """A database of the test's own on the TEST_DATABASE_URL server, dropped at the end: a copy of the run's
    migrated one (the README's `psirt migrate` still runs on it, and finds nothing left to do)."""
    with migrated_postgres() as database:
        yield database


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Sink:
    """SMTP server side: every message with its envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content)))
        return "250 OK"

    def recipients(self) -> Counter[str]:
        with self.lock:
            return Counter(rcpt for rcpts, _body in self.messages for rcpt in rcpts)

    def subjects_to(self, address: str) -> list[str]:
        with self.lock:
            found = [body for rcpts, body in self.messages if address in rcpts]
        return [str(message_from_bytes(body)["Subject"]) for body in found]


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Sink, int]]:
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


class Hooks(http.server.ThreadingHTTPServer):
    calls: list[tuple[dict[str, str], bytes]]


class HookHandler(http.server.BaseHTTPRequestHandler):
    server: Hooks

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.calls.append(({name.lower(): value for name, value in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def webhook() -> Iterator[Hooks]:
    hooks = Hooks(("127.0.0.1", 0), HookHandler)
    hooks.calls = []
    thread = threading.Thread(target=hooks.serve_forever, daemon=True)
    thread.start()
    try:
        yield hooks
    finally:
        hooks.shutdown()
        hooks.server_close()


# --- the installation ----------------------------------------------------------------------------------------------


@dataclass
class Site:
    """The running installation: the environment each role gets, its processes, and the servers' ports."""

    shared: dict[str, str]
    var: Path
    ports: list[int] = field(default_factory=list)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def env(self, role: str, **extra: str) -> dict[str, str]:
        """The environment of one machine's role: nothing inherited from the test run's own settings."""
        return installation_env(**{**self.shared, "PSIRT_VAR_DIR": str(self.var / role), **extra})

    def psirt(self, words: list[str]) -> list[str]:
        return [sys.executable, "-m", "psirt.cli", *words]

    def run(self, role: str, words: list[str]) -> None:
        done = subprocess.run(self.psirt(words), env=self.env(role), capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"psirt {' '.join(words)} ({role}): {done.stderr[-3000:]}"

    def start(self, role: str, words: list[str], **extra: str) -> None:
        log = (self.var / f"{role}.log").open("wb")
        # A process group of its own: stopping the group reaches gunicorn's workers too.
        self.processes[role] = subprocess.Popen(
            self.psirt(words), env=self.env(role, **extra), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def script(self, role: str, code: str, *args: str) -> str:
        """Run service code with one role's configuration (the service call a desk request would make)."""
        preamble = "import os, sys, django\nos.environ['DJANGO_SETTINGS_MODULE'] = 'psirt.settings'\ndjango.setup()\n"
        done = subprocess.run(
            [sys.executable, "-c", preamble + code, *args],
            env=self.env(role),
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def log(self, role: str) -> str:
        return (self.var / f"{role}.log").read_text(encoding="utf-8", errors="replace")

    def stop(self) -> list[str]:
        """SIGTERM every process group, then wait; returns the roles whose group had to be killed or was left."""
        for proc in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        stubborn = []
        deadline = time.monotonic() + 40
        for role, proc in self.processes.items():
            try:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                stubborn.append(role)
            while _group_alive(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _group_alive(proc.pid):
                stubborn.append(role)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        return stubborn


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def request(
    port: int, method: str, path: str, *, body: bytes = b"", client: str = "192.0.2.10", content_type: str = ""
) -> tuple[int, dict[str, str], bytes]:
    """One request as the reverse proxy sends it: public host, https scheme, the client's address."""
    head = [
        f"{method} {path} HTTP/1.1",
        f"Host: {HOST}",
        "X-Forwarded-Proto: https",
        f"X-Forwarded-For: {client}",
        "Connection: close",
        f"Content-Length: {len(body)}",
    ]
    if content_type:
        head.append(f"Content-Type: {content_type}")
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        conn.sendall("\r\n".join(head).encode() + b"\r\n\r\n" + body)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    raw_head, _, payload = data.partition(b"\r\n\r\n")
    lines = raw_head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split(" ", 2)[1]), headers, payload


def wait_for(what: str, probe: Any, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


SETUP = f"""
import datetime as dt
from django.utils import timezone
from psirt.accounts.models import Role, User
from psirt.advisories import services
from psirt.cases.models import Assignment, Case
from psirt.catalog.models import FirmwareRelease
from psirt.notify.models import Subscription
from psirt.notify.services import email_hash, register_webhook
from psirt.tests.factories import make_line, make_product

lead = User.objects.create_user("lead@scale.test", "unused-" + os.urandom(16).hex(), role=Role.LEAD, name="Lead")
product = make_product(make_line(), "cam-x5", "Camera X5")
old, new = (
    FirmwareRelease.objects.create(product=product, version=version, position=position)
    for position, version in ((10, "V5.5.0"), (20, "V5.6.0"))
)
case = Case.objects.create(
    key="CASE-2026-0001", year=2026, number=1, title="Unauthenticated RCE in the web UI",
    state="awaiting_disclosure", product=product, product_line=product.line,
    disclosure_date=timezone.localdate() - dt.timedelta(days=1), exploitation="none",
    cvss31_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
)
Assignment.objects.create(case=case, user=lead)
advisory = services.create_advisory(cases=[case], actor=lead)
advisory = services.update_advisory(
    advisory=advisory, actor=lead,
    changes={{"summary_en": "A crafted request runs code as root.", "workarounds_en": "Block port 80."}},
    affected=[services.AffectedInput(product=product, introduced=old, fixed=new)],
)
advisory = services.approve_advisory(advisory=services.submit_for_review(advisory=advisory, actor=lead), actor=lead)
for n in range({SUBSCRIBERS}):
    address = f"subscriber{{n}}@customer.test"
    Subscription.objects.create(
        email=address, email_hash=email_hash(address), confirmed_at=timezone.now(), all_products=True
    )
_hook, secret = register_webhook(name="SIEM", url=sys.argv[1], actor=lead)
print(advisory.advisory_id, secret)
"""

PUBLISH = """
from psirt.accounts.models import User
from psirt.advisories.models import Advisory
from psirt.advisories.services import publish_advisory

advisory = Advisory.objects.get(advisory_id=sys.argv[1])
publish_advisory(advisory=advisory, actor=User.objects.get(email="lead@scale.test"))
"""


@pytest.fixture(scope="module")
def site(
    database: MigratedPostgres, smtp: tuple[Sink, int], webhook: Hooks, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    var = tmp_path_factory.mktemp("scaleout")
    deployment = readme_deployment()
    values = {
        "DATABASE_URL": database.url,
        "SECRET_KEY": secrets.token_urlsafe(64),
        # The keys the database's key canary was stored with.
        "PSIRT_ENCRYPTION_KEYS": database.keys["PSIRT_ENCRYPTION_KEYS"],
        "PSIRT_AUDIT_KEYS": database.keys["PSIRT_AUDIT_KEYS"],
        "PSIRT_BASE_URL": f"https://{HOST}",
        "ALLOWED_HOSTS": HOST,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp[1]}",
        "PSIRT_SHARED_DIR": str(var / "shared"),
        "PSIRT_VAR_DIR": "",  # each role's own: Site.env
        "PSIRT_BIND": "127.0.0.1",  # the test's proxy is on this machine
    }
    # The test sets exactly what the README tells every machine to set, and nothing else but TEST_ONLY.
    assert sorted(deployment.exported) == sorted(values), "README deploy block and test disagree on variables"
    site = Site(shared={name: value for name, value in values.items() if value} | TEST_ONLY, var=var)
    servers = [f"server{n}" for n in range(1, SERVERS + 1)]
    try:
        # Step 1 once, and step 2's preparation on each server, at the same time (they do not depend on each
        # other): the slow part of the test on a loaded machine.
        once = [
            subprocess.Popen(site.psirt(words), env=site.env("admin"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for words in deployment.steps[1]
        ]
        prepared = [
            subprocess.Popen(site.psirt(words), env=site.env(role), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for role in servers
            for words in deployment.steps[2][:-1]
        ]
        for proc in once + prepared:
            _out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err.decode()[-3000:]
        for role in servers:
            port = _free_port()
            site.ports.append(port)
            site.start(role, deployment.steps[2][-1], PORT=str(port))
        for n in range(1, WORKERS + 1):
            site.start(f"worker{n}", deployment.steps[3][0])
        site.start("scheduler", deployment.steps[4][0])
        for port in site.ports:
            wait_for(f"server on {port}", lambda port=port: _healthy(port), timeout=120)
        yield site
    finally:
        left = site.stop()
        assert not left, f"processes left running after SIGTERM: {left}"


def _healthy(port: int) -> bool:
    try:
        return request(port, "GET", "/healthz")[0] == 200
    except OSError:
        return False


def report(port: int, number: int, client: str) -> tuple[int, dict[str, Any]]:
    body = json.dumps(
        {
            "reporter_name": f"Researcher {number}",
            "reporter_email": f"researcher{number}@lab.test",
            "product": "cam-x5",
            "description": f"Report {number}: the web UI accepts a crafted request and runs it as root.",
            "accept_guidelines": True,
        }
    ).encode()
    status, _headers, payload = request(
        port, "POST", "/api/v1/reports", body=body, client=client, content_type="application/json"
    )
    return status, json.loads(payload or b"{}")


def report_with_file(port: int, client: str, content: bytes) -> tuple[int, dict[str, Any]]:
    """A report with one attachment, as multipart/form-data (what a script or the form sends)."""
    boundary = "scaleout" + secrets.token_hex(8)
    fields = {
        "reporter_name": "Researcher with a capture",
        "reporter_email": "capture@lab.test",
        "product": "cam-x5",
        "description": "The capture shows the crafted request that runs as root.",
        "accept_guidelines": "true",
    }
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="request.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    status, _headers, payload = request(
        port,
        "POST",
        "/api/v1/reports",
        body=body,
        client=client,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    return status, json.loads(payload or b"{}")


# --- the scenario --------------------------------------------------------------------------------------------------


def test_two_servers_two_workers_and_a_scheduler_share_one_database(
    site: Site, smtp: tuple[Sink, int], webhook: Hooks
) -> None:
    sink, _port = smtp
    a, b = site.ports
    advisory_id, hook_secret = site.script("admin", SETUP, f"http://127.0.0.1:{webhook.server_address[1]}/hook").split()
    assert re.fullmatch(r"[A-Z0-9-]+", advisory_id), advisory_id

    # Reports through both servers from one address: each gets its tracking ID until the address's hourly limit,
    # which counts the reports of both servers together: the next one is refused by either.
    client = "198.51.100.23"
    tracking = []
    for number in range(REPORT_RATE):
        status, answer = report((a, b)[number % 2], number, client)
        assert status == 201, answer
        tracking.append(answer["tracking_id"])
    assert len(set(tracking)) == REPORT_RATE
    for port in (a, b):
        status, answer = report(port, 99, client)
        assert status == 429, answer
        assert answer.get("retry_after", 0) > 0
    assert report(b, 100, "198.51.100.24")[0] == 201  # another address is not limited

    # A report with a file through server A: its reporter opens the private link and the file through server B
    # (the link's session and the encrypted file are in the database and the shared folder, not on server A).
    capture = b"POST /cgi-bin/admin.cgi HTTP/1.1\r\n\r\ncmd=$(id)\n" * 50
    status, answer = report_with_file(a, "198.51.100.25", capture)
    assert status == 201, answer
    portal = urlsplit(answer["portal_url"]).path
    status, _headers, page = request(b, "GET", portal, client="198.51.100.25")
    assert status == 200, page[:500]
    assert answer["tracking_id"].encode() in page
    file_link = re.search(rb'href="(/en/r/[^"]+/files/[0-9a-f-]{36}/)"', page)
    assert file_link, "the portal lists no file"
    status, _headers, served = request(b, "GET", file_link.group(1).decode(), client="198.51.100.25")
    assert (status, served) == (200, capture)

    # Each reporter is acknowledged by exactly one mail, whichever server took the report and worker sent it.
    reporters = [f"researcher{number}@lab.test" for number in (*range(REPORT_RATE), 100)] + ["capture@lab.test"]
    wait_for("acknowledgments", lambda: all(sink.recipients()[address] >= 1 for address in reporters))

    # Both servers have the advisory list cached, without the advisory.
    for port in (a, b, a, b):
        status, _headers, page = request(port, "GET", "/en/advisories/")
        assert status == 200
        assert advisory_id.encode() not in page
    status, _headers, _page = request(b, "GET", f"/en/advisories/{advisory_id}/")
    assert status == 404
    for role in ("server1", "server2"):
        assert list((site.var / role / "cache" / "public-pages").iterdir()), f"{role} stored no page"

    # Published with server A's configuration: server B shows it on the very next request.
    site.script("server1", PUBLISH, advisory_id)
    for port in (b, a):
        status, _headers, page = request(port, "GET", "/en/advisories/")
        assert status == 200
        assert advisory_id.encode() in page, f"server on {port} still serves the cached list"
        status, _headers, page = request(port, "GET", f"/en/advisories/{advisory_id}/")
        assert status == 200
    # The CSAF tree written after the publication is the shared one: server B serves the document.
    status, _headers, index = request(b, "GET", "/.well-known/csaf/white/index.txt")
    assert status == 200
    document = next(line for line in index.decode().splitlines() if advisory_id.lower() in line)
    status, _headers, csaf = request(b, "GET", f"/.well-known/csaf/white/{document}")
    assert status == 200
    assert json.loads(csaf)["document"]["tracking"]["id"] == advisory_id

    # The fan-out: every subscriber once and the webhook once, in total across both workers.
    subscribers = [f"subscriber{n}@customer.test" for n in range(SUBSCRIBERS)]
    wait_for("the fan-out", lambda: all(sink.recipients()[address] for address in subscribers) and webhook.calls)
    time.sleep(3)  # room for a duplicate to arrive, were a row ever sent twice
    counts = sink.recipients()
    assert {address: counts[address] for address in subscribers} == dict.fromkeys(subscribers, 1)
    assert {address: counts[address] for address in reporters} == dict.fromkeys(reporters, 1)
    assert all(advisory_id in " ".join(sink.subjects_to(address)) for address in subscribers)
    assert len(webhook.calls) == 1
    headers, body = webhook.calls[0]
    assert json.loads(body)["advisory"]["id"] == advisory_id, body[:500]
    assert verify_signature(hook_secret, headers[SIGNATURE_HEADER.lower()], body)

    # The workers' logs agree: every outbox row (mail or webhook call) was sent by one worker, once.
    sent = Counter(
        match.group(1)
        for n in range(1, WORKERS + 1)
        for match in re.finditer(r"outbox (\S+) \([^)]*\) sent", site.log(f"worker{n}"))
    )
    assert sent and max(sent.values()) == 1, sent
    assert sum(sent.values()) == len(sink.messages) + len(webhook.calls)

    # No task ran twice either, the scheduler's periodic ones included (each worker claims its task row).
    runs = Counter(
        match.group(1)
        for n in range(1, WORKERS + 1)
        for match in re.finditer(r"Task id=(\S+) path=\S+ state=RUNNING", site.log(f"worker{n}"))
    )
    assert runs and max(runs.values()) == 1, [task for task, times in runs.items() if times > 1]
    assert "enqueued psirt.mail.tasks.sweep_outbox" in site.log("scheduler")

    # Every process is still up: none crashed on the shared state.
    assert all(proc.poll() is None for proc in site.processes.values()), {
        role: proc.returncode for role, proc in site.processes.items()
    }
