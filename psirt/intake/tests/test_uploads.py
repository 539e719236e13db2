"""The upload handler: files over Django's in-memory size are encrypted as they arrive, nothing past a size
limit is kept, the spool goes when the request ends, and what a killed process leaves is swept."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from psirt.intake import services
from psirt.intake.models import Attachment, Report, StashedFile
from psirt.intake.tests.conftest import PCAP, valid_post
from psirt.intake.uploads import EncryptedUploadedFile, UploadOverLimit
from psirt.lib.crypto import EncryptedSpool, file_store
from psirt.tests.factories import make_report

MARKER = b"UPLOADHANDLERMARKER"
BIG = 3 * 1024 * 1024  # over FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB): the request is not kept in memory


def _marked(size: int) -> bytes:
    line = MARKER + b" proof of concept line\n"
    return PCAP + (line * (size // len(line) + 1))[: size - len(PCAP)]


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """Records what reaches the spool (its largest size on disk, whether the marker is in it) and points the
    process's temporary folder at an empty one, to see that nothing lands there."""
    seen: dict[str, Any] = {"max_disk": 0, "marker_on_disk": False, "spools": 0, "paths": set()}
    real_write, real_finish = EncryptedSpool.write, EncryptedSpool.finish

    def write(self: EncryptedSpool, data: bytes) -> None:
        real_write(self, data)
        seen["paths"].add(self.path)
        seen["max_disk"] = max(seen["max_disk"], self.path.stat().st_size)
        seen["marker_on_disk"] |= MARKER in self.path.read_bytes()

    def finish(self: EncryptedSpool) -> None:
        real_finish(self)
        seen["spools"] += 1
        seen["marker_on_disk"] |= MARKER in self.path.read_bytes()

    monkeypatch.setattr(EncryptedSpool, "write", write)
    monkeypatch.setattr(EncryptedSpool, "finish", finish)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    seen["tmp"] = tmp
    return seen


def _spool_files(watched: dict[str, Any]) -> list[Path]:
    """The spool files this test's uploads made that are still on disk (the spool folder itself is shared with the
    other test processes of the run, whose uploads may be under way)."""
    assert watched["paths"], "no upload reached the spool"
    return [path for path in watched["paths"] if path.exists()]


def test_large_upload_is_encrypted_while_received_and_kept_whole(public, catalog, report_url, watched):
    content = _marked(BIG)
    response = public.post(report_url, valid_post(attachments=[SimpleUploadedFile("poc.pcap", content)]))
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.size == BIG and attachment.kind == "capture"
    assert file_store().read(attachment.storage_name) == content
    assert watched["spools"] == 1 and not watched["marker_on_disk"]
    assert list(watched["tmp"].iterdir()) == []  # Django's plaintext temporary file never made
    assert _spool_files(watched) == []  # removed when the request ended


def test_large_upload_through_the_api_uses_the_same_handler(anonymous, catalog, watched):
    data = {k: v for k, v in valid_post().items() if v}
    data["accept_guidelines"] = "true"
    data["attachments"] = [SimpleUploadedFile("poc.pcap", _marked(BIG))]
    response = anonymous.post("/api/v1/reports", data)
    assert response.status_code == 201, response.content
    assert watched["spools"] == 1 and not watched["marker_on_disk"]
    assert list(watched["tmp"].iterdir()) == [] and _spool_files(watched) == []


def test_a_file_over_the_limit_stops_being_written_at_the_limit_and_is_refused(
    public, catalog, report_url, settings, watched
):
    settings.PSIRT_MAX_ATTACHMENT_MB = 1
    big = SimpleUploadedFile("huge.pcap", _marked(BIG))
    response = public.post(report_url, valid_post(attachments=[big]))
    assert response.status_code == 422
    assert "“huge.pcap” is larger than 1 MB" in response.content.decode()
    assert Report.objects.count() == 0
    # Never more than the limit's worth reached the disk (without the cap, 2 of the 3 MB would have).
    assert watched["max_disk"] < 1.5 * 1024 * 1024
    assert _spool_files(watched) == [] and list(watched["tmp"].iterdir()) == []


