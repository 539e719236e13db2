"""A worker whose claim went stale must not overwrite the outcome of the worker that sent the row since."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from psirt.mail import services
from psirt.mail.models import OutboxMessage, OutboxStatus
from psirt.mail.services import STALE_CLAIM, claim_batch, drain, release_stale_claims, send_batch
from psirt.mail.tests.test_smtp_batch import Server, queue, server  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def test_a_stale_workers_failure_does_not_reopen_a_row_another_worker_sent(server: Server) -> None:  # noqa: F811
    queue(1)
    server.delivered.clear()
    stale = claim_batch()  # worker A claims the row, then stalls past the stale limit
    assert release_stale_claims(now=timezone.now() + STALE_CLAIM + dt.timedelta(seconds=1)) == 1
    assert drain() == 1  # worker B sends it
    assert server.recipients == ["r0@research.test"]
    # A wakes up; its own attempt fails before any hand-over (here: the server refuses the address now).
    server.refuse = {"r0@research.test"}
    connection = services.open_connection()
    try:
        send_batch(stale, connection)
    finally:
        connection.close()
    row = OutboxMessage.objects.get()
    assert row.status == OutboxStatus.SENT, f"the sent row became {row.status}"
    server.refuse = set()
    drain(now=timezone.now() + dt.timedelta(hours=1))
    assert server.recipients == ["r0@research.test"]  # exactly once
