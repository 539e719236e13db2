"""The outbox during a mail server outage, with real servers: a port nobody listens on (refused), a server that
accepts and never greets (timeout), one that greets with a refusal, one that drops every connection, and aiosmtpd
brought back on the same port. A drain stops trying after a few failures in a row, puts its rows back without
charging them an attempt, pauses the mail server for every worker with a growing pause, says so once in the log
without an address, and ends quickly; once the server answers, every mail goes out once. Refusals of a mail's
own keep their attempts and never pause the server."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from psirt.mail import services, transports
from psirt.mail.models import OutboxMessage, OutboxStatus, TransportPause
from psirt.mail.services import drain, send_mail_bilingual
from psirt.mail.tests.test_smtp_batch import Server, queue
from psirt.mail.transports import MAIL, TRIP_AFTER, pause_length

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def point_at(settings: Any, port: int, timeout: float = 5) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, timeout
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""


@contextlib.contextmanager
def smtp_on(port: int) -> Iterator[Server]:
    """aiosmtpd on this port (the mail server coming back)."""
    from aiosmtpd.controller import Controller

    handler = Server()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


class RawServer:
    """A TCP server on 127.0.0.1 that does one thing with each connection: say `greeting` and close, close at
    once (`greeting` empty), or hold it open without a word (`greeting` None). Counts the connections."""

    drained_in: float

    def __init__(self, greeting: bytes | None, port: int = 0) -> None:
        self.greeting = greeting
        self.accepted = 0
        self.drained_in = 0.0  # how long the drain facing it took (see `outage`)
        self.held: list[socket.socket] = []
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(64)
        self.listener.settimeout(0.1)
        self.port = int(self.listener.getsockname()[1])
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while self.running:
            try:
                conn, _peer = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            if self.greeting is None:
                self.held.append(conn)
                continue
            with contextlib.suppress(OSError):
                conn.sendall(self.greeting)
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=2)
        self.listener.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def outage(settings: Any) -> Iterator[Callable[..., RawServer]]:
    """`outage(count, greeting)`: `count` mails queued (first: the tests' task backend sends each mail at its commit,
    to memory here), then the mail server replaced by a `RawServer` with this greeting, then one drain."""
    made: list[RawServer] = []

    def start(count: int, greeting: bytes | None = b"", timeout: float = 5) -> RawServer:
        queue(count)
        server = RawServer(greeting=greeting)
        made.append(server)
        point_at(settings, server.port, timeout=timeout)
        started = time.monotonic()
        assert drain() == 0
        server.drained_in = time.monotonic() - started
        return server

    yield start
    for server in made:
        server.close()


def rows() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.order_by("pk"))


def assert_waiting_uncharged(count: int) -> TransportPause:
    """Every row back in the queue, never charged, due when the mail server's pause ends."""
    pause = TransportPause.objects.get(transport=MAIL)
    assert len(rows()) == count
    for row in rows():
        assert (row.status, row.attempts, row.last_error) == (OutboxStatus.QUEUED, 0, "")
        assert row.next_attempt_at == pause.retry_at and row.context != ""
    return pause


def test_a_refused_mail_server_is_paused_after_a_few_tries_and_every_mail_goes_out_once_when_it_is_back(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nobody listens: every connection is refused
    queue(30)  # first: the tests' task backend sends each mail at its commit (to memory here)
    point_at(settings, port)
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="psirt.mail"):
        assert drain() == 0
    assert time.monotonic() - started < 5
    pause = assert_waiting_uncharged(30)
    assert pause.pauses == 1 and pause.last_error == "ConnectionRefusedError"
    assert pause.retry_at - pause.down_since == pause_length(1) == dt.timedelta(seconds=30)
    # Said once, with the way out and the error kind, never an address or a subject.
    said = [record.getMessage() for record in caplog.records if "unreachable" in record.getMessage()]
    assert len(said) == 1 and "the mail server is unreachable (ConnectionRefusedError); 30 messages wait" in said[0]
    assert not any("research.test" in record.getMessage() for record in caplog.records)
    # Nothing is due before the pause ends: the sweep starts no drain, a drain finds nothing.
    assert services.sweep(now=pause.retry_at - dt.timedelta(seconds=1)) == 0
    with smtp_on(port) as server:
        assert drain(now=pause.retry_at) == 30
    assert sorted(server.recipients) == sorted(f"r{i}@research.test" for i in range(30))  # each exactly once
    assert {row.status for row in rows()} == {OutboxStatus.SENT}
    assert not TransportPause.objects.exists()  # the first mail through ended the pause


def test_a_mail_server_that_never_greets_costs_a_few_timeouts_not_one_per_mail(
    outage: Callable[..., RawServer],
) -> None:
    hanging = outage(40, greeting=None, timeout=0.5)
    # One timeout per try until the pause: a new connection that fails is not tried again at once.
    assert hanging.accepted == TRIP_AFTER
    assert hanging.drained_in < TRIP_AFTER * 0.5 + 3
    assert_waiting_uncharged(40)


