"""The keyed chain and its signed checkpoints: a database administrator who deletes events and recomputes the
chain is caught without the key (HMAC) and, holding the key too, by the checkpoints signed outside the database;
truncation to zero is caught; keys rotate; a forged or edited checkpoint file is refused."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
from pathlib import Path
from typing import Any

import pysequoia
import pytest
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command

from psirt.audit.models import AuditEvent, AuditHead
from psirt.audit.services import (
    GENESIS,
    AuditChainBroken,
    AuditKeyMissing,
    _canonical,
    audit_keys,
    compute_hash,
    key_id,
    record,
    verify_chain,
    verify_checkpoints,
    write_checkpoint,
)
from psirt.audit.tasks import verify_audit_chain
from psirt.lib.config import new_fernet_key
from psirt.lib.signing import signing_key


def _append(n: int, action: str = "test.event") -> list[AuditEvent]:
    return [record(action=action, data={"n": i}) for i in range(n)]


def _verify(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", "verify", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _rewrite_chain(hasher: Any) -> None:
    """What an attacker with database access does: renumber what is left and recompute every link and the head."""
    prev = GENESIS
    events = list(AuditEvent.objects.order_by("seq"))
    AuditEvent.objects.all().delete()
    for seq, event in enumerate(events, start=1):
        event.seq = seq
        event.prev_hash = prev
        event.hash = hasher(prev, event)
        event.save(force_insert=True)
        prev = event.hash
    AuditHead.objects.update_or_create(id=1, defaults={"seq": len(events), "hash": prev})


def _delete_access_denied_rows() -> None:
    _append(3)
    _append(4, action="case.access_denied")
    _append(3)
    deleted, _ = AuditEvent.objects.filter(action="case.access_denied").delete()
    assert deleted == 4


def _unkeyed(prev: str, event: AuditEvent) -> str:
    return hashlib.sha256(prev.encode("ascii") + b"\n" + _canonical(event)).hexdigest()


@pytest.mark.django_db
def test_each_event_names_the_first_key_and_its_hash_is_an_hmac_under_it():
    event = _append(1)[0]
    first_id, first_key = audit_keys()[0]
    assert event.key_id == first_id
    assert event.hash == compute_hash(GENESIS, event, first_key)
    assert event.hash != _unkeyed(GENESIS, event)


@pytest.mark.django_db
def test_deleting_rows_and_recomputing_the_chain_without_the_key_is_detected():
    _delete_access_denied_rows()
    _rewrite_chain(_unkeyed)
    report = verify_chain()
    assert not report.ok
    assert report.first_bad_seq == 1 and "altered" in report.problem
    with pytest.raises(CommandError) as excinfo:
        _verify()
    assert excinfo.value.returncode == 1


@pytest.mark.django_db
def test_recomputing_with_a_guessed_key_under_the_real_key_id_is_detected():
    _delete_access_denied_rows()
    wrong = new_fernet_key().encode("ascii")
    _rewrite_chain(lambda prev, event: compute_hash(prev, event, wrong))
    assert not verify_chain().ok


@pytest.mark.django_db
def test_an_event_naming_an_unknown_key_is_detected():
    _append(3)
    AuditEvent.objects.filter(seq=2).update(key_id="0123456789abcdef")
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == 2
    assert "PSIRT_AUDIT_KEYS does not hold" in report.problem


@pytest.mark.django_db
def test_recompute_with_the_key_is_caught_by_a_checkpoint(checkpoints: Path):
    """The insider who also holds the audit key rewrites a chain that verifies, but not the signed checkpoint."""
    _append(3)
    _append(4, action="case.access_denied")
    _append(3)
    assert write_checkpoint() is not None
    AuditEvent.objects.filter(action="case.access_denied").delete()
    keys = dict(audit_keys())
    _rewrite_chain(lambda prev, event: compute_hash(prev, event, keys[event.key_id]))
    assert verify_chain().ok
    report = verify_checkpoints(directory=checkpoints)
    assert not report.ok
    assert "#10" in report.problem and "missing" in report.problem
    with pytest.raises(CommandError) as excinfo:
        _verify("--checkpoints", str(checkpoints))
    assert excinfo.value.returncode == 1
    assert "BROKEN" in str(excinfo.value)


@pytest.mark.django_db
def test_a_rewritten_event_before_the_checkpoint_changes_the_checkpointed_hash(checkpoints: Path):
    _append(5)
    write_checkpoint()
    _append(2)
    AuditEvent.objects.filter(seq=2).update(data={"n": "edited"})
    keys = dict(audit_keys())
    _rewrite_chain(lambda prev, event: compute_hash(prev, event, keys[event.key_id]))
    assert verify_chain().ok
    report = verify_checkpoints(directory=checkpoints)
    assert not report.ok and "#5 no longer has the hash" in report.problem


@pytest.mark.django_db
def test_truncation_to_zero_is_detected_through_checkpoints(checkpoints: Path):
    _append(6)
    write_checkpoint()
    AuditEvent.objects.all().delete()
    AuditHead.objects.update(seq=0, hash=GENESIS)
    assert verify_chain().ok  # an empty log is self-consistent: only the checkpoint knows better
    with pytest.raises(CommandError) as excinfo:
        _verify("--checkpoints", str(checkpoints))
    assert excinfo.value.returncode == 1
    assert "#6" in str(excinfo.value) and "missing" in str(excinfo.value)


@pytest.mark.django_db
def test_verify_with_checkpoints_prints_the_head_and_the_checkpoints_it_matched(checkpoints: Path):
    _append(2)
    first = write_checkpoint()
    _append(3)
    second = write_checkpoint()
    assert first is not None and second is not None
    assert sorted(p.name for p in checkpoints.iterdir()) == [
        "audit-checkpoint-000000000002.asc",
        "audit-checkpoint-000000000005.asc",
    ]
    out = _verify("--checkpoints", str(checkpoints))
    assert f"head: #5 {second.hash}" in out
    assert "OK: 2 checkpoints match (latest #5)" in out


@pytest.mark.django_db
def test_checkpoint_content_is_the_head_signed_by_the_team_key(checkpoints: Path):
    _append(3)
    checkpoint = write_checkpoint()
    assert checkpoint is not None
    text = checkpoint.path.read_text(encoding="utf-8")
    assert text.startswith("-----BEGIN PGP SIGNED MESSAGE-----")
    body = json.loads(text.split("\n\n", 1)[1].split("-----BEGIN PGP SIGNATURE-----")[0])
    assert body["seq"] == 3
    assert body["hash"] == AuditEvent.objects.get(seq=3).hash == AuditHead.objects.get(id=1).hash
    assert body["signing_key"] == signing_key().fingerprint


@pytest.mark.django_db
def test_an_edited_checkpoint_file_is_refused(checkpoints: Path):
    """Someone who rewrites the log and then edits the checkpoint to match breaks its signature."""
    _append(4)
    checkpoint = write_checkpoint()
    assert checkpoint is not None
    text = checkpoint.path.read_text(encoding="utf-8")
    checkpoint.path.write_text(text.replace(checkpoint.hash, "f" * 64), encoding="utf-8")
    report = verify_checkpoints(directory=checkpoints)
    assert not report.ok and "not validly signed" in report.problem


@pytest.mark.django_db
def test_a_checkpoint_signed_by_another_key_is_refused(checkpoints: Path, tmp_path: Path):
    _append(2)
    checkpoint = write_checkpoint()
    assert checkpoint is not None
    forger = pysequoia.Tsk.generate("Mallory <m@example.com>")
    body = json.dumps({"type": "psirt-audit-checkpoint", "seq": 2, "hash": checkpoint.hash, "at": "x"})
    forged = pysequoia.sign(forger.signer(), body.encode(), mode=pysequoia.SignatureMode.CLEAR).decode()
    checkpoint.path.write_text(forged, encoding="utf-8")
    report = verify_checkpoints(directory=checkpoints)
    assert not report.ok and "not validly signed" in report.problem


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content",
    [
        "",
        "<script>alert(1)</script>",
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n{}\n-----BEGIN PGP SIGNATURE-----\n\n-----END",
        "\udcff".encode("utf-8", "surrogatepass").decode("latin-1"),
    ],
)
def test_garbage_in_the_checkpoint_folder_is_refused_not_crashed_on(checkpoints: Path, content: str):
    _append(1)
    write_checkpoint()
    (checkpoints / "zz-bogus.asc").write_text(content, encoding="latin-1")
    report = verify_checkpoints(directory=checkpoints)
    assert not report.ok and "zz-bogus.asc" in report.problem


@pytest.mark.django_db
def test_an_oversized_checkpoint_is_refused_unread(checkpoints: Path):
    _append(1)
    write_checkpoint()
    (checkpoints / "huge.asc").write_bytes(b"A" * (1024 * 1024))
    report = verify_checkpoints(directory=checkpoints)
    assert not report.ok and "too large" in report.problem


@pytest.mark.django_db
def test_a_validly_signed_text_that_is_not_a_checkpoint_is_refused(checkpoints: Path):
    _append(1)
    write_checkpoint()
    for name, body in {"a.asc": '{"seq": 1}', "b.asc": '{"type": "psirt-audit-checkpoint", "seq": "1"}'}.items():
        (checkpoints / name).write_text(signing_key().clear_sign(body + "\n"), encoding="utf-8")
        report = verify_checkpoints(directory=checkpoints)
        assert not report.ok and "is not an audit checkpoint" in report.problem
        (checkpoints / name).unlink()


@pytest.mark.django_db
def test_an_empty_or_missing_checkpoint_folder_proves_nothing(checkpoints: Path, tmp_path: Path):
    _append(1)
    assert not verify_checkpoints(directory=tmp_path / "nowhere").ok
    (tmp_path / "empty").mkdir()
    report = verify_checkpoints(directory=tmp_path / "empty")
    assert not report.ok and "no checkpoint" in report.problem


@pytest.mark.django_db
def test_checkpoints_verify_with_an_explicit_public_key_file(checkpoints: Path, tmp_path: Path):
    _append(2)
    write_checkpoint()
    public = tmp_path / "team.pub.asc"
    public.write_text(signing_key().public_key, encoding="utf-8")
    assert "OK: 1 checkpoints match" in _verify("--checkpoints", str(checkpoints), "--public-key", str(public))
    other = tmp_path / "other.pub.asc"
    other.write_text(str(pysequoia.Tsk.generate("Other <o@example.com>").extract_certificate()), encoding="utf-8")
    with pytest.raises(CommandError) as excinfo:
        _verify("--checkpoints", str(checkpoints), "--public-key", str(other))
    assert excinfo.value.returncode == 1


@pytest.mark.django_db
def test_the_periodic_task_checkpoints_once_per_head_and_never_a_broken_chain(checkpoints: Path):
    assert verify_audit_chain.call() == {"ok": True, "checkpoint": None}  # empty log: nothing to sign
    _append(3)
    assert verify_audit_chain.call() == {"ok": True, "checkpoint": 3}
    assert verify_audit_chain.call() == {"ok": True, "checkpoint": 3}
    assert len(list(checkpoints.iterdir())) == 1
    AuditEvent.objects.filter(seq=2).update(data={"n": "edited"})
    assert verify_audit_chain.call() == {"ok": False, "checkpoint": None}
    with pytest.raises(AuditChainBroken):
        write_checkpoint()
    assert len(list(checkpoints.iterdir())) == 1


@pytest.mark.django_db
def test_the_task_still_verifies_without_a_signing_key(settings: Any, tmp_path: Path):
    settings.PSIRT_SIGNING_KEY_FILE = None
    settings.PSIRT_DEV = False
    settings.PSIRT_AUDIT_CHECKPOINT_DIR = tmp_path
    _append(2)
    assert verify_audit_chain.call() == {"ok": True, "checkpoint": None}
    AuditEvent.objects.filter(seq=1).delete()
    assert verify_audit_chain.call() == {"ok": False, "checkpoint": None}


@pytest.mark.django_db
def test_checkpoint_command_writes_and_reports(checkpoints: Path):
    out = io.StringIO()
    call_command("audit", "checkpoint", stdout=out)
    assert "empty" in out.getvalue()
    _append(2)
    out = io.StringIO()
    call_command("audit", "checkpoint", stdout=out)
    assert "checkpoint #2" in out.getvalue()
    assert (checkpoints / "audit-checkpoint-000000000002.asc").exists()


@pytest.mark.django_db
def test_rotation_new_key_first_keys_new_events_and_old_ones_still_verify(settings: Any):
    old = settings.PSIRT_AUDIT_KEYS[0]
    _append(2)
    new = new_fernet_key()
    settings.PSIRT_AUDIT_KEYS = (new, old)
    later = _append(2)
    assert {e.key_id for e in later} == {audit_keys()[0][0]}
    assert AuditEvent.objects.get(seq=1).key_id != later[0].key_id
    assert verify_chain().ok and verify_chain().checked == 4
    # Removing the old key too early leaves its events unverifiable, and says which key is missing.
    settings.PSIRT_AUDIT_KEYS = (new,)
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == 1 and "does not hold" in report.problem


@pytest.mark.django_db
def test_without_a_key_nothing_is_written_and_verify_exits_2(settings: Any):
    settings.PSIRT_AUDIT_KEYS = ()
    with pytest.raises(AuditKeyMissing):
        record(action="test.event")
    assert not AuditEvent.objects.exists()
    with pytest.raises(CommandError) as excinfo:
        _verify()
    assert excinfo.value.returncode == 2 and "PSIRT_AUDIT_KEYS" in str(excinfo.value)


def test_key_id_is_public_and_distinct_per_key():
    a, b = new_fernet_key().encode(), new_fernet_key().encode()
    assert key_id(a) != key_id(b) and len(key_id(a)) == 16
    assert a.decode() not in key_id(a)


def _legacy_chain(n: int) -> None:
    """Events as the release before keyed chains wrote them: plain SHA-256 links, no key id."""
    from django.utils import timezone

    prev = GENESIS
    for i in range(1, n + 1):
        event = AuditEvent(seq=i, at=timezone.now(), action="legacy.event", data={"i": i}, key_id="", prev_hash=prev)
        payload = json.loads(_canonical(event))
        del payload["key_id"]
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        event.hash = hashlib.sha256(prev.encode("ascii") + b"\n" + canonical).hexdigest()
        event.save(force_insert=True)
        prev = event.hash
    AuditHead.objects.update_or_create(id=1, defaults={"seq": n, "hash": prev})


_migration = importlib.import_module("psirt.audit.migrations.0003_audit_event_key_id")


@pytest.mark.django_db
def test_the_migration_rekeys_an_intact_legacy_chain_so_it_verifies():
    _legacy_chain(5)
    assert not verify_chain().ok  # unkeyed rows do not pass as keyed ones
    _migration.rekey(django_apps, None)
    report = verify_chain()
    assert report.ok and report.checked == 5
    assert AuditHead.objects.get(id=1).hash == report.head_hash
    record(action="after.migration")
    assert verify_chain().ok


@pytest.mark.django_db
@pytest.mark.parametrize("tamper", ["edit", "delete", "truncate"])
def test_the_migration_refuses_to_launder_an_already_broken_legacy_chain(tamper: str):
    _legacy_chain(4)
    if tamper == "edit":
        AuditEvent.objects.filter(seq=2).update(data={"i": 99})
    elif tamper == "delete":
        AuditEvent.objects.filter(seq=2).delete()
    else:
        AuditEvent.objects.filter(seq=4).delete()
    with pytest.raises(RuntimeError, match="already broken"):
        _migration.rekey(django_apps, None)


@pytest.mark.django_db
def test_an_unwritable_checkpoint_folder_is_logged_and_warned_about_in_the_deploy_check(
    checkpoints: Path, tmp_path: Path, settings: Any, caplog: pytest.LogCaptureFixture
):
    from psirt.audit.checks import checkpoint_dir_check

    assert checkpoint_dir_check() == []
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    settings.PSIRT_AUDIT_CHECKPOINT_DIR = blocker / "checkpoints"
    _append(1)
    assert verify_audit_chain.call() == {"ok": True, "checkpoint": None}
    assert "cannot be written" in caplog.text
    [warning] = checkpoint_dir_check()
    assert warning.id == "psirt.W010" and "PSIRT_AUDIT_CHECKPOINT_DIR" in warning.msg


@pytest.mark.django_db
def test_an_existing_checkpoint_is_never_rewritten(checkpoints: Path):
    _append(2)
    first = write_checkpoint()
    assert first is not None
    before = first.path.read_bytes()
    again = write_checkpoint()
    assert again == first  # same time, same hash: the file that was signed then
    assert first.path.read_bytes() == before
