"""A webhook receiver that is down, with real local receivers: it is paused on its own after a few failures in a
row (refused, silent, answering 503), its deliveries wait without being charged an attempt, and the other receiver
gets its deliveries in the same drain, unslowed; once it answers again, each of its deliveries arrives once. A
receiver refusing the payload itself (4xx) keeps today's attempts and backoff. The desk tells leads what is
paused, in both languages."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from psirt.mail import services as outbox
from psirt.mail.models import OutboxStatus, TransportPause
from psirt.mail.tests.test_outage import RawServer, free_port
from psirt.mail.transports import MAIL, TRIP_AFTER, pause, unreachable
from psirt.notify.models import Delivery
from psirt.notify.services import notify_advisory, register_webhook, webhooks

from .conftest import make_notice

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP/1.1 receiver on a given port answering `status` to every POST; records each delivery id."""

    def __init__(self, port: int = 0, status: int = 204) -> None:
        self.status = status
        self.deliveries: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.deliveries.append(self.headers["X-PSIRT-Delivery"])
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def up(settings: Any) -> Iterator[Receiver]:
    settings.PSIRT_WEBHOOK_ALLOW_PRIVATE = True
    receiver = Receiver()
    yield receiver
    receiver.close()


def register(lead: Any, port: int, count: int, name: str) -> list[str]:
    """`count` webhooks to the receiver on this port; their public ids."""
    return [
        str(register_webhook(name=f"{name} {n}", url=f"http://127.0.0.1:{port}/hook/{n}", actor=lead)[0].public_id)
        for n in range(count)
    ]


def publish() -> None:
    """Queue the advisory's deliveries (not sent: no task runs them)."""
    notify_advisory(advisory=make_notice(), revision=1, significant=True, actor=None)


def rows_of(hooks: list[str]) -> list[Delivery]:
    return list(Delivery.objects.filter(recipient_key__in=hooks))


def assert_waiting_uncharged(hooks: list[str], port: int) -> TransportPause:
    pause = TransportPause.objects.get(transport=webhooks.receiver_name(f"http://127.0.0.1:{port}/"))
    for row in rows_of(hooks):
        assert (row.status, row.attempts, row.last_error) == (OutboxStatus.QUEUED, 0, "")
        assert row.next_attempt_at == pause.retry_at
    return pause


def test_a_receiver_that_refuses_connections_waits_alone_and_gets_each_delivery_once_when_back(
    up: Receiver, lead: Any, catalog: Any
) -> None:
    down_port = free_port()  # nobody listens there
    down = register(lead, down_port, 5, "down")
    fine = register(lead, up.port, 3, "fine")
    publish()
    assert outbox.drain() == 3
    assert sorted(up.deliveries) == sorted(str(row.public_id) for row in rows_of(fine))
    pause = assert_waiting_uncharged(down, down_port)
    assert pause.last_error == "connection failed (ConnectionRefusedError)"
    assert list(TransportPause.objects.values_list("transport", flat=True)) == [pause.transport]  # not the other
    assert {row.status for row in rows_of(fine)} == {OutboxStatus.SENT}
    back = Receiver(down_port)
    try:
        assert outbox.drain(now=pause.retry_at) == 5
    finally:
        back.close()
    assert Counter(back.deliveries) == Counter({str(row.public_id): 1 for row in rows_of(down)})  # each once
    assert len(up.deliveries) == 3  # nothing sent twice to the other
    assert set(Delivery.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}
    assert not TransportPause.objects.exists()


def test_a_receiver_answering_503_is_paused_and_one_refusing_the_payload_is_charged_as_before(
    up: Receiver, lead: Any, catalog: Any
) -> None:
    busy = Receiver(status=503)
    refusing = Receiver(status=404)
    try:
        busy_hooks = register(lead, busy.port, 4, "busy")
        refusing_hooks = register(lead, refusing.port, 4, "refusing")
        fine = register(lead, up.port, 2, "fine")
        publish()
        assert outbox.drain() == 2
    finally:
        busy.close()
        refusing.close()
    assert len(busy.deliveries) == TRIP_AFTER  # then paused: the fourth was not tried
    assert assert_waiting_uncharged(busy_hooks, busy.port).last_error == "HTTP 503"
    # 404 is this payload's refusal: each delivery tried, charged, retried with its own backoff; no pause.
    assert len(refusing.deliveries) == 4
    assert {(row.status, row.attempts, row.last_error) for row in rows_of(refusing_hooks)} == {
        (OutboxStatus.FAILED, 1, "HTTP 404")
    }
    assert TransportPause.objects.count() == 1
    assert {row.status for row in rows_of(fine)} == {OutboxStatus.SENT}