def test_files_together_over_the_total_stop_being_written_and_are_refused(
    public, catalog, report_url, settings, watched
):
    settings.PSIRT_MAX_ATTACHMENT_MB = 2
    settings.PSIRT_MAX_ATTACHMENTS_TOTAL_MB = 2
    files = [SimpleUploadedFile(f"p{i}.pcap", _marked(1536 * 1024)) for i in range(2)]
    response = public.post(report_url, valid_post(attachments=files))
    assert response.status_code == 422
    assert "Together the files are over the limit of 2 MB" in response.content.decode()
    assert Report.objects.count() == 0 and Attachment.objects.count() == 0


def test_the_uploaded_file_reads_like_a_file(settings, tmp_path):
    settings.PSIRT_VAR_DIR = tmp_path
    content = os.urandom(2 * 1024 * 1024 + 12345)
    spool = file_store().spool()
    for start in range(0, len(content), 65536):
        spool.write(content[start : start + 65536])
    spool.finish()
    upload = EncryptedUploadedFile(spool, name="a.bin", content_type="x/y", size=len(content), charset=None)
    assert upload.read() == content
    upload.seek(0)
    assert upload.read(10) == content[:10]
    upload.seek(-5, os.SEEK_END)
    assert upload.read() == content[-5:]
    upload.seek(1024 * 1024 + 7)
    assert upload.tell() == 1024 * 1024 + 7 and upload.read(3) == content[1024 * 1024 + 7 : 1024 * 1024 + 10]
    assert b"".join(upload.chunks()) == content
    assert spool.path.is_file()
    upload.close()
    assert not spool.path.exists()


def _age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


@pytest.mark.django_db
def test_sweep_removes_abandoned_temporary_and_unreferenced_files_only(settings, tmp_path):
    settings.PSIRT_VAR_DIR = tmp_path
    store = file_store()
    stale_spool = store.spool()
    stale_spool.write(b"x" * 100)
    fresh_spool = store.spool()
    fresh_spool.write(b"y" * 100)
    _age(stale_spool.path, 2)
    half_written = store.root / "ab" / ".tmp-k2j3h4"
    half_written.parent.mkdir(parents=True, exist_ok=True)
    half_written.write_bytes(b"partial")
    _age(half_written, 2)
    orphan = store.save([b"orphan"], prefix="a")
    fresh_orphan = store.save([b"being attached right now"], prefix="a")
    kept = store.save([b"attached"], prefix="a")
    stashed = store.save([b"stashed"], prefix="a")
    report = make_report()
    Attachment.objects.create(report=report, name="k.txt", size=8, storage_name=kept.name)
    stash = services.attachments.UploadStash.objects.create(
        token_hash="h" * 64, expires_at=timezone.now() + dt.timedelta(hours=1)
    )
    StashedFile.objects.create(stash=stash, name="s.txt", size=7, storage_name=stashed.name)
    for name in (orphan.name, kept.name, stashed.name):
        _age(store._path(name), 2)

    assert services.sweep_files() == {"partial": 2, "orphans": 1}

    assert not stale_spool.path.exists() and not half_written.exists() and not store.exists(orphan.name)
    assert fresh_spool.path.exists() and store.exists(fresh_orphan.name)
    assert store.read(kept.name) == b"attached" and store.read(stashed.name) == b"stashed"
    # The hourly housekeeping runs the sweep.
    _age(fresh_spool.path, 2)
    assert services.purge_expired()["partial"] == 1
    assert not fresh_spool.path.exists()


def test_an_upload_whose_content_was_dropped_cannot_be_read_as_if_empty():
    upload = EncryptedUploadedFile(None, name="huge.bin", content_type="x/y", size=99 * 1024 * 1024, charset=None)
    assert upload.size == 99 * 1024 * 1024 and upload.over_limit
    with pytest.raises(UploadOverLimit):
        upload.read()
    with pytest.raises(UploadOverLimit):
        list(upload.chunks())
    upload.close()
