"""A queued mail wakes one drain task per burst, and never misses its wake-up."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from psirt.mail import services, tasks
from psirt.mail.models import OutboxMessage, OutboxStatus
from psirt.mail.services import drain, send_mail_bilingual


@pytest.fixture
def database_queue(settings: Any) -> Iterator[None]:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert services.transactional_queue()
    yield


def queue_mail(n: int = 0) -> OutboxMessage:
    with transaction.atomic():
        return send_mail_bilingual(to=[f"r{n}@research.test"], template="intake/mail/new_link", context={})


def task_rows(path: str, status: str = "READY") -> int:
    return DBTaskResult.objects.filter(task_path=path, status=status).count()


def test_the_drain_task_looked_for_is_the_one_queued() -> None:
    assert tasks.drain_outbox.module_path == services._DRAIN_TASK


@pytest.mark.django_db
def test_a_burst_of_mails_queues_one_drain_task_and_it_sends_each_once(database_queue: None) -> None:
    rows = [queue_mail(n) for n in range(5)]
    assert task_rows(services._DRAIN_TASK) == 1
    assert task_rows(tasks.send_message.module_path) == 0
    assert drain() == 5
    assert sorted(m.to[0] for m in mail.outbox) == [f"r{n}@research.test" for n in range(5)]
    assert all(OutboxMessage.objects.get(pk=r.pk).status == OutboxStatus.SENT for r in rows)


@pytest.mark.django_db
def test_on_postgresql_a_mail_and_the_look_for_a_pending_drain_are_one_statement(database_queue: None) -> None:
    queue_mail(0)
    with CaptureQueriesContext(connection) as queries:
        row = queue_mail(1)
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2)
    assert "mail_outboxmessage" in statements[0]
    assert row.pk and OutboxMessage.objects.get(pk=row.pk).status == OutboxStatus.QUEUED
    assert task_rows(services._DRAIN_TASK) == 1


@pytest.mark.django_db
def test_a_drain_task_that_has_started_does_not_count(database_queue: None) -> None:
    queue_mail(0)
    DBTaskResult.objects.filter(task_path=services._DRAIN_TASK).update(status="RUNNING")
    queue_mail(1)
    assert task_rows(services._DRAIN_TASK) == 1
    assert task_rows(services._DRAIN_TASK, "RUNNING") == 1
    DBTaskResult.objects.filter(task_path=services._DRAIN_TASK).update(status="SUCCESSFUL")
    queue_mail(2)
    assert task_rows(services._DRAIN_TASK) == 1


@pytest.mark.django_db
def test_a_mail_rolled_back_leaves_no_task(database_queue: None) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        send_mail_bilingual(to=["r@research.test"], template="intake/mail/new_link", context={})
        raise RuntimeError
    assert DBTaskResult.objects.count() == 0 and OutboxMessage.objects.count() == 0


def in_thread(work: Any) -> threading.Thread:
    def run() -> None:
        try:
            work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks on PostgreSQL only")


@postgresql
@pytest.mark.django_db(transaction=True)
def test_postgresql_a_worker_cannot_start_the_pending_drain_before_the_mail_commits(database_queue: None) -> None:
    """Else it could look for due rows before the mail is visible and finish without sending it."""
    queue_mail(0)
    assert task_rows(services._DRAIN_TASK) == 1
    queued, release = threading.Event(), threading.Event()

    def submitter() -> None:
        with transaction.atomic():
            send_mail_bilingual(to=["late@research.test"], template="intake/mail/new_link", context={})
            queued.set()
            release.wait(10)

    thread = in_thread(submitter)
    try:
        assert queued.wait(10)
        assert task_rows(services._DRAIN_TASK) == 1  # no second task: the pending one will see the mail
        with transaction.atomic():
            assert DBTaskResult.objects.ready().get_locked() is None  # the worker skips it for now
    finally:
        release.set()
        thread.join()
    with transaction.atomic():
        started = DBTaskResult.objects.ready().get_locked()
        assert started is not None and started.task_path == services._DRAIN_TASK
    assert drain() == 2


@postgresql
@pytest.mark.django_db(transaction=True)
def test_postgresql_a_drain_a_worker_is_starting_does_not_count(database_queue: None) -> None:
    queue_mail(0)
    locked, release = threading.Event(), threading.Event()

    def worker() -> None:
        with transaction.atomic():
            assert DBTaskResult.objects.ready().get_locked() is not None
            locked.set()
            release.wait(10)

    thread = in_thread(worker)
    try:
        assert locked.wait(10)
        queue_mail(1)
        assert task_rows(services._DRAIN_TASK) == 2
    finally:
        release.set()
        thread.join()


@pytest.mark.django_db
def test_a_drain_task_due_later_does_not_count(database_queue: None) -> None:
    later = timezone.now() + dt.timedelta(hours=1)
    tasks.drain_outbox.using(run_after=later).enqueue()
    queue_mail(0)
    assert task_rows(services._DRAIN_TASK) == 2
    queue_mail(1)
    assert task_rows(services._DRAIN_TASK) == 2  # the one due now is the one that counts
