"""The team signing key: loading, the development key, detached and cleartext signatures, verification."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pysequoia
import pytest

from psirt.lib import signing


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "team.asc"
    path.write_text(str(pysequoia.Tsk.generate("Example PSIRT <psirt@example.com>")), encoding="ascii")
    return path


def test_configured_key_signs_and_its_public_key_verifies(settings, key_file: Path) -> None:
    settings.PSIRT_SIGNING_KEY_FILE = str(key_file)
    key = signing.signing_key()
    assert key.fingerprint == key.fingerprint.upper() and len(key.fingerprint) == 40
    assert key.public_key.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert "PRIVATE" not in key.public_key
    data = b'{"document": {"title": "x"}}\n'
    sig = key.sign_detached(data)
    assert sig.startswith("-----BEGIN PGP SIGNATURE-----")
    assert signing.verify_detached(data, sig, key.public_key)
    assert not signing.verify_detached(data + b" ", sig, key.public_key)
    assert signing.signing_available()


def test_signature_by_another_key_does_not_verify(settings, key_file: Path, tmp_path: Path) -> None:
    settings.PSIRT_SIGNING_KEY_FILE = str(key_file)
    sig = signing.signing_key().sign_detached(b"data")
    other = str(pysequoia.Tsk.generate("Other").extract_certificate())
    assert not signing.verify_detached(b"data", sig, other)
    assert not signing.verify_detached(b"data", "not a signature", signing.signing_key().public_key)
    assert not signing.verify_detached(b"data", sig, "not a key")


def test_clear_signed_text_round_trips_and_tampering_is_caught(settings, key_file: Path) -> None:
    settings.PSIRT_SIGNING_KEY_FILE = str(key_file)
    key = signing.signing_key()
    text = "Contact: mailto:psirt@example.com\nExpires: 2027-01-01T00:00:00Z\nPreferred-Languages: en, zh\n"
    signed = key.clear_sign(text)
    assert signed.startswith("-----BEGIN PGP SIGNED MESSAGE-----")
    assert text.splitlines()[0] in signed
    assert signing.verify_clearsigned(signed, key.public_key) == text
    tampered = signed.replace("psirt@example.com", "evil@example.com")
    assert signing.verify_clearsigned(tampered, key.public_key) is None
    assert signing.verify_clearsigned(text, key.public_key) is None
    other = str(pysequoia.Tsk.generate("Other").extract_certificate())
    assert signing.verify_clearsigned(signed, other) is None


def test_replacing_the_key_file_takes_effect_without_restart(settings, key_file: Path) -> None:
    settings.PSIRT_SIGNING_KEY_FILE = str(key_file)
    first = signing.signing_key()
    assert signing.signing_key() is first  # cached
    key_file.write_text(str(pysequoia.Tsk.generate("Rotated")), encoding="ascii")
    later = key_file.stat().st_mtime_ns + 10**9  # a coarse file system clock must still see a new mtime
    os.utime(key_file, ns=(later, later))
    assert signing.signing_key().fingerprint != first.fingerprint


def test_production_without_key_names_the_variable(settings) -> None:
    settings.PSIRT_SIGNING_KEY_FILE = None
    settings.PSIRT_DEV = False
    with pytest.raises(signing.SigningUnavailable, match="PSIRT_SIGNING_KEY_FILE"):
        signing.signing_key()
    assert not signing.signing_available()


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "cannot be read"),
        ("hello", "holds no secret key"),
        ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\ngarbage\n-----END PGP PRIVATE KEY BLOCK-----\n", "not a readable"),
    ],
)
def test_unusable_key_files_give_a_message_without_backtrace(settings, tmp_path: Path, content, message) -> None:
    path = tmp_path / "key.asc"
    if content is not None:
        path.write_text(content, encoding="ascii")
    settings.PSIRT_SIGNING_KEY_FILE = str(path)
    with pytest.raises(signing.SigningUnavailable, match=message) as info:
        signing.signing_key()
    assert "PSIRT_SIGNING_KEY_FILE" in str(info.value)
    assert "backtrace" not in str(info.value).lower() and "\n" not in str(info.value)


def test_a_public_key_file_is_refused(settings, tmp_path: Path) -> None:
    path = tmp_path / "public.asc"
    path.write_text(str(pysequoia.Tsk.generate("Pub").extract_certificate()), encoding="ascii")
    settings.PSIRT_SIGNING_KEY_FILE = str(path)
    with pytest.raises(signing.SigningUnavailable, match="no secret key"):
        signing.signing_key()


def test_dev_mode_generates_one_private_development_key_and_reuses_it(settings, tmp_path: Path) -> None:
    settings.PSIRT_SIGNING_KEY_FILE = None
    settings.PSIRT_DEV = True
    settings.PSIRT_VAR_DIR = tmp_path
    key = signing.signing_key()
    path = tmp_path / "keys" / signing.DEV_KEY_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [str(u) for u in pysequoia.Cert.from_bytes(key.public_key.encode()).user_ids] == [signing.DEV_USER_ID]
    again = signing.signing_key()
    assert again.fingerprint == key.fingerprint
    assert [p.name for p in path.parent.iterdir()] == [signing.DEV_KEY_NAME]  # no temporary file left behind


def test_deploy_check_warns_without_a_signing_key(settings, key_file: Path) -> None:
    from psirt.lib.checks import signing_key_check

    settings.PSIRT_SIGNING_KEY_FILE = None
    settings.PSIRT_DEV = False
    [warning] = signing_key_check()
    assert warning.id == "psirt.W001" and "PSIRT_SIGNING_KEY_FILE" in warning.msg
    settings.PSIRT_SIGNING_KEY_FILE = str(key_file)
    assert signing_key_check() == []


def test_deploy_check_is_registered() -> None:
    from django.core.checks import registry

    from psirt.lib.checks import signing_key_check

    assert signing_key_check in registry.registry.get_checks(include_deployment_checks=True)
