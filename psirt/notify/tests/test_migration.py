"""The upgrade to the one outbox carries the rows of both old tables: mail waiting for its first try or a
retry is still sent, a fan-out's sent rows still stop a second fan-out of the same revision."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

OLD = ("notify", "0003_delivery_claim_token")
BEFORE = [OLD, ("mail", None)]
AFTER = [("notify", "0004_one_outbox"), ("mail", "0001_outbox")]


@pytest.mark.django_db(transaction=True)
def test_rows_in_flight_and_history_are_carried_into_the_outbox() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(OLD).apps
    OutboxMail = old.get_model("notify", "OutboxMail")
    Delivery = old.get_model("notify", "Delivery")
    now = timezone.now()
    first_try = OutboxMail.objects.create(template="intake/mail/ack", to=json.dumps(["a@x.test"]), context="{}")
    retrying = OutboxMail.objects.create(
        template="intake/mail/ack", to=json.dumps(["b@x.test"]), attempts=2, send_after=now + dt.timedelta(minutes=4)
    )
    OutboxMail.objects.create(template="intake/mail/ack", to="[]", status="failed", attempts=8)
    notice = {"id": "VT-SA-2026-001", "title_en": "Overflow"}
    common = {"event": "advisory.published", "advisory_ref": "VT-SA-2026-001", "revision": 1, "notice": notice}
    queued = Delivery.objects.create(kind="subscriber", recipient_key="s1", **common)
    Delivery.objects.create(kind="subscriber", recipient_key="s2", status="sent", sent_at=now, **common)
    Delivery.objects.create(kind="webhook", recipient_key="w1", status="sending", claimed_at=now, **common)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    rows = {row.public_id: row for row in new.get_model("mail", "OutboxMessage").objects.all()}
    assert len(rows) == 6
    carried = rows[first_try.public_id]
    assert (carried.kind, carried.status, json.loads(carried.to)) == ("mail", "queued", ["a@x.test"])
    again = rows[retrying.public_id]
    assert (again.status, again.attempts, again.next_attempt_at) == ("failed", 2, retrying.send_after)
    assert sorted(r.status for r in rows.values() if r.kind == "mail") == ["failed", "gave_up", "queued"]
    delivery = rows[queued.public_id]
    assert (delivery.reference, delivery.revision, delivery.status) == ("VT-SA-2026-001", 1, "queued")
    assert json.loads(delivery.context) == notice
    assert sorted(r.status for r in rows.values() if r.kind != "mail") == ["queued", "queued", "sent"]
