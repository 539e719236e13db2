"""Backup archives in-process: what goes in, what verify refuses (tampering, truncation, hostile member names),
what restore refuses before changing anything, and the keys export."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pysequoia
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from psirt.intake.models import Attachment
from psirt.intake.services.attachments import IncomingFile
from psirt.intake.services.submission import ReportInput, submit_report
from psirt.lib import crypto
from psirt.lib.signing import signing_key, verify_detached
from psirt.ops.backup import (
    ArchiveInvalid,
    BackupError,
    KeysFileError,
    RestoreRefused,
    certificate_signer,
    create_backup,
    installation_signer,
    read_keys,
    restore_archive,
    verify_archive,
    write_keys,
)
from psirt.ops.backup.create import ArchiveWriter, _read_exact, tar_header
from psirt.ops.backup.manifest import (
    MANIFEST_NAME,
    PGDUMP_MEMBER,
    PREFIX,
    SIGNATURE_NAME,
    SQLITE_MEMBER,
    Manifest,
)
from psirt.ops.backup.restore import check_schema, code_migrations
from psirt.ops.backup.verify import scan

# Not wrapped in a test transaction: the online backup reads the database as another reader would, after commits.
pytestmark = pytest.mark.django_db(transaction=True)

PAYLOAD = b"\x7fELF firmware dump " + os.urandom(3000)


@pytest.fixture
def var_dir(tmp_path: Path, settings: object, signing_key_file: Path) -> Path:
    var = tmp_path / "var"
    var.mkdir()
    settings.PSIRT_VAR_DIR = var  # type: ignore[attr-defined]
    settings.PSIRT_SIGNING_KEY_FILE = str(signing_key_file)  # type: ignore[attr-defined]
    settings.PSIRT_AUDIT_CHECKPOINT_DIR = var / "audit-checkpoints"  # type: ignore[attr-defined]
    return var


@pytest.fixture
def archive(var_dir: Path, tmp_path: Path) -> Path:
    data = ReportInput(reporter_name="Ada", reporter_email="ada@research.test", description="RCE in the web UI.")
    submit_report(data=data, files=[IncomingFile("dump.bin", PAYLOAD)], send_acknowledgment=False)
    (var_dir / "csaf" / "white").mkdir(parents=True)
    (var_dir / "csaf" / "white" / "index.txt").write_text("2026/vt-sa-2026-001.json\n")
    (var_dir / "files" / "spool").mkdir(parents=True, exist_ok=True)
    (var_dir / "files" / "spool" / ".tmp-upload-x").write_bytes(b"half an upload")
    out = tmp_path / "out"
    out.mkdir()
    return create_backup(dest=out / "site.tar").path


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isreg()}  # type: ignore[union-attr]


def repack(path: Path, items: Sequence[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w") as tar:
        for info, data in items:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def file_info(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def test_archive_holds_database_files_tree_and_manifest_but_no_key(archive: Path) -> None:
    content = members(archive)
    names = list(content)
    engine = "sqlite" if connection.vendor == "sqlite" else "postgresql"
    # The database copy last before the manifest (on PostgreSQL the files are carried while pg_dump runs), then the
    # manifest's signature.
    assert names[-3:] == [SQLITE_MEMBER if engine == "sqlite" else PGDUMP_MEMBER, MANIFEST_NAME, SIGNATURE_NAME]
    manifest = Manifest.from_json(content[MANIFEST_NAME])
    attachment = Attachment.objects.get()
    stored = [n for n in names if n.endswith(attachment.storage_name)]
    assert stored == [f"{PREFIX}/files/{attachment.storage_name[:2]}/{attachment.storage_name}"]
    assert manifest.referenced_files == [attachment.storage_name]
    assert f"{PREFIX}/csaf/white/index.txt" in names
    assert not any("spool" in n or ".tmp" in n for n in names)  # half-received uploads are not data
    assert manifest.tables["intake_report"] == 1 and manifest.tables["intake_attachment"] == 1
    assert "intake" in manifest.migrations and manifest.engine == engine
    assert {m.path for m in manifest.files} == set(names) - {MANIFEST_NAME, SIGNATURE_NAME}
    # Ciphertext only, and no key at all: the archive alone reads nothing.
    blob = archive.read_bytes()
    assert PAYLOAD[:40] not in blob
    for secret in (*settings.PSIRT_ENCRYPTION_KEYS, *settings.PSIRT_AUDIT_KEYS, settings.SECRET_KEY):
        assert secret.encode() not in blob
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert verify_archive(archive).manifest.tables == manifest.tables


def test_member_headers_are_the_ustar_headers_tarfile_writes() -> None:
    for name, size, mtime in [
        (f"{PREFIX}/files/ab/ab12-f.enc", 51_234, 1_765_000_000),
        ("x", 0, 0),
        ("a" * 100, 8**11 - 1, 1),
    ]:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, mtime, 0o600
        info.uname = info.gname = ""
        assert tar_header(name, size, mtime) == info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")
    # What a ustar block cannot hold (a long or non-ASCII name, a size past 8 GiB) gets a PAX header, read back
    # intact.
    for name, size in [(f"{PREFIX}/csaf/{'a' * 120}.json", 3), (f"{PREFIX}/csaf/漏洞.json", 3), ("big", 8**11)]:
        header = tar_header(name, size, 0)
        assert len(header) > 512
        with tarfile.open(fileobj=io.BytesIO(header + b"abc" + bytes(509 + 1024)), mode="r:") as tar:
            member = tar.next()
            assert member is not None and (member.name, member.size, member.mode) == (name, size, 0o600)


def test_gnu_tar_reads_the_archive(archive: Path, tmp_path: Path) -> None:
    content = members(archive)
    listed = subprocess.run(["tar", "-tf", str(archive)], capture_output=True, text=True, check=True)
    assert listed.stdout.splitlines() == list(content)
    out = tmp_path / "gnu"
    out.mkdir()
    subprocess.run(["tar", "-xf", str(archive), "-C", str(out)], check=True)
    assert {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()} == content
    assert len(archive.read_bytes()) % (20 * 512) == 0  # whole records, as tar writes them


def test_a_file_that_shrinks_while_copied_fails_the_backup(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(BackupError, match="shrank"):
            _read_exact(fd, 150, path)
    finally:
        os.close(fd)


def test_a_short_write_is_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The kernel may write less than asked (a signal, a nearly full disk): the rest follows, nothing is lost.
    monkeypatch.setattr(os, "writev", lambda fd, parts: os.write(fd, b"".join(parts)[:700]))
    with (tmp_path / "a.tar").open("wb") as out:
        writer = ArchiveWriter(out, compress=False)
        writer.add_bytes(f"{PREFIX}/csaf/a.json", b"a" * 1000, 0)
        writer.add_bytes(f"{PREFIX}/csaf/b.json", b"b" * 10, 0)
        writer.close()
    assert members(tmp_path / "a.tar") == {f"{PREFIX}/csaf/a.json": b"a" * 1000, f"{PREFIX}/csaf/b.json": b"b" * 10}


def previous_release_layout(archive: Path, dest: Path) -> Path:
    """The same members as the previous release wrote them: through `tarfile` in PAX format, the database copy
    first, the manifest last."""
    content = members(archive)
    database = next(name for name in content if name.startswith(f"{PREFIX}/db/"))
    order = [database, *(n for n in content if n not in {database, MANIFEST_NAME, SIGNATURE_NAME}), MANIFEST_NAME]
    with tarfile.open(str(dest), "w|gz" if dest.name.endswith(".gz") else "w|", format=tarfile.PAX_FORMAT) as tar:
        for name in order:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(content[name]), 0o600, 1_765_000_000
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(content[name]))
    return dest


def test_an_archive_of_the_previous_release_verifies_and_unpacks_alike(archive: Path, tmp_path: Path) -> None:
    expected = verify_archive(archive).manifest
    scan(archive, into=tmp_path / "new", extract_all=True)
    unpacked = {
        str(p.relative_to(tmp_path / "new")): p.read_bytes() for p in (tmp_path / "new").rglob("*") if p.is_file()
    }
    for name in ("old.tar", "old.tar.gz"):
        old = previous_release_layout(archive, tmp_path / name)
        report = verify_archive(old, installation_signer())
        assert report.manifest == expected
        assert "signature: the manifest is not signed" in report.notes  # that release did not sign: noted
        into = tmp_path / f"unpacked-{name}"
        scan(old, into=into, extract_all=True)
        assert {str(p.relative_to(into)): p.read_bytes() for p in into.rglob("*") if p.is_file()} == unpacked


def test_the_manifest_is_signed_with_the_sites_signing_key(archive: Path, tmp_path: Path, settings: Any) -> None:
    content = members(archive)
    key = signing_key()
    assert verify_detached(content[MANIFEST_NAME], content[SIGNATURE_NAME].decode(), key.public_key)
    assert f"signed by {key.fingerprint}" in " ".join(verify_archive(archive, installation_signer()).notes)
    mine = tmp_path / "mine.asc"
    mine.write_text(key.public_key)
    verify_archive(archive, certificate_signer(mine))
    other_key = pysequoia.Tsk.generate("Other PSIRT <psirt@other.test>")
    other = tmp_path / "other.asc"
    other.write_text(str(other_key.extract_certificate()))
    with pytest.raises(ArchiveInvalid, match="not by"):
        verify_archive(archive, certificate_signer(other))
    junk = tmp_path / "junk.asc"
    junk.write_text("not a certificate")
    with pytest.raises(KeysFileError, match="not a readable OpenPGP certificate"):
        certificate_signer(junk)
    with pytest.raises(CommandError) as refused:
        call_command("backup", "verify", str(archive), "--signer", str(other))
    assert refused.value.returncode == 1
    # Another key's signature over the same manifest.
    forged = pysequoia.sign(other_key.signer(), content[MANIFEST_NAME], mode=pysequoia.SignatureMode.DETACHED)
    unsigned = [file_info(n, d) for n, d in content.items() if n != SIGNATURE_NAME]
    repack(archive, [*unsigned, file_info(SIGNATURE_NAME, forged)])
    with pytest.raises(ArchiveInvalid, match="not by"):
        verify_archive(archive, installation_signer())
    # The signature stripped: noted against this installation's own key, refused when a signer is named.
    repack(archive, unsigned)
    assert "not signed" in " ".join(verify_archive(archive, installation_signer()).notes)
    with pytest.raises(ArchiveInvalid, match="not signed"):
        verify_archive(archive, certificate_signer(mine))
    # A site without a signing key writes an unsigned archive (and says so).
    settings.PSIRT_SIGNING_KEY_FILE = None
    result = create_backup(dest=tmp_path / "unsigned.tar")
    assert result.signed_by is None and SIGNATURE_NAME not in members(result.path)
    # Nothing follows the signature.
    repack(archive, [*(file_info(n, d) for n, d in content.items()), file_info(f"{PREFIX}/csaf/late.json", b"{}")])
    with pytest.raises(ArchiveInvalid, match="after its manifest"):
        verify_archive(archive)


def test_backup_refuses_to_overwrite_and_leaves_nothing_half_written(archive: Path) -> None:
    with pytest.raises(BackupError, match="already exists"):
        create_backup(dest=archive)
    assert [p.name for p in archive.parent.iterdir()] == [archive.name]
    with pytest.raises(BackupError, match="does not exist"):
        create_backup(dest=archive.parent / "nope" / "x.tar")


def test_backup_into_a_folder_gets_a_dated_compressed_name(archive: Path) -> None:
    result = create_backup(dest=archive.parent, compress=True)
    assert result.path.name.startswith("psirt-backup-") and result.path.name.endswith(".tar.gz")
    assert verify_archive(result.path).manifest.files


def test_backup_refuses_when_an_attachment_file_is_missing(archive: Path, var_dir: Path) -> None:
    name = Attachment.objects.get().storage_name
    (var_dir / "files" / name[:2] / name).unlink()
    with pytest.raises(BackupError, match="not in"):
        create_backup(dest=archive.parent / "again.tar")
    assert not (archive.parent / "again.tar").exists()


def test_the_archive_must_carry_every_kept_stored_file_column() -> None:
    """Report attachments and regulatory evidence files must be in the archive; a stash expires on its own."""
    from psirt.ops.backup.database import kept_file_columns

    assert kept_file_columns() == {
        "intake_attachment": "storage_name",
        "regulatory_evidencefile": "storage_name",
    }


def test_a_flipped_byte_is_found(archive: Path) -> None:
    data = bytearray(archive.read_bytes())
    offset = data.index(crypto.FILE_MAGIC)  # inside an encrypted attachment
    data[offset + 40] ^= 0x01
    archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveInvalid, match="checksum"):
        verify_archive(archive)


@pytest.mark.parametrize("keep", [0.3, 0.9, None])
def test_a_truncated_archive_is_refused(archive: Path, keep: float | None) -> None:
    data = archive.read_bytes()
    # None: cut inside the manifest, the last member (only the tar's zero padding follows it).
    end = data.index(b'"format"') + 5 if keep is None else int(len(data) * keep)
    archive.write_bytes(data[:end])
    with pytest.raises(ArchiveInvalid):
        verify_archive(archive)


def test_a_truncated_compressed_archive_is_refused(archive: Path) -> None:
    gz = create_backup(dest=archive.parent / "c.tar.gz").path
    gz.write_bytes(gz.read_bytes()[:-200])
    with pytest.raises(ArchiveInvalid, match="truncated or damaged"):
        verify_archive(gz)


def test_a_removed_member_is_found(archive: Path) -> None:
    content = members(archive)
    victim = next(n for n in content if "/files/" in n)
    repack(archive, [file_info(n, d) for n, d in content.items() if n != victim])
    with pytest.raises(ArchiveInvalid, match="missing"):
        verify_archive(archive)


def test_an_added_member_is_found(archive: Path) -> None:
    content = members(archive)
    items = [file_info(n, d) for n, d in content.items() if n not in {MANIFEST_NAME, SIGNATURE_NAME}]
    items += [file_info(f"{PREFIX}/csaf/extra.json", b"{}"), file_info(MANIFEST_NAME, content[MANIFEST_NAME])]
    repack(archive, items)
    with pytest.raises(ArchiveInvalid, match="not in its manifest"):
        verify_archive(archive)


def test_a_rewritten_manifest_cannot_hide_a_changed_database(archive: Path) -> None:
    """Manifest and checksums changed together still fail: the database copy's own counts are checked."""
    content = members(archive)
    manifest = json.loads(content[MANIFEST_NAME])
    manifest["tables"]["intake_report"] = 5
    items = [file_info(n, d) for n, d in content.items() if n not in {MANIFEST_NAME, SIGNATURE_NAME}]
    repack(archive, [*items, file_info(MANIFEST_NAME, json.dumps(manifest).encode())])
    with pytest.raises(ArchiveInvalid, match="row counts"):
        verify_archive(archive)


