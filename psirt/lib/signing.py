"""The team's OpenPGP signing key (pysequoia): detached signatures for the CSAF provider tree, the cleartext
signature of security.txt, and verification for tests and tooling.

The key comes from `PSIRT_SIGNING_KEY_FILE` (an ASCII-armored secret key without a passphrase: the server signs
unattended). In development mode (`PSIRT_DEV=1`) with no file configured, a development key is generated once
under `PSIRT_VAR_DIR/keys/` and reused, so a laptop gets a complete provider tree without any setup; its user ID
says it is a development key, so nobody mistakes it for a real one. In production without a key, signing raises
`SigningUnavailable` (and `manage.py check --deploy` warns, see psirt/lib/checks.py).

pysequoia's errors carry Rust backtraces; none of that reaches a caller's message or a log line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pysequoia
from django.conf import settings

logger = logging.getLogger(__name__)

DEV_KEY_NAME = "signing-key.asc"
DEV_USER_ID = "psirt development signing key - NOT FOR PRODUCTION <psirt-dev@localhost>"

_dev_key_lock = threading.Lock()


class SigningUnavailable(Exception):
    """No usable signing key; the message names what to configure."""


@dataclass(frozen=True, eq=False)
class SigningKey:
    """A loaded secret key, ready to sign. Cheap to share between threads: it is never mutated."""

    fingerprint: str
    public_key: str
    _signer: Any
    path: str

    def sign_detached(self, data: bytes) -> str:
        """ASCII-armored detached signature over exactly `data`."""
        try:
            return pysequoia.sign(self._signer, data, mode=pysequoia.SignatureMode.DETACHED).decode("ascii")
        except Exception:
            logger.error("signing with the key in %s failed", self.path)
            raise SigningUnavailable("The signing key cannot sign; check PSIRT_SIGNING_KEY_FILE.") from None

    def clear_sign(self, text: str) -> str:
        """`text` wrapped in the OpenPGP cleartext signature framework (RFC 9580 section 7), as RFC 9116 asks."""
        try:
            signed = pysequoia.sign(self._signer, text.encode("utf-8"), mode=pysequoia.SignatureMode.CLEAR)
        except Exception:
            logger.error("clear-signing with the key in %s failed", self.path)
            raise SigningUnavailable("The signing key cannot sign; check PSIRT_SIGNING_KEY_FILE.") from None
        return signed.decode("utf-8")


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> SigningKey:
    """Parse the key file once per (path, modification time): replacing the file takes effect without a restart."""
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise SigningUnavailable(f"PSIRT_SIGNING_KEY_FILE={path!r} cannot be read ({exc.strerror}).") from None
    if b"PRIVATE KEY BLOCK" not in text:
        raise SigningUnavailable(
            f"PSIRT_SIGNING_KEY_FILE={path!r} holds no secret key: export it with `gpg --export-secret-keys --armor`."
        )
    try:
        tsk = pysequoia.Tsk.from_bytes(text)
        cert = tsk.extract_certificate()
    except Exception as exc:
        logger.error("the signing key in PSIRT_SIGNING_KEY_FILE cannot be parsed: %s", _first_line(exc))
        raise SigningUnavailable(f"PSIRT_SIGNING_KEY_FILE={path!r} is not a readable OpenPGP secret key.") from None
    try:
        signer = tsk.signer()
        # Prove the key signs now (a passphrase-protected or signing-incapable key fails here, not mid-export).
        pysequoia.sign(signer, b"psirt", mode=pysequoia.SignatureMode.DETACHED)
    except Exception as exc:
        logger.error("the signing key in PSIRT_SIGNING_KEY_FILE cannot sign: %s", _first_line(exc))
        raise SigningUnavailable(
            f"The key in PSIRT_SIGNING_KEY_FILE={path!r} cannot sign: it needs a usable signing (sub)key and no "
            "passphrase (the server signs unattended)."
        ) from None
    public = str(cert)
    if "PRIVATE KEY" in public:  # defensive: the published key must never carry secret parts
        raise SigningUnavailable("The public part of the signing key cannot be separated from its secret.")
    return SigningKey(fingerprint=cert.fingerprint.upper(), public_key=public, _signer=signer, path=path)


def _dev_key_path() -> Path:
    return Path(settings.PSIRT_VAR_DIR) / "keys" / DEV_KEY_NAME


def _ensure_dev_key() -> Path:
    """Create the development key once; concurrent first calls (threads or processes) end with the same key."""
    path = _dev_key_path()
    if path.exists():
        return path
    with _dev_key_lock:
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        armored = str(pysequoia.Tsk.generate(DEV_USER_ID)).encode("ascii")
        # Written 0600 under a temporary name, then hard-linked into place: the name appears only complete, and
        # if another process won the race, its key stays and ours is discarded.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(armored)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        logger.warning("generated a development signing key in %s (PSIRT_DEV=1, no PSIRT_SIGNING_KEY_FILE)", path)
    return path


def _key_path() -> Path:
    configured = getattr(settings, "PSIRT_SIGNING_KEY_FILE", None)
    if configured:
        return Path(configured)
    if getattr(settings, "PSIRT_DEV", False):
        return _ensure_dev_key()
    raise SigningUnavailable(
        "No signing key is configured: set PSIRT_SIGNING_KEY_FILE to an ASCII-armored OpenPGP secret key "
        "(without passphrase) that signs the CSAF documents and security.txt."
    )


def signing_key() -> SigningKey:
    """The team's signing key; raises SigningUnavailable with a message naming PSIRT_SIGNING_KEY_FILE."""
    path = _key_path()
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError as exc:
        raise SigningUnavailable(f"PSIRT_SIGNING_KEY_FILE={str(path)!r} cannot be read ({exc.strerror}).") from None
    return _load(str(path), mtime_ns)


def signing_available() -> bool:
    """True when signing_key() would succeed."""
    try:
        signing_key()
    except SigningUnavailable:
        return False
    return True


@lru_cache(maxsize=8)
def _store_for(public_key: str) -> Any:
    # Cached: a provider sync checks thousands of signatures against the same key; parse its certificate once.
    cert = pysequoia.Cert.from_bytes(public_key.encode("utf-8"))
    # The verifier asks for keys by ID; it only ever gets this one, so a signature by any other key fails.
    return lambda _key_ids: [cert]


def verify_detached(data: bytes, signature: str, public_key: str) -> bool:
    """True when `signature` (armored, detached) is a valid signature over `data` by `public_key`."""
    try:
        sig = pysequoia.Sig.from_bytes(signature.encode("ascii"))
        result = pysequoia.verify(bytes=data, store=_store_for(public_key), signature=sig)
    except Exception:
        return False
    return bool(result.valid_sigs)


def verify_clearsigned(text: str, public_key: str) -> str | None:
    """The signed text inside a cleartext-signed message when its signature by `public_key` is valid, else None."""
    try:
        result = pysequoia.verify(bytes=text.encode("utf-8"), store=_store_for(public_key))
    except Exception:
        return None
    if not result.valid_sigs or result.bytes is None:
        return None
    return result.bytes.decode("utf-8")
