"""Webhook deliveries of a worker's batch: the batch's webhooks are read in one query, and a receiver that keeps
its connection open (HTTP/1.1) gets the batch over one connection; one that closes it gets a new one each time;
a kept connection the receiver closed meanwhile is opened again and the delivery sent once. Signatures and the
address check stay those of every delivery."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from psirt.mail import services as outbox
from psirt.mail.models import OutboxStatus
from psirt.notify.models import Delivery, Webhook
from psirt.notify.services import notify_advisory, register_webhook, webhooks

from .conftest import make_notice

pytestmark = pytest.mark.django_db


class Receiver:
    """A local receiver speaking HTTP/1.1 (keep-alive) or HTTP/1.0 (a connection per request); records each
    request with the client port it came from. With `drop_after_answer`, it closes the connection after each
    answer without saying so (as a receiver's idle timeout does)."""

    def __init__(self, protocol: str = "HTTP/1.1") -> None:
        self.requests: list[dict[str, Any]] = []
        self.drop_after_answer = False
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = protocol

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.requests.append({"port": self.client_address[1], "headers": dict(self.headers), "body": body})
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if outer.drop_after_answer:
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, n: int = 0) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{n}"

    @property
    def ports(self) -> set[int]:
        return {request["port"] for request in self.requests}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=["HTTP/1.1"])
def receiver(request: pytest.FixtureRequest, settings: Any) -> Iterator[Receiver]:
    settings.PSIRT_WEBHOOK_ALLOW_PRIVATE = True
    r = Receiver(request.param)
    yield r
    r.close()


def hooks(lead: Any, receiver: Receiver, count: int) -> dict[str, str]:
    """`count` webhooks to the receiver; {path: secret}."""
    secrets = {}
    for n in range(count):
        _hook, secret = register_webhook(name=f"SIEM {n}", url=receiver.url(n), actor=lead)
        secrets[f"/hook/{n}"] = secret
    return secrets


def publish_and_drain() -> int:
    """Queue the advisory's deliveries (not sent yet: no task runs them), then one worker's drain."""
    notify_advisory(advisory=make_notice(), revision=1, significant=True, actor=None)
    return outbox.drain()


def test_a_batch_to_one_receiver_goes_over_one_kept_connection_each_delivery_signed_with_its_own_secret(
    receiver: Receiver, lead: Any, catalog: Any
) -> None:
    secrets = hooks(lead, receiver, 5)
    assert publish_and_drain() == 5
    assert len(receiver.requests) == 5 and len(receiver.ports) == 1
    for request, path in zip(receiver.requests, sorted(secrets), strict=False):
        assert webhooks.verify_signature(secrets[path], request["headers"]["X-PSIRT-Signature"], request["body"])
    assert {request["headers"]["X-PSIRT-Delivery"] for request in receiver.requests} == {
        str(d.public_id) for d in Delivery.objects.all()
    }
    assert set(Delivery.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


@pytest.mark.parametrize("receiver", ["HTTP/1.0"], indirect=True)
def test_a_receiver_that_closes_its_connections_gets_a_new_one_per_delivery(
    receiver: Receiver, lead: Any, catalog: Any
) -> None:
    hooks(lead, receiver, 3)
    assert publish_and_drain() == 3
    assert len(receiver.requests) == 3 and len(receiver.ports) == 3


def test_a_kept_connection_the_receiver_closed_is_opened_again_and_the_delivery_goes_once(
    receiver: Receiver, lead: Any, catalog: Any
) -> None:
    hooks(lead, receiver, 3)
    receiver.drop_after_answer = True
    assert publish_and_drain() == 3
    assert len(receiver.requests) == 3 and len(receiver.ports) == 3  # each delivered once, each over a new one
    assert set(Delivery.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_a_kept_connection_is_tried_again_once_and_forgotten_when_the_receiver_is_gone(receiver: Receiver) -> None:
    kept = outbox.KeptConnections()
    try:
        receiver.drop_after_answer = True
        assert webhooks.post(receiver.url(), b"{}", {}, kept=kept) == 204
        assert len(kept) == 1  # the answer said nothing of closing
        receiver.server.shutdown()
        receiver.server.server_close()  # nobody listens any more: the new connection is refused
        with pytest.raises(webhooks.WebhookError, match="ConnectionRefusedError"):
            webhooks.post(receiver.url(), b"{}", {}, kept=kept)
        assert len(kept) == 0
    finally:
        kept.close()


def test_the_batchs_webhooks_are_read_in_one_query(receiver: Receiver, lead: Any, catalog: Any) -> None:
    hooks(lead, receiver, 4)
    notify_advisory(advisory=make_notice(), revision=1, significant=True, actor=None)
    table = Webhook._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        assert outbox.drain() == 4
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT") and f'"{table}"' in q["sql"]]
    assert len(reads) == 1


def test_a_webhook_switched_off_before_its_batch_is_not_delivered(receiver: Receiver, lead: Any, catalog: Any) -> None:
    hooks(lead, receiver, 2)
    notify_advisory(advisory=make_notice(), revision=1, significant=True, actor=None)
    Webhook.objects.filter(url=receiver.url(1)).update(active=False)
    assert outbox.drain() == 1
    assert [json.loads(r["body"])["delivery"] for r in receiver.requests] == [
        str(d.public_id) for d in Delivery.objects.filter(status=OutboxStatus.SENT)
    ]
    assert Delivery.objects.filter(status=OutboxStatus.CANCELLED).count() == 1


def test_a_kept_connection_sends_each_request_without_waiting_for_acknowledgments(receiver: Receiver) -> None:
    import socket

    kept = outbox.KeptConnections()
    try:
        assert webhooks.post(receiver.url(), b"{}", {}, kept=kept) == 204
        conn = kept.get(("webhook", "http", "127.0.0.1", receiver.port))
        # Nagle's algorithm off: the body written after the head does not wait for the head's acknowledgment.
        assert conn.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert webhooks.post(receiver.url(), b"{}", {}, kept=kept) == 204
        assert len(receiver.ports) == 1
    finally:
        kept.close()
