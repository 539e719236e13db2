"""What the audit log says about who did what to which object, what its verifier and checkpoints report when
something is wrong (each figure and sentence an operator reads), and where checkpoints are written."""

from __future__ import annotations

import json
import stat
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, transaction
from django.db.transaction import TransactionManagementError
from django.http import Http404
from django.test import RequestFactory

from psirt.audit import services
from psirt.audit.models import AuditEvent
from psirt.audit.services import (
    AuditChainBroken,
    AuditKeyMissing,
    ChainReport,
    Checkpoint,
    CheckpointReport,
    audit_keys,
    deny_access,
    record,
    verify_chain,
    verify_checkpoints,
    write_checkpoint,
)
from psirt.lib.signing import signing_key

pytestmark = pytest.mark.django_db


def _append(n: int) -> list[AuditEvent]:
    return [record(action="test.event", data={"n": i}) for i in range(n)]


def _target(**attributes: Any) -> Any:
    return SimpleNamespace(_meta=SimpleNamespace(label_lower="tests.thing"), **attributes)


# --- who, which object ---------------------------------------------------------------------------------------------


def test_a_refused_access_is_recorded_with_who_tried_which_object_and_answers_404(rf: RequestFactory, handler: Any):
    request = rf.get("/", REMOTE_ADDR="192.0.2.30")
    with pytest.raises(Http404):
        deny_access(user=handler, target=handler, request=request)
    handler.is_active = False
    with pytest.raises(Http404):
        deny_access(user=handler, target=handler)
    with pytest.raises(Http404):
        deny_access(user=AnonymousUser(), target=handler)
    events = list(
        AuditEvent.objects.order_by("seq").values_list("action", "actor_id", "target_type", "target_id", "ip")
    )
    refused = ("user.access_denied", handler.pk, "accounts.user", str(handler.public_id), "192.0.2.30")
    assert events[0] == refused
    # A deactivated account and the anonymous user are nobody: the event names no actor.
    assert events[1:] == [(*refused[:1], None, *refused[2:4], None)] * 2
    assert verify_chain().ok


@pytest.mark.parametrize(
    ("attributes", "described"),
    [
        ({"public_id": "PSIRT-2026-0001", "tracking_id": "T", "slug": "s", "key_id": "k", "pk": 5}, "PSIRT-2026-0001"),
        ({"tracking_id": "PSIRT-R-2026-0002", "slug": "s", "key_id": "k", "pk": 5}, "PSIRT-R-2026-0002"),
        ({"public_id": "", "slug": "router-x1", "key_id": "k", "pk": 5}, "router-x1"),
        ({"key_id": "0123456789abcdef", "pk": 5}, "0123456789abcdef"),
        ({"pk": 5}, "5"),
    ],
)
def test_a_target_is_described_by_the_first_public_identifier_it_has(attributes: dict[str, Any], described: str):
    event = record(action="test.target", target=_target(**attributes))
    assert (event.target_type, event.target_id) == ("tests.thing", described)


def test_the_actor_given_is_the_one_recorded_whoever_is_signed_in(rf: RequestFactory, handler: Any, lead: Any):
    request = rf.get("/", REMOTE_ADDR="192.0.2.31")
    request.user = lead
    event = record(action="test.actor", actor=handler, request=request)
    assert (event.actor_id, event.actor_label, event.ip) == (handler.pk, handler.email, "192.0.2.31")
    # A request that carries no user (a task, a command) records no actor.
    assert record(action="test.actor", request=rf.get("/")).actor_id is None


@pytest.mark.parametrize(
    ("actor", "label"),
    [
        (SimpleNamespace(pk=None, email=""), "namespace(pk=None, email='')"),
        (SimpleNamespace(pk=None), "namespace(pk=None)"),
        (SimpleNamespace(pk=None, email="x" * 300), "x" * 254),
    ],
)
def test_an_actor_is_labelled_by_its_e_mail_else_its_name_within_254_characters(actor: Any, label: str):
    assert record(action="test.label", actor=actor).actor_label == label


def test_an_entry_that_cannot_be_written_fails_the_callers_transaction(monkeypatch: pytest.MonkeyPatch, handler: Any):
    """The entry belongs to the change it describes: a caller that catches the failure cannot commit the change
    without it."""

    def fails(*args: Any) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(services, "_append", fails)
    with transaction.atomic():
        handler.first_name = "Changed"
        handler.save()
        with pytest.raises(DatabaseError):
            record(action="test.failed", target=handler)
        with pytest.raises(TransactionManagementError):
            handler.save()
        transaction.set_rollback(True)


def test_without_the_audit_key_setting_nothing_can_be_written(settings: Any):
    del settings.PSIRT_AUDIT_KEYS
    with pytest.raises(AuditKeyMissing) as missing:
        audit_keys()
    assert missing.value.message == (
        "PSIRT_AUDIT_KEYS is not set: the audit log cannot be written or verified without its key."
    )


# --- what the verifier reports -------------------------------------------------------------------------------------


def test_an_event_under_an_unknown_key_is_reported_with_how_far_the_chain_held():
    events = _append(3)
    AuditEvent.objects.filter(seq=2).update(key_id="0123456789abcdef")
    assert verify_chain() == ChainReport(
        False,
        1,
        2,
        "event #2 names audit key '0123456789abcdef', which PSIRT_AUDIT_KEYS does not hold (an old key removed too "
        "early, or a forged event)",
        events[0].hash,
    )


# --- checkpoints ---------------------------------------------------------------------------------------------------


