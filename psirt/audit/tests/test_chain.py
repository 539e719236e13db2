"""The hash chain: intact after appends, and `psirt audit verify` names the first edited or missing event."""

from __future__ import annotations

import io
import itertools
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from psirt.audit.models import AuditEvent, AuditHead
from psirt.audit.services import record, verify_chain


def _append(n: int) -> list[AuditEvent]:
    return [record(action="test.event", data={"n": i}) for i in range(n)]


def _verify() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("audit", "verify", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_appended_events_form_an_intact_chain(handler):
    events = _append(5)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    report = verify_chain()
    assert report.ok and report.checked == 5


@pytest.mark.django_db
def test_verify_command_reports_ok_with_count():
    _append(3)
    out, _ = _verify()
    head = AuditEvent.objects.get(seq=3).hash
    assert out.splitlines() == ["OK: 3 events, chain intact", f"head: #3 {head}"]


@pytest.mark.django_db
def test_empty_log_verifies():
    out, _ = _verify()
    assert out.splitlines() == ["OK: 0 events, chain intact", f"head: #0 {'0' * 64}"]


@pytest.mark.django_db
def test_edited_data_is_detected_and_named_by_seq():
    _append(5)
    # Edit the stored row directly, as someone with database access would.
    AuditEvent.objects.filter(seq=3).update(data={"n": 999})
    with pytest.raises(CommandError) as excinfo:
        _verify()
    assert excinfo.value.returncode == 1
    assert "#3" in str(excinfo.value)
    assert "altered" in str(excinfo.value)


@pytest.mark.django_db
def test_edited_actor_label_is_detected():
    _append(4)
    AuditEvent.objects.filter(seq=2).update(actor_label="someone-else@example.com")
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == 2


@pytest.mark.django_db
def test_rehashed_edit_still_breaks_the_next_link():
    """Someone holding the key who recomputes only the edited row's hash still breaks the following event's link."""
    from psirt.audit.services import audit_keys, compute_hash

    _append(4)
    event = AuditEvent.objects.get(seq=2)
    event.data = {"n": 42}
    key = dict(audit_keys())[event.key_id]
    AuditEvent.objects.filter(seq=2).update(data=event.data, hash=compute_hash(event.prev_hash, event, key))
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == 3


@pytest.mark.django_db
def test_deleted_middle_row_is_reported():
    _append(5)
    AuditEvent.objects.filter(seq=3).delete()
    with pytest.raises(CommandError) as excinfo:
        _verify()
    assert "#3" in str(excinfo.value)
    assert "missing" in str(excinfo.value)


@pytest.mark.django_db
def test_deleted_last_row_is_reported_as_truncation():
    _append(4)
    AuditEvent.objects.filter(seq=4).delete()
    report = verify_chain()
    assert not report.ok
    assert report.first_bad_seq == 4


@pytest.mark.django_db
def test_record_describes_target_by_public_identifier(handler):
    event = record(action="test.target", target=handler)
    assert event.target_type == "accounts.user"
    assert event.target_id == str(handler.public_id)


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_the_chain_valid():
    """Several threads (own connections) append at once; the head-row lock serialises them on PostgreSQL."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises writers by locking the whole file")
    errors: list[BaseException] = []
    per_thread, threads = 15, 6

    def worker(t: int) -> None:
        try:
            for i in range(per_thread):
                record(action="test.concurrent", data={"t": t, "i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(timeout=60)
    assert not errors
    report = verify_chain()
    assert report.ok, report.problem
    assert report.checked == per_thread * threads
    assert AuditHead.objects.get(id=1).seq == per_thread * threads


@pytest.mark.django_db
def test_a_person_with_history_cannot_be_deleted_behind_the_chains_back(handler):
    """The actor id is hashed; deleting the user (which would null it) is refused: deactivate instead."""
    from django.db.models import ProtectedError

    record(action="test.event", actor=handler)
    with pytest.raises(ProtectedError):
        handler.delete()
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_while_the_head_is_locked_an_append_reads_it_once_and_writes_once(handler):
    """Every writer of the log waits while the head is locked: the append holds it for one statement that
    reads it and (PostgreSQL) one that writes the event and the new head together, then COMMIT."""
    from django.test.utils import CaptureQueriesContext

    record(action="test.first")  # the head row exists
    with CaptureQueriesContext(connection) as queries:
        event = record(action="test.locked", actor=handler, data={"n": 1, "text": "é"})
    sql = [q["sql"] for q in queries.captured_queries]
    locked = next(i for i, text in enumerate(sql) if "audit_audithead" in text and text.startswith("SELECT"))
    after = sql[locked + 1 :]
    assert not [text for text in sql if text.upper().startswith("SAVEPOINT")]
    assert not [text for text in after if text.upper().startswith("SELECT")], after  # the head is read once
    if connection.vendor == "postgresql":
        assert len(after) == 2 and after[1].upper().startswith("COMMIT"), after
        assert "audit_audithead" in after[0] and "audit_auditevent" in after[0]
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.seq, stored.hash, stored.prev_hash, stored.at) == (event.seq, event.hash, event.prev_hash, event.at)
    assert (stored.actor_id, stored.data, stored.action) == (handler.pk, {"n": 1, "text": "é"}, "test.locked")
    assert AuditHead.objects.get(id=1).seq == event.seq
    assert verify_chain().ok


def _other_at(event: AuditEvent):
    import datetime as dt

    return event.at + dt.timedelta(seconds=1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "column",
    ["at", "actor_id", "actor_label", "action", "target_type", "target_id", "ip", "data"],
)
def test_every_recorded_field_is_covered_by_the_hash(handler, column: str):
    from psirt.audit.services import ChainReport

    events = _append(3)
    value = {
        "at": _other_at(events[1]),
        "actor_id": handler.pk,
        "actor_label": "x",
        "action": "test.other",
        "target_type": "x",
        "target_id": "x",
        "ip": "10.0.0.9",
        "data": {"n": -1},
    }[column]
    AuditEvent.objects.filter(seq=2).update(**{column: value})
    assert verify_chain() == ChainReport(False, 1, 2, "event #2 was altered after it was written", events[0].hash)


@pytest.mark.django_db
def test_verify_reports_what_is_wrong_how_far_it_checked_and_the_last_good_hash():
    from psirt.audit.services import GENESIS, ChainReport

    events = _append(5)
    assert events[0].prev_hash == GENESIS
    assert verify_chain(batch=2) == ChainReport(True, 5, head_hash=events[-1].hash)
    AuditEvent.objects.filter(seq=3).update(prev_hash=events[0].hash)
    assert verify_chain() == ChainReport(False, 2, 3, "event #3 does not link to the previous one", events[1].hash)
    AuditEvent.objects.filter(seq=3).delete()
    assert verify_chain() == ChainReport(False, 2, 3, "event #3 is missing (deleted?)", events[1].hash)


@pytest.mark.django_db
def test_a_head_that_does_not_match_the_last_event_is_reported_as_truncation():
    from psirt.audit.services import ChainReport

    events = _append(3)
    AuditHead.objects.filter(id=1).update(hash="f" * 64)  # the right count, another hash
    assert verify_chain().problem == "events after #3 are missing (truncated log)"
    AuditHead.objects.filter(id=1).update(hash=events[2].hash)
    AuditEvent.objects.filter(seq=3).delete()
    assert verify_chain() == ChainReport(False, 2, 3, "events after #2 are missing (truncated log)", events[1].hash)


@pytest.mark.django_db
def test_record_takes_the_actor_and_address_from_the_request(rf, handler):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/", REMOTE_ADDR="192.0.2.7")
    request.user = handler
    event = record(action="test.request", request=request)
    assert (event.actor_id, event.actor_label, event.ip) == (handler.pk, handler.email, "192.0.2.7")
    request.user = AnonymousUser()
    event = record(action="test.request", request=request)
    assert (event.actor_id, event.actor_label, event.ip, event.data) == (None, "", "192.0.2.7", {})
    assert record(action="test.none").ip is None
    assert verify_chain().ok


@pytest.mark.django_db
def test_record_bounds_and_explicit_target_descriptions(handler):
    event = record(action="test.target", target=handler, target_type="t" * 100, target_id="i" * 100)
    assert (event.target_type, event.target_id) == ("t" * 80, "i" * 80)
    stored = AuditEvent.objects.get(seq=event.seq)
    assert (stored.target_type, stored.target_id, stored.actor_id) == ("t" * 80, "i" * 80, None)
    assert verify_chain().ok


def test_an_events_hash_is_the_same_bytes_under_the_same_key_as_ever():
    """Events already stored must keep verifying: the canonical form (keys sorted, no spaces, text as it is) and
    the HMAC-SHA256 over it are pinned to a value worked out once, not to the code that computes them."""
    import datetime as dt

    from psirt.audit.services import _canonical, compute_hash

    event = AuditEvent(
        seq=7,
        at=dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC),
        actor_id=3,
        actor_label="lead@example.com",
        action="report.submitted",
        target_type="intake.report",
        target_id="VR-2026-0007",
        ip="2001:db8::1",
        data={"files": 2, "source": "web", "note": "café 漏洞", "nested": {"b": [1, None, True], "a": 1.5}},
        key_id="0123456789abcdef",
    )
    assert (
        _canonical(event)
        == (
            '{"action":"report.submitted","actor":3,"actor_label":"lead@example.com",'
            '"at":"2026-03-04T05:06:07.890123+00:00","data":{"files":2,"nested":{"a":1.5,"b":[1,null,true]},'
            '"note":"café 漏洞","source":"web"},"ip":"2001:db8::1","key_id":"0123456789abcdef","seq":7,'
            '"target_id":"VR-2026-0007","target_type":"intake.report"}'
        ).encode()
    )
    assert (
        compute_hash("ab" * 32, event, b"k" * 32) == "3ec09845262526020bca7d63f4b6d6ddaeddc34ea34d57b5740d32e656092d83"
    )


@pytest.mark.django_db
def test_record_puts_each_value_in_its_own_field(handler, rf):
    """The event is made from positional values in the model's field order: each lands in its field."""
    from psirt.audit.services import audit_keys

    request = rf.get("/", REMOTE_ADDR="192.0.2.8")
    request.user = handler
    event = record(action="test.fields", request=request, target_type="tt", target_id="ti", data={"k": "v"})
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.pk == event.pk and stored.seq == event.seq >= 1
    assert (stored.actor_id, stored.actor_label, stored.action) == (handler.pk, handler.email, "test.fields")
    assert (stored.target_type, stored.target_id, stored.ip, stored.data) == ("tt", "ti", "192.0.2.8", {"k": "v"})
    assert (stored.key_id, stored.prev_hash, stored.hash) == (audit_keys()[0][0], event.prev_hash, event.hash)
    assert stored.at == event.at and event.at is not None