def test_a_silent_receiver_costs_a_few_timeouts_and_the_other_receiver_is_not_held_up(
    up: Receiver, lead: Any, catalog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    silent = RawServer(greeting=None)  # accepts, reads nothing, answers nothing
    monkeypatch.setattr(webhooks, "TIMEOUT", 0.4)
    try:
        silent_hooks = register(lead, silent.port, 8, "silent")
        fine = register(lead, up.port, 4, "fine")
        publish()
        started = time.monotonic()
        assert outbox.drain() == 4
        elapsed = time.monotonic() - started
        assert silent.accepted == TRIP_AFTER
    finally:
        silent.close()
    assert elapsed < TRIP_AFTER * 0.4 + 3  # not one timeout per delivery
    assert assert_waiting_uncharged(silent_hooks, silent.port).last_error == "connection failed (TimeoutError)"
    assert {row.status for row in rows_of(fine)} == {OutboxStatus.SENT}


def test_the_mail_server_down_does_not_stop_the_webhooks(
    up: Receiver, lead: Any, catalog: Any, subscriber: Any, settings: Any
) -> None:
    for n in range(5):
        subscriber(f"s{n}@example.test", everything=True)
    fine = register(lead, up.port, 2, "fine")
    publish()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    assert outbox.drain() == 2
    assert {row.status for row in rows_of(fine)} == {OutboxStatus.SENT}
    pause = TransportPause.objects.get()
    assert pause.transport == MAIL
    mails = Delivery.objects.filter(kind="subscriber")
    assert mails.count() == 5
    assert {(row.status, row.attempts, row.next_attempt_at) for row in mails} == {
        (OutboxStatus.QUEUED, 0, pause.retry_at)
    }


def test_the_desk_tells_leads_what_is_paused_in_both_languages(as_lead: Any, lead: Any, catalog: Any) -> None:
    register_webhook(name="SIEM", url="https://hooks.example.com/psirt", actor=lead)
    register_webhook(name="Tickets", url="https://tickets.example.com/psirt", actor=lead)
    assert "has not answered" not in as_lead.get("/en/desk/notify/").content.decode()
    now = timezone.now()
    pause(webhooks.receiver_name("https://hooks.example.com/other-path"), "HTTP 503", now)
    pause(MAIL, "ConnectionRefusedError", now)
    page = as_lead.get("/en/desk/notify/").content.decode()
    assert "The mail server has not answered since" in page and "(ConnectionRefusedError)" in page
    assert "A webhook receiver has not answered since" in page and "webhooks: SIEM." in page
    assert "Tickets." not in page  # its receiver answers
    zh = as_lead.get("/zh-hans/desk/notify/").content.decode()
    assert "邮件服务器自" in zh and "Webhook：SIEM。" in zh
    hooks = as_lead.get("/en/desk/notify/webhooks/").content.decode()
    assert hooks.count("receiver not answering, next try") == 1


@pytest.mark.parametrize(
    ("errno", "receivers"), [(socket.EAI_AGAIN, True), (socket.EAI_NONAME, False)], ids=["dns-down", "no-such-name"]
)
def test_name_servers_failing_are_the_receivers_outage_and_a_name_that_does_not_exist_is_the_webhooks(
    monkeypatch: pytest.MonkeyPatch, errno: int, receivers: bool
) -> None:
    def resolve(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(errno, "name resolution")

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", resolve)
    with pytest.raises(webhooks.WebhookError) as info:
        webhooks.post("https://hooks.example.com/psirt", b"{}", {})
    assert unreachable(info.value) is receivers