def test_a_checkpoint_is_written_in_a_private_folder_made_with_its_parents_and_readable_by_the_verifier(
    monkeypatch: pytest.MonkeyPatch, checkpoints: Path
):
    _append(2)
    folder = checkpoints / "a" / "b"
    # Written and renamed inside its own folder: a service without a writable temporary folder still checkpoints.
    monkeypatch.setattr(tempfile, "tempdir", str(checkpoints / "no-temporary-folder"))
    checkpoint = write_checkpoint(directory=folder)
    assert checkpoint is not None and checkpoint.path.parent == folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(checkpoint.path.stat().st_mode) == 0o644
    assert [p.name for p in folder.iterdir()] == [checkpoint.path.name]  # no temporary left behind


def test_a_broken_chain_is_never_checkpointed_and_the_refusal_names_the_event(checkpoints: Path):
    _append(3)
    AuditEvent.objects.filter(seq=2).update(data={"n": "edited"})
    with pytest.raises(AuditChainBroken) as refused:
        write_checkpoint()
    assert str(refused.value) == "The audit log is broken at event #2: no checkpoint is signed for it."


def test_a_damaged_existing_checkpoint_is_left_as_it_is_and_the_head_is_answered(checkpoints: Path):
    events = _append(2)
    first = write_checkpoint()
    assert first is not None
    first.path.write_text("damaged", encoding="utf-8")
    assert write_checkpoint() == Checkpoint(2, events[1].hash, "", first.path)
    assert first.path.read_text(encoding="utf-8") == "damaged"


def _signed(folder: Path, name: str, content: dict[str, Any]) -> None:
    (folder / name).write_text(signing_key().clear_sign(json.dumps(content) + "\n"), encoding="utf-8")


@pytest.mark.parametrize(
    "changed",
    [{"type": "another-signed-statement"}, {"seq": 0}, {"seq": 2.0}, {"seq": True}, {"hash": 5}, {"at": 5}],
)
def test_a_signed_text_is_a_checkpoint_only_with_its_type_a_positive_whole_seq_and_text_fields(
    checkpoints: Path, changed: dict[str, Any]
):
    events = _append(2)
    write_checkpoint()
    content = {"type": "psirt-audit-checkpoint", "seq": 2, "hash": events[1].hash, "at": "2026-05-06T12:00:00"}
    _signed(checkpoints, "zz.asc", content | changed)
    assert verify_checkpoints(directory=checkpoints) == CheckpointReport(
        False, 1, 2, "checkpoint zz.asc is signed but is not an audit checkpoint"
    )


def test_a_checkpoint_of_exactly_the_largest_size_is_read(checkpoints: Path):
    events = _append(1)
    content: dict[str, Any] = {"type": "psirt-audit-checkpoint", "seq": 1, "hash": events[0].hash, "at": "x", "pad": ""}
    path = checkpoints / "big.asc"
    checkpoints.mkdir(parents=True)
    for _ in range(4):  # the signature's length varies by a few bytes: pad until the file is exactly the largest
        _signed(checkpoints, "big.asc", content)
        content["pad"] += " " * (services.MAX_CHECKPOINT_BYTES - path.stat().st_size)
    assert path.stat().st_size == services.MAX_CHECKPOINT_BYTES
    assert verify_checkpoints(directory=checkpoints) == CheckpointReport(True, 1, 1)


def test_verify_checkpoints_reports_how_many_held_and_the_latest_before_the_first_that_fails(
    checkpoints: Path, tmp_path: Path
):
    events = _append(3)
    assert verify_checkpoints(directory=tmp_path / "nowhere") == CheckpointReport(
        False, 0, problem=f"the checkpoint folder {tmp_path / 'nowhere'} cannot be read (No such file or directory)"
    )
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not a checkpoint", encoding="utf-8")
    assert verify_checkpoints(directory=tmp_path / "empty") == CheckpointReport(
        False, 0, problem=f"no checkpoint (*.asc) in {tmp_path / 'empty'}"
    )
    _signed(checkpoints.parent, "bad.asc", {"seq": 1})
    checkpoints.mkdir()
    (checkpoints.parent / "bad.asc").rename(checkpoints / "audit-checkpoint-000000000000.asc")
    assert verify_checkpoints(directory=checkpoints) == CheckpointReport(
        False, 0, 0, "checkpoint audit-checkpoint-000000000000.asc is signed but is not an audit checkpoint"
    )
    (checkpoints / "audit-checkpoint-000000000000.asc").unlink()

    first = write_checkpoint()
    assert first is not None
    (checkpoints / "notes.txt").write_text("a stray file beside the checkpoints is not one", encoding="utf-8")
    record(action="test.event")
    second = write_checkpoint()
    assert second is not None
    assert verify_checkpoints(directory=checkpoints) == CheckpointReport(True, 2, 4)

    AuditEvent.objects.filter(seq=4).update(hash="e" * 64)
    assert verify_checkpoints(directory=checkpoints) == CheckpointReport(
        False,
        1,
        3,
        f"event #4 no longer has the hash checkpointed at {second.at} in {second.path.name} (it or an earlier event "
        "was rewritten)",
    )
    AuditEvent.objects.filter(seq=4).delete()
    assert verify_checkpoints(directory=checkpoints) == CheckpointReport(
        False,
        1,
        3,
        f"event #4, checkpointed at {second.at} in {second.path.name}, is missing (events deleted or the log "
        "truncated)",
    )
    assert events[2].hash == first.hash
