"""`psirt restore ARCHIVE --keys-from FILE`: the keys file is decrypted before anything is restored (passphrase from
a file or a prompt, never argv), the restore runs under its keys, and only when they read the restored data are
they written out, owner-only, with the environment file that configures the installation with them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import CommandError, call_command

from psirt.ops.backup import KeysFileError, RestoreResult, bundle_settings, install_keys, write_keys
from psirt.ops.backup.manifest import Manifest
from psirt.ops.management.commands import restore as restore_command

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def keys_file(tmp_path: Path) -> Path:
    dest = tmp_path / "keys.asc"
    write_keys(dest=dest, recipients=[], passphrase=PASSPHRASE)
    return dest


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase"
    path.write_text(PASSPHRASE + "\n")
    return path


@pytest.fixture
def restores(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Stands in for the restore itself (tested in test_backup*): records the keys it ran under, and answers
    whether those keys read the data, as the key canary would: only the keys the backup was written with do."""
    seen: list[dict[str, Any]] = []
    original = tuple(settings.PSIRT_ENCRYPTION_KEYS)

    def fake_restore(*, path: Path, force: bool = False, signer: object = None) -> RestoreResult:
        seen.append(
            {
                "path": path,
                "SECRET_KEY": settings.SECRET_KEY,
                "PSIRT_ENCRYPTION_KEYS": tuple(settings.PSIRT_ENCRYPTION_KEYS),
                "PSIRT_AUDIT_KEYS": tuple(settings.PSIRT_AUDIT_KEYS),
            }
        )
        manifest = Manifest(
            psirt_version="test", created_at="2026-12-06T00:00:00+00:00", engine="sqlite", server_version="3",
            migrations={}, tables={},
        )  # fmt: skip
        ok = tuple(settings.PSIRT_ENCRYPTION_KEYS) == original
        problem = None if ok else "The key canary cannot be decrypted: the stored data was encrypted with other keys."
        return RestoreResult(manifest=manifest, key_problem=problem, audit="intact, 3 events")

    monkeypatch.setattr(restore_command, "restore_archive", fake_restore)
    return seen


def test_the_restore_runs_under_the_keys_files_keys_and_writes_them_out(
    keys_file: Path,
    passphrase_file: Path,
    restores: list[dict[str, Any]],
    tmp_path: Path,
    settings: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    original = (settings.SECRET_KEY, tuple(settings.PSIRT_ENCRYPTION_KEYS), tuple(settings.PSIRT_AUDIT_KEYS))
    # The new machine starts with keys of its own (as a first start in development mode makes them).
    settings.PSIRT_ENCRYPTION_KEYS = (Fernet.generate_key().decode(),)
    settings.PSIRT_AUDIT_KEYS = (Fernet.generate_key().decode(),)
    out = tmp_path / "keys-out"
    call_command(
        "restore",
        str(tmp_path / "site.tar"),
        "--keys-from",
        str(keys_file),
        "--passphrase-file",
        str(passphrase_file),
        "--keys-out",
        str(out),
    )
    assert [(r["SECRET_KEY"], r["PSIRT_ENCRYPTION_KEYS"], r["PSIRT_AUDIT_KEYS"]) for r in restores] == [original]
    assert original[1] != settings.PSIRT_ENCRYPTION_KEYS  # only the restore ran under them
    env = dict(line.split("=", 1) for line in (out / "restored-keys.env").read_text().splitlines())
    assert env["PSIRT_ENCRYPTION_KEYS"] == ",".join(original[1])
    assert env["PSIRT_AUDIT_KEYS"] == ",".join(original[2])
    assert Path(env["SECRET_KEY_FILE"]).read_text().strip() == original[0]
    assert "SECRET_KEY" not in env  # the secret key goes by file: no quoting of arbitrary text
    assert oct(out.stat().st_mode & 0o777) == "0o700"
    for path in out.iterdir():
        assert oct(path.stat().st_mode & 0o777) == "0o600", path
    assert str(out / "restored-keys.env") in capsys.readouterr().out


def test_keys_that_do_not_read_the_data_are_not_written_out(
    tmp_path: Path, passphrase_file: Path, restores: list[dict[str, Any]], settings: Any
) -> None:
    theirs = tmp_path / "other-keys.asc"
    saved = settings.PSIRT_ENCRYPTION_KEYS
    settings.PSIRT_ENCRYPTION_KEYS = (Fernet.generate_key().decode(),)  # another installation's keys file
    write_keys(dest=theirs, recipients=[], passphrase=PASSPHRASE)
    settings.PSIRT_ENCRYPTION_KEYS = saved
    out = tmp_path / "keys-out"
    with pytest.raises(CommandError, match="keys file's keys do not read the data") as caught:
        call_command(
            "restore", "x.tar", "--keys-from", str(theirs), "--passphrase-file", str(passphrase_file),
            "--keys-out", str(out),
        )  # fmt: skip
    assert caught.value.returncode == 2
    assert not out.exists()


def test_a_wrong_passphrase_or_a_bad_call_restores_nothing(
    keys_file: Path, tmp_path: Path, restores: list[dict[str, Any]]
) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("wrong horse battery staple\n")
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("restore", "x.tar", "--keys-from", str(keys_file), "--passphrase-file", str(wrong))
    with pytest.raises(CommandError, match="go with --keys-from"):
        call_command("restore", "x.tar", "--passphrase-file", str(wrong))
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine").write_text("keep")
    with pytest.raises(CommandError, match="not an empty folder"):
        call_command(
            "restore", "x.tar", "--keys-from", str(keys_file), "--passphrase-file", str(wrong),
            "--keys-out", str(taken),
        )  # fmt: skip
    assert restores == []
    # No option takes the passphrase itself: argv is visible to every user of the machine.
    with pytest.raises(CommandError):
        call_command("restore", "x.tar", "--keys-from", str(keys_file), "--passphrase", PASSPHRASE)
    assert restores == []


def test_a_malformed_bundle_is_refused(tmp_path: Path) -> None:
    good = {
        "SECRET_KEY": "s" * 60,
        "PSIRT_ENCRYPTION_KEYS": [Fernet.generate_key().decode()],
        "PSIRT_AUDIT_KEYS": [Fernet.generate_key().decode()],
    }
    assert bundle_settings(good)["PSIRT_ENCRYPTION_KEYS"] == tuple(good["PSIRT_ENCRYPTION_KEYS"])
    for name, value in [
        ("SECRET_KEY", "two\nlines"),
        ("SECRET_KEY", None),
        ("PSIRT_ENCRYPTION_KEYS", []),
        ("PSIRT_ENCRYPTION_KEYS", ["abc\nPSIRT_AUDIT_KEYS=planted"]),
        ("PSIRT_AUDIT_KEYS", "not a list"),
    ]:
        with pytest.raises(KeysFileError):
            bundle_settings({**good, name: value})
    with pytest.raises(KeysFileError, match="line break"):
        install_keys(good, tmp_path / "a\nb")
    env_file = install_keys({**good, "signing_key": "-----BEGIN PGP PRIVATE KEY BLOCK-----\n"}, tmp_path / "k")
    assert "PSIRT_SIGNING_KEY_FILE=" in env_file.read_text()
    assert os.stat(tmp_path / "k" / "signing-key.asc").st_mode & 0o077 == 0