@pytest.mark.parametrize(
    ("greeting", "error"),
    [
        (b"554 5.3.2 no service for you\r\n", "SMTPConnectError 554"),
        (b"421 4.3.2 too busy, try later\r\n", "SMTPConnectError 421"),
        (b"", "SMTPServerDisconnected"),
    ],
)
def test_a_mail_server_refusing_or_dropping_every_connection_is_paused_and_charges_nobody(
    outage: Callable[..., RawServer], greeting: bytes, error: str
) -> None:
    server = outage(10, greeting)
    assert server.accepted == TRIP_AFTER
    assert assert_waiting_uncharged(10).last_error == error


def test_after_the_pause_one_try_decides_and_a_failed_one_pauses_longer_still_charging_nobody(
    outage: Callable[..., RawServer],
) -> None:
    server = outage(10)
    for expected in (2, 3, 4):
        pause = TransportPause.objects.get()
        tries = server.accepted
        assert drain(now=pause.retry_at) == 0
        assert server.accepted == tries + 1  # one connection tried, not a few
        pause = assert_waiting_uncharged(10)
        assert pause.pauses == expected
    assert [pause_length(n) for n in (1, 2, 3, 4)] == [dt.timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert pause_length(50) == pause_length(10_000) == transports.PAUSE_CAP == dt.timedelta(minutes=15)
    # A row retried for a year (the longest give-up) backs off at most six hours, never overflows.
    assert services.backoff(32_767) == services.BACKOFF_CAP


def test_a_mail_queued_during_the_pause_waits_for_it_without_a_connection(
    outage: Callable[..., RawServer], django_capture_on_commit_callbacks: Any
) -> None:
    server = outage(4)
    tries = server.accepted
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        # Its task runs at the commit, as a report's acknowledgment does.
        late = send_mail_bilingual(to=["late@research.test"], template="intake/mail/new_link", context={})
    assert server.accepted == tries  # the pause is read before any connection
    pause = assert_waiting_uncharged(5)
    assert pause.pauses == 1
    late.refresh_from_db()
    assert late.next_attempt_at == pause.retry_at


def test_another_worker_sees_the_pause_before_it_tries(outage: Callable[..., RawServer]) -> None:
    server = outage(3)
    tries = server.accepted
    # A second worker's drain (its own connections and guard) claims rows the pause has not made wait yet.
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    connection = services.open_connection()
    try:
        outcomes = services.send_batch(services.claim_batch(), connection)
    finally:
        connection.close()
    assert outcomes == [services.PUT_BACK] * 3 and server.accepted == tries
    assert_waiting_uncharged(3)


def test_refused_recipients_in_a_row_are_the_mails_own_failures_and_never_pause_the_server(settings: Any) -> None:
    port = free_port()
    queue(8)
    point_at(settings, port)
    with smtp_on(port) as server:
        server.refuse = {f"r{i}@research.test" for i in range(6)}  # six refusals in a row, then two accepted
        assert drain() == 2
    assert not TransportPause.objects.exists()
    failed = OutboxMessage.objects.filter(status=OutboxStatus.FAILED)
    assert failed.count() == 6
    assert {(row.attempts, row.last_error) for row in failed} == {(1, "SMTPRecipientsRefused 550")}


def test_one_failed_connection_among_mails_that_go_through_is_charged_as_before(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No outage: a single failure (the next mail goes through) is the row's, retried with its own backoff."""
    queue(3)
    port = free_port()
    point_at(settings, port)
    settings.PSIRT_SMTP_SESSIONS = 1
    real_open = services.SMTPBackend.open
    calls = {"n": 0}

    def flaky_open(self: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionRefusedError("the first connection is refused")
        return real_open(self)

    monkeypatch.setattr(services.SMTPBackend, "open", flaky_open)
    with smtp_on(port) as server:
        assert drain() == 2
    assert len(server.recipients) == 2
    failed = OutboxMessage.objects.get(status=OutboxStatus.FAILED)
    assert (failed.attempts, failed.last_error) == (1, "ConnectionRefusedError")
    assert not TransportPause.objects.exists()


@pytest.mark.parametrize(
    ("error", "theirs"),
    [
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (OSError("ssl handshake"), True),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), True),
        (smtplib.SMTPSenderRefused(421, b"closing", "a@b.test"), True),
        (smtplib.SMTPSenderRefused(550, b"no", "a@b.test"), False),
        (smtplib.SMTPDataError(554, b"spam"), False),
        (smtplib.SMTPRecipientsRefused({"a@b.test": (550, b"no")}), False),
        (ValueError("a template bug"), False),
    ],
)
def test_which_failures_are_the_mail_servers(error: BaseException, theirs: bool) -> None:
    assert transports.unreachable(error) is theirs