def test_without_manifest_it_is_not_a_backup(archive: Path) -> None:
    content = members(archive)
    repack(archive, [file_info(n, d) for n, d in content.items() if n not in {MANIFEST_NAME, SIGNATURE_NAME}])
    with pytest.raises(ArchiveInvalid, match="no manifest"):
        verify_archive(archive)


@pytest.mark.parametrize(
    "name",
    [
        f"{PREFIX}/../x",
        "../x",
        "/etc/passwd",
        f"/{PREFIX}/files/ab/x.enc",
        f"{PREFIX}/files/../../x",
        f"{PREFIX}/./files/x",
        f"{PREFIX}/files//x",
        "other/x",
        f"{PREFIX}/files/a\\..\\x",
        f"{PREFIX}/files/x\x1b[2Jy",
    ],
)
def test_hostile_member_names_are_refused(archive: Path, tmp_path: Path, name: str) -> None:
    content = members(archive)
    repack(archive, [file_info(name, b"owned"), *(file_info(n, d) for n, d in content.items())])
    with pytest.raises(ArchiveInvalid, match="unsafe name"):
        verify_archive(archive)
    assert not (tmp_path / "x").exists() and not (tmp_path.parent / "x").exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.FIFOTYPE])
def test_links_and_special_files_are_refused(archive: Path, kind: bytes) -> None:
    content = members(archive)
    link = tarfile.TarInfo(f"{PREFIX}/csaf/white/evil")
    link.type = kind
    link.linkname = "/etc/passwd"
    repack(archive, [(link, None), *(file_info(n, d) for n, d in content.items())])
    with pytest.raises(ArchiveInvalid, match="link or a special file"):
        verify_archive(archive)


