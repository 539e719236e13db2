"""Concurrent workers on PostgreSQL pass each other: a claim skips the rows another worker is claiming
instead of waiting for them, and takes them once they are free."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection, transaction

from psirt.mail.models import OutboxMessage
from psirt.mail.services import claim_batch
from psirt.mail.tests.test_smtp_batch import queue


@pytest.mark.django_db(transaction=True)
def test_a_claim_passes_over_rows_another_worker_holds_without_waiting() -> None:
    if connection.vendor == "sqlite":
        # SQLite serialises every claim with its write lock: there is no row lock to pass over.
        pytest.skip("row locks on PostgreSQL only")
    rows = queue(3)
    mail.outbox.clear()
    held = rows[0].pk
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def other_worker() -> None:
        try:
            with transaction.atomic():
                list(OutboxMessage.objects.select_for_update().filter(pk=held))
                holding.set()
                release.wait(30)
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            holding.set()
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert holding.wait(30)
        with connection.cursor() as cursor:
            # A claim that waited on the held row would fail here instead of hanging the test.
            cursor.execute("SET lock_timeout = '3s'")
        try:
            passed = claim_batch()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        assert sorted(m.pk for m in passed) == sorted(m.pk for m in rows[1:])
    finally:
        release.set()
        thread.join(30)
    assert errors == []
    assert [m.pk for m in claim_batch()] == [held]


@pytest.mark.django_db(transaction=True)
def test_a_groups_marks_commit_without_waiting_for_the_disk_and_only_that_transaction() -> None:
    from django.test.utils import CaptureQueriesContext

    from psirt.mail.services import mark_sent

    if connection.vendor == "sqlite":
        pytest.skip("PostgreSQL only")
    queue(3)
    batch = claim_batch()
    with CaptureQueriesContext(connection) as queries:
        assert mark_sent(batch) == {message.pk for message in batch}
    statements = [q["sql"] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    assert statements[0] == "SET LOCAL synchronous_commit TO OFF" and statements[1].startswith("UPDATE")
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"  # for that transaction only
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
