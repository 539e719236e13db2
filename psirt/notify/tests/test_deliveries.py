"""The notification outbox: one mail per delivery whatever the duplicates, retries with backoff, visible
give-up, a lead's retry — read from a real SMTP server."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from psirt.mail import services as deliveries
from psirt.mail.models import OutboxStatus as DeliveryStatus
from psirt.mail.tasks import send_message
from psirt.notify.models import Delivery
from psirt.notify.services import notify_advisory

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_duplicated_task_sends_one_mail(smtp_server, subscriber, notice, django_capture_on_commit_callbacks):
    subscriber("ada@example.test", products=("cam-1",))
    with django_capture_on_commit_callbacks(execute=False):
        assert notify_advisory(advisory=notice, revision=1, significant=True, actor=None) == 1
    delivery = Delivery.objects.get()
    first = send_message.enqueue(message_id=delivery.pk)
    second = send_message.enqueue(message_id=delivery.pk)
    assert (first.return_value, second.return_value) == ("sent", "not due")
    assert len(smtp_server.wait_for(1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.sent_at is not None


def test_second_fan_out_of_the_same_revision_adds_nothing(
    smtp_server, subscriber, notice, django_capture_on_commit_callbacks
):
    subscriber("ada@example.test", products=("cam-1",))
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            notify_advisory(advisory=notice, revision=1, significant=True, actor=None)
    assert Delivery.objects.count() == 1
    assert len(smtp_server.wait_for(1)) == 1


def test_smtp_failure_is_retried_with_backoff_then_sent(
    smtp_server, settings, subscriber, notice, django_capture_on_commit_callbacks
):
    subscriber("ada@example.test", products=("cam-1",))
    settings.EMAIL_PORT = closed_port()
    with django_capture_on_commit_callbacks(execute=True):
        notify_advisory(advisory=notice, revision=1, significant=True, actor=None)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert delivery.last_error == "ConnectionRefusedError"
    assert delivery.next_attempt_at > timezone.now() + dt.timedelta(seconds=50)
    # Not due yet: a sweep now sends nothing.
    assert deliveries.drain() == 0
    # The second failure waits twice as long.
    assert deliveries.drain(now=delivery.next_attempt_at) == 0
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.next_attempt_at > timezone.now() + dt.timedelta(seconds=110)
    settings.EMAIL_PORT = smtp_server.port
    assert deliveries.drain(now=delivery.next_attempt_at) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.last_error == ""
    assert len(smtp_server.wait_for(1)) == 1


def test_gave_up_delivery_shows_on_the_desk_and_a_lead_retries_it(
    smtp_server, settings, subscriber, notice, as_lead, as_handler, django_capture_on_commit_callbacks
):
    subscriber("ada@example.test", products=("cam-1",))
    settings.EMAIL_PORT = closed_port()
    with django_capture_on_commit_callbacks(execute=False):
        notify_advisory(advisory=notice, revision=1, significant=True, actor=None)
    Delivery.objects.update(give_up_at=timezone.now() - dt.timedelta(seconds=1))
    deliveries.drain()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.GAVE_UP
    page = as_lead.get("/en/desk/notify/")
    assert page.status_code == 200
    assert "Gave up" in page.content.decode() and "VT-SA-2026-001" in page.content.decode()
    assert "ada@example.test" not in page.content.decode()
    assert as_handler.get("/en/desk/notify/").status_code == 404
    assert as_handler.post(f"/en/desk/notify/deliveries/{delivery.public_id}/retry/").status_code == 404
    settings.EMAIL_PORT = smtp_server.port
    with django_capture_on_commit_callbacks(execute=True):
        response = as_lead.post(f"/en/desk/notify/deliveries/{delivery.public_id}/retry/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert len(smtp_server.wait_for(1)) == 1


def test_claim_of_a_dead_worker_is_released_by_the_sweep(
    smtp_server, subscriber, notice, django_capture_on_commit_callbacks
):
    subscriber("ada@example.test", products=("cam-1",))
    with django_capture_on_commit_callbacks(execute=False):
        notify_advisory(advisory=notice, revision=1, significant=True, actor=None)
    claimed = deliveries.claim()
    assert claimed is not None
    # The worker dies here; nobody else may send while the claim is fresh.
    assert deliveries.sweep() == 0 and deliveries.drain() == 0
    later = timezone.now() + deliveries.STALE_CLAIM + dt.timedelta(seconds=1)
    assert deliveries.sweep(now=later) == 1
    assert Delivery.objects.get().status == DeliveryStatus.SENT
    assert len(smtp_server.wait_for(1)) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_each_delivery_exactly_once(smtp_server, subscriber, notice, monkeypatch):
    if connection.vendor == "sqlite":
        # The test run's SQLite is an in-memory shared-cache database, which fails rather than waits on a lock;
        # SQLite workers race as real processes on a file database in test_worker.py.
        pytest.skip("threads on PostgreSQL only")
    for i in range(24):
        subscriber(f"s{i}@example.test", lines=("cameras",))
    # The fan-out's own drain is kept from running, so the four workers below race for every row.
    monkeypatch.setattr(deliveries, "enqueue_drains", lambda count: None)
    notify_advisory(advisory=notice, revision=1, significant=True, actor=None)
    assert Delivery.objects.count() == 24
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            deliveries.drain()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    smtp_server.wait_for(24)
    received = Counter(to for _f, tos, _d in smtp_server.raw for to in tos)
    assert len(received) == 24 and set(received.values()) == {1}
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_long_drain_hands_the_rest_to_a_new_task(smtp_server, subscriber, notice, django_capture_on_commit_callbacks):
    for i in range(5):
        subscriber(f"s{i}@example.test", products=("cam-1",))
    with django_capture_on_commit_callbacks(execute=False):
        notify_advisory(advisory=notice, revision=1, significant=True, actor=None)
    # The first slice sends two; the task it enqueues (run at once by the test backend) sends the rest.
    assert deliveries.drain(limit=2) == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert len(smtp_server.wait_for(5)) == 5