def test_a_member_after_the_manifest_or_twice_is_refused(archive: Path) -> None:
    content = members(archive)
    items = [file_info(n, d) for n, d in content.items()]
    repack(archive, [*items, file_info(f"{PREFIX}/csaf/late.json", b"{}")])
    with pytest.raises(ArchiveInvalid, match="after its manifest"):
        verify_archive(archive)
    first = next(n for n in content if "/csaf/" in n)
    repack(archive, [file_info(first, content[first]), *items])
    with pytest.raises(ArchiveInvalid, match="twice"):
        verify_archive(archive)


def test_a_file_named_like_a_folder_is_refused_on_restore(archive: Path, tmp_path: Path) -> None:
    content = members(archive)
    repack(archive, [file_info(f"{PREFIX}/db", b"x"), *(file_info(n, d) for n, d in content.items())])
    with pytest.raises(ArchiveInvalid, match="same name"):
        scan(archive, into=tmp_path / "unpacked", extract_all=True)


def test_not_an_archive_at_all(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"<script>alert(1)</script>" * 100)
    with pytest.raises(ArchiveInvalid):
        verify_archive(junk)
    with pytest.raises(ArchiveInvalid, match="not a file"):
        verify_archive(tmp_path / "absent.tar")


def test_verify_command_exit_codes(archive: Path) -> None:
    out = io.StringIO()
    call_command("backup", "verify", str(archive), stdout=out)
    assert "sound" in out.getvalue()
    archive.write_bytes(archive.read_bytes()[:-15000])
    with pytest.raises(CommandError) as failed:
        call_command("backup", "verify", str(archive))
    assert failed.value.returncode == 1


