"""`psirt backup --keys-to FILE`: the installation's secrets, exported apart from the archive and encrypted.

A database copy together with its keys is the whole secret, so the archive never holds a key. The keys file holds
SECRET_KEY, PSIRT_ENCRYPTION_KEYS, PSIRT_AUDIT_KEYS and the OpenPGP signing and team keys (when configured), as
JSON inside an OpenPGP message (pysequoia) encrypted to one or more certificates and/or to a passphrase (OpenPGP's
symmetric encryption, whose key is derived from the passphrase by a salted, iterated S2K). The passphrase is read
from a prompt or a file, never from the command line (argv is visible to every user of the machine)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

import pysequoia
from django.conf import settings

from psirt.lib.signing import DEV_KEY_NAME
from psirt.ops.backup.exceptions import KeysFileError

KEYS_FORMAT = "psirt-keys/1"
MIN_PASSPHRASE = 12
MAX_KEYS_FILE = 4 * 1024 * 1024


def _read_optional(path: Path | None) -> str | None:
    if path is None or not path.is_file():
        return None
    return path.read_text(encoding="utf-8")


def signing_key_path() -> Path:
    configured = settings.PSIRT_SIGNING_KEY_FILE
    return Path(configured) if configured else Path(settings.PSIRT_VAR_DIR) / "keys" / DEV_KEY_NAME


def keys_bundle() -> dict[str, Any]:
    """The secrets of this installation, by the name of the variable (or file) they come from."""
    team = settings.PSIRT_TEAM_KEY_FILE
    return {
        "format": KEYS_FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "SECRET_KEY": settings.SECRET_KEY,
        "PSIRT_ENCRYPTION_KEYS": list(settings.PSIRT_ENCRYPTION_KEYS),
        "PSIRT_AUDIT_KEYS": list(settings.PSIRT_AUDIT_KEYS),
        "signing_key": _read_optional(signing_key_path()),
        "team_key": _read_optional(Path(team) if team else None),
    }


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeysFileError(f"The passphrase is too short: use at least {MIN_PASSPHRASE} characters (a few words).")


def load_certificates(paths: list[Path]) -> list[Any]:
    certs = []
    for path in paths:
        try:
            certs.append(pysequoia.Cert.from_bytes(path.read_bytes()))
        except (OSError, RuntimeError, ValueError):
            raise KeysFileError(f"{path} is not a readable OpenPGP certificate.") from None
    return certs


def write_keys(*, dest: Path, recipients: list[Path], passphrase: str | None) -> None:
    """Encrypt the keys bundle to the certificates and/or the passphrase into `dest` (created 0600, never over an
    existing file)."""
    if not recipients and not passphrase:
        raise KeysFileError("Name a certificate (--keys-recipient FILE) or give a passphrase to encrypt the keys to.")
    if passphrase is not None:
        check_passphrase(passphrase)
    certs = load_certificates(recipients)
    data = json.dumps(keys_bundle(), indent=1).encode("utf-8")
    kwargs: dict[str, Any] = {}
    if certs:
        kwargs["recipients"] = certs
    if passphrase:
        kwargs["passwords"] = [passphrase]
    try:
        encrypted = pysequoia.encrypt(data, armor=True, **kwargs)
    except (RuntimeError, ValueError):
        raise KeysFileError(
            "The keys could not be encrypted to that certificate (has it an encryption key?)."
        ) from None
    try:
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeysFileError(f"{dest} already exists: the keys file is never written over.") from None
    with os.fdopen(fd, "wb") as out:
        out.write(encrypted)
        out.flush()
        os.fsync(out.fileno())


def read_keys(*, path: Path, passphrase: str | None = None, secret_key: Path | None = None) -> dict[str, Any]:
    """Decrypt a keys file with the passphrase or an OpenPGP secret key file."""
    try:
        if path.stat().st_size > MAX_KEYS_FILE:
            raise KeysFileError(f"{path} is far larger than a keys file: refused.")
        data = path.read_bytes()
    except OSError as exc:
        raise KeysFileError(f"{path} cannot be read ({exc.strerror}).") from None
    try:
        if secret_key is not None:
            tsk = pysequoia.Tsk.from_bytes(secret_key.read_bytes())
            plain = pysequoia.decrypt(data, decryptor=tsk.decryptor()).bytes
        else:
            plain = pysequoia.decrypt(data, passwords=[passphrase or ""]).bytes
        if plain is None:
            raise ValueError("no content")
        bundle = json.loads(plain.decode("utf-8"))
    except (RuntimeError, ValueError, OSError):
        raise KeysFileError(
            "The keys file cannot be decrypted with that passphrase or key, or it is damaged."
        ) from None
    if not isinstance(bundle, dict) or bundle.get("format") != KEYS_FORMAT:
        raise KeysFileError("That file is not a psirt keys file.")
    return bundle


_KEY_TEXT = re.compile(r"^[A-Za-z0-9_=-]{20,200}$")


def _key_list(bundle: dict[str, Any], name: str) -> tuple[str, ...]:
    keys = bundle.get(name)
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and _KEY_TEXT.match(k) for k in keys):
        raise KeysFileError(f"The keys file holds no usable {name}.")
    return tuple(keys)


def bundle_settings(bundle: dict[str, Any]) -> dict[str, Any]:
    """The settings a keys file sets: SECRET_KEY and the encryption and audit key lists (checked for shape)."""
    secret = bundle.get("SECRET_KEY")
    if not isinstance(secret, str) or not secret.strip() or "\n" in secret:
        raise KeysFileError("The keys file holds no usable SECRET_KEY.")
    return {
        "SECRET_KEY": secret,
        "PSIRT_ENCRYPTION_KEYS": _key_list(bundle, "PSIRT_ENCRYPTION_KEYS"),
        "PSIRT_AUDIT_KEYS": _key_list(bundle, "PSIRT_AUDIT_KEYS"),
    }


def _write_secret(path: Path, text: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeysFileError(f"{path} already exists: a key file is never written over.") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def install_keys(bundle: dict[str, Any], folder: Path) -> Path:
    """Write the keys of `bundle` into `folder` (created owner-only; refused when it holds anything) as the
    configuration of this installation: the secret key and the OpenPGP keys as files, and `restored-keys.env`, an
    environment file (systemd's EnvironmentFile=, docker's --env-file) that sets every variable to them. Returns
    the environment file."""
    values = bundle_settings(bundle)
    if any(c in str(folder) for c in "\n\r\0"):
        raise KeysFileError("The keys folder's name holds a line break: choose another.")
    if folder.is_symlink() or (folder.exists() and (not folder.is_dir() or any(folder.iterdir()))):
        raise KeysFileError(f"{folder} exists and is not an empty folder: name a new one for the keys.")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    _write_secret(folder / "secret_key", values["SECRET_KEY"] + "\n")
    lines = [
        f"SECRET_KEY_FILE={folder / 'secret_key'}",
        f"PSIRT_ENCRYPTION_KEYS={','.join(values['PSIRT_ENCRYPTION_KEYS'])}",
        f"PSIRT_AUDIT_KEYS={','.join(values['PSIRT_AUDIT_KEYS'])}",
    ]
    for field_name, file_name, variable in (
        ("signing_key", "signing-key.asc", "PSIRT_SIGNING_KEY_FILE"),
        ("team_key", "team-key.asc", "PSIRT_TEAM_KEY_FILE"),
    ):
        text = bundle.get(field_name)
        if isinstance(text, str) and text.strip():
            _write_secret(folder / file_name, text)
            lines.append(f"{variable}={folder / file_name}")
    env_file = folder / "restored-keys.env"
    _write_secret(env_file, "\n".join(lines) + "\n")
    return env_file
