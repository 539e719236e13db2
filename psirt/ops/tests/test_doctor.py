"""`psirt doctor`: every check answers ok on a healthy installation and fail (or warn) with what to fix when its
fault is made real: wrong keys, a pending migration, no worker, no scheduler, a full disk, a CSAF tree missing a
published advisory, an expiring signing key, an expired security.txt, a mail server or webhook receiver the workers
found down."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from collections import namedtuple
from pathlib import Path
from types import SimpleNamespace

import pysequoia
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from psirt.lib.config import new_fernet_key
from psirt.mail.models import TransportPause
from psirt.mail.transports import pause
from psirt.notify.services.webhooks import receiver_name, register_webhook
from psirt.ops import doctor
from psirt.ops.doctor import FAIL, OK, WARN, run_checks

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


def task_row(*, status: str, enqueued: dt.datetime, finished: dt.datetime | None = None) -> None:
    row = DBTaskResult.objects.create(
        task_path="psirt.mail.tasks.sweep_outbox",
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        queue_name="default",
        run_after=enqueued,
        status=status,
        finished_at=finished,
    )
    DBTaskResult.objects.filter(pk=row.pk).update(enqueued_at=enqueued)


def test_keys_that_do_not_read_the_data_fail(settings: object) -> None:
    assert doctor.check_keys(NOW).status == OK
    settings.PSIRT_ENCRYPTION_KEYS = (new_fernet_key(),)  # type: ignore[attr-defined]
    finding = doctor.check_keys(NOW)
    assert finding.status == FAIL and "canary" in finding.detail and "--keys-to" in finding.fix
    settings.PSIRT_AUDIT_KEYS = ()  # type: ignore[attr-defined]
    assert doctor.check_keys(NOW).detail == "PSIRT_AUDIT_KEYS is empty"


def test_a_pending_migration_fails() -> None:
    assert doctor.check_database(NOW).status == OK
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE id = (SELECT MAX(id) FROM django_migrations)")
    finding = doctor.check_database(NOW)
    assert finding.status == FAIL and "not applied" in finding.detail and "psirt migrate" in finding.fix


def test_workers_and_scheduler() -> None:
    finding = doctor.check_workers(NOW)
    assert finding.status == FAIL and "psirt scheduler" in finding.fix  # nothing ever enqueued
    task_row(status=TaskResultStatus.READY, enqueued=NOW - dt.timedelta(minutes=20))
    finding = doctor.check_workers(NOW)
    assert finding.status == FAIL and "psirt worker" in finding.fix and "wait since" in finding.detail
    task_row(status=TaskResultStatus.SUCCESSFUL, enqueued=NOW - dt.timedelta(minutes=2), finished=NOW)
    assert doctor.check_workers(NOW).status == OK
    assert doctor.check_workers(NOW + dt.timedelta(minutes=6)).status == FAIL


def test_a_fresh_task_is_not_yet_a_dead_worker() -> None:
    task_row(status=TaskResultStatus.READY, enqueued=NOW - dt.timedelta(seconds=30))
    assert doctor.check_workers(NOW).status == OK


Usage = namedtuple("Usage", "total used free")


@pytest.mark.parametrize(
    ("free", "total", "status"),
    [(400 * 1024**2, 100 * 1024**3, FAIL), (1.5 * 1024**3, 10 * 1024**3, WARN), (50 * 1024**3, 100 * 1024**3, OK)],
)
def test_disk_space(monkeypatch: pytest.MonkeyPatch, free: int, total: int, status: str) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(total, total - free, free))
    finding = doctor.check_disk(NOW)
    assert finding.status == status and "GB free" in finding.detail


def test_csaf_tree_missing_a_published_advisory_fails(
    monkeypatch: pytest.MonkeyPatch, settings: object, tmp_path: Path
) -> None:
    settings.PSIRT_VAR_DIR = tmp_path  # type: ignore[attr-defined]
    published = SimpleNamespace(advisory_id="VT-SA-2026-007")
    imported_vex = SimpleNamespace(advisory_id="VT-SA-2026-008")

    def documents(advisory: SimpleNamespace) -> list[dict[str, str]]:
        if advisory is imported_vex:
            raise doctor.DocumentError("not affected everywhere: no document by design")
        return [{}]

    monkeypatch.setattr(doctor, "advisory_queryset", lambda: [published, imported_vex])
    monkeypatch.setattr(doctor, "advisory_documents", documents)
    finding = doctor.check_csaf_tree(NOW)
    assert finding.status == FAIL and "1 public advisory" in finding.detail and "VT-SA-2026-007" in finding.detail
    year = tmp_path / "csaf" / "white" / "2026"
    year.mkdir(parents=True)
    (year / "vt-sa-2026-007.json").write_text("{}")
    assert doctor.check_csaf_tree(NOW).status == OK


def test_signing_key_expiry(settings: object, tmp_path: Path) -> None:
    tsk = pysequoia.Tsk.generate("Example PSIRT <psirt@example.com>")
    path = tmp_path / "team.asc"
    path.write_text(str(tsk), encoding="ascii")
    settings.PSIRT_SIGNING_KEY_FILE = str(path)  # type: ignore[attr-defined]
    assert doctor.check_signing_key(NOW).status == OK  # generated without expiry
    expiry = timezone.now() + dt.timedelta(days=10)
    cert = pysequoia.Cert.from_bytes(str(tsk).encode()).set_expiration(expiration=expiry, certifier=tsk.certifier())
    doctor_key = SimpleNamespace(fingerprint="ABC", public_key=str(cert))
    original = doctor.signing_key
    try:
        doctor.signing_key = lambda: doctor_key  # type: ignore[assignment,return-value]
        assert doctor.check_signing_key(timezone.now()).status == WARN
        finding = doctor.check_signing_key(expiry + dt.timedelta(days=1))
        assert finding.status == FAIL and "expired" in finding.detail and "PSIRT_SIGNING_KEY_FILE" in finding.fix
    finally:
        doctor.signing_key = original  # type: ignore[assignment]
    settings.PSIRT_SIGNING_KEY_FILE = None  # type: ignore[attr-defined]
    settings.PSIRT_DEV = False  # type: ignore[attr-defined]
    assert doctor.check_signing_key(NOW).status == WARN


def test_security_txt_expires_is_read_from_the_served_file() -> None:
    now = timezone.now()
    finding = doctor.check_security_txt(now)
    assert finding.status == OK, finding
    assert doctor.check_security_txt(now + dt.timedelta(days=160)).status == WARN
    late = doctor.check_security_txt(now + dt.timedelta(days=200))
    assert late.status == FAIL and "expired" in late.detail


def test_a_crashing_check_is_a_named_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(now: dt.datetime) -> doctor.Finding:
        raise RuntimeError("secret detail that must not be printed")

    monkeypatch.setattr(doctor, "CHECKS", (broken,))
    (finding,) = run_checks(NOW)
    assert finding.status == FAIL and finding.name == "broken" and "secret" not in finding.detail


def test_command_prints_every_check_and_exits_1_on_a_fault(settings: object) -> None:
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("doctor", stdout=out)  # no worker has run in the test database
    assert failed.value.returncode == 1
    text = out.getvalue()
    for name in ("configuration", "keys", "database", "workers", "disk", "csaf tree", "signing key", "security.txt"):
        assert name in text
    assert "fix: Start `psirt scheduler`" in text


def test_a_paused_mail_server_fails_and_a_paused_webhook_receiver_warns_naming_no_address(lead: object) -> None:
    assert doctor.check_outbox(NOW).status == OK
    register_webhook(name="SIEM", url="https://hooks.example.com/psirt", actor=lead)  # type: ignore[arg-type]
    pause(receiver_name("https://hooks.example.com/other"), "HTTP 503", NOW)
    finding = doctor.check_outbox(NOW)
    assert finding.status == WARN and "1 webhook receiver(s) unreachable" in finding.detail
    assert "webhooks: SIEM" in finding.detail and "HTTP 503" in finding.detail
    assert "example.com" not in finding.detail + finding.fix
    pause("mail", "ConnectionRefusedError", NOW)
    finding = doctor.check_outbox(NOW)
    assert finding.status == FAIL and "the mail server is unreachable since 2026-12-05 12:00 UTC" in finding.detail
    assert "EMAIL_URL" in finding.fix
    TransportPause.objects.all().delete()
    assert doctor.check_outbox(NOW).status == OK