def test_restore_refuses_a_non_empty_installation_and_changes_nothing(archive: Path, var_dir: Path) -> None:
    before = sorted(p.relative_to(var_dir) for p in var_dir.rglob("*"))
    with pytest.raises(RestoreRefused, match="not empty"):
        restore_archive(path=archive)
    assert sorted(p.relative_to(var_dir) for p in var_dir.rglob("*")) == before


def test_a_manifest_claiming_other_migrations_than_its_database_is_refused(archive: Path, var_dir: Path) -> None:
    content = members(archive)
    manifest = json.loads(content[MANIFEST_NAME])
    manifest["migrations"]["intake"].append("9999_from_the_future")
    items = [file_info(n, d) for n, d in content.items() if n not in {MANIFEST_NAME, SIGNATURE_NAME}]
    repack(archive, [*items, file_info(MANIFEST_NAME, json.dumps(manifest).encode())])
    with pytest.raises(ArchiveInvalid, match="migration state"):  # the copy disagrees with its manifest
        restore_archive(path=archive, force=True)


def test_restore_refuses_a_newer_schema_and_moves_engines_only_at_this_schema() -> None:
    known = code_migrations()
    current = {app: sorted(names) for app, names in known.items()}
    manifest = Manifest("9.9", "2026-12-05T00:00:00+00:00", "sqlite", "3", {**current}, {})
    check_schema(manifest, cross_engine=True)  # this psirt's own schema: fine either way
    manifest.migrations = {**current, "intake": [*current["intake"], "9999_from_the_future"]}
    with pytest.raises(RestoreRefused, match="newer psirt"):
        check_schema(manifest, cross_engine=False)
    manifest.migrations = {**current, "intake": current["intake"][:-1]}
    check_schema(manifest, cross_engine=False)  # an older backup: same engine migrates it forward
    with pytest.raises(RestoreRefused, match="Restore it onto SQLite first"):
        check_schema(manifest, cross_engine=True)


# --- keys export ---------------------------------------------------------------------------------------------


def test_keys_to_a_passphrase_round_trip(tmp_path: Path) -> None:
    dest = tmp_path / "keys.asc"
    write_keys(dest=dest, recipients=[], passphrase="correct horse battery staple")
    assert oct(dest.stat().st_mode & 0o777) == "0o600"
    text = dest.read_text()
    assert text.startswith("-----BEGIN PGP MESSAGE-----")
    assert settings.PSIRT_ENCRYPTION_KEYS[0] not in text and settings.SECRET_KEY not in text
    bundle = read_keys(path=dest, passphrase="correct horse battery staple")
    assert bundle["PSIRT_ENCRYPTION_KEYS"] == list(settings.PSIRT_ENCRYPTION_KEYS)
    assert bundle["PSIRT_AUDIT_KEYS"] == list(settings.PSIRT_AUDIT_KEYS)
    assert bundle["SECRET_KEY"] == settings.SECRET_KEY
    with pytest.raises(KeysFileError, match="cannot be decrypted"):
        read_keys(path=dest, passphrase="wrong horse battery staple")
    with pytest.raises(KeysFileError, match="never written over"):
        write_keys(dest=dest, recipients=[], passphrase="correct horse battery staple")


def test_keys_to_a_certificate(tmp_path: Path) -> None:
    tsk = pysequoia.Tsk.generate("Backup officer <backup@vendor.test>")
    cert = tmp_path / "officer.asc"
    cert.write_text(str(tsk.extract_certificate()))
    secret = tmp_path / "officer-secret.asc"
    secret.write_text(str(tsk))
    dest = tmp_path / "keys.asc"
    write_keys(dest=dest, recipients=[cert], passphrase=None)
    assert read_keys(path=dest, secret_key=secret)["SECRET_KEY"] == settings.SECRET_KEY
    with pytest.raises(KeysFileError):
        read_keys(path=dest, passphrase="correct horse battery staple")


def test_keys_refusals(tmp_path: Path) -> None:
    with pytest.raises(KeysFileError, match="too short"):
        write_keys(dest=tmp_path / "k", recipients=[], passphrase="short")
    with pytest.raises(KeysFileError, match="certificate"):
        write_keys(dest=tmp_path / "k", recipients=[], passphrase=None)
    junk = tmp_path / "junk.asc"
    junk.write_text("<b>not a key</b>")
    with pytest.raises(KeysFileError, match="not a readable OpenPGP certificate"):
        write_keys(dest=tmp_path / "k", recipients=[junk], passphrase=None)
    assert not (tmp_path / "k").exists()


def test_keys_passphrase_comes_from_a_file_never_argv(tmp_path: Path) -> None:
    phrase = tmp_path / "phrase"
    phrase.write_text("correct horse battery staple\n")
    call_command(
        "backup", "--keys-to", str(tmp_path / "keys.asc"), "--passphrase-file", str(phrase), stdout=io.StringIO()
    )
    assert read_keys(path=tmp_path / "keys.asc", passphrase="correct horse battery staple")["format"] == "psirt-keys/1"
