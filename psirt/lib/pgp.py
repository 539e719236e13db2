"""OpenPGP for reports (pysequoia): recognise an armored message, decrypt it with the team key, encrypt mail
to a reporter's key, check a pasted public key (and the team key the whole site publishes).

pysequoia's errors carry Rust backtraces; nothing from them reaches a visitor. Functions here raise
`PgpError` with a short message that says what to do.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pysequoia
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

logger = logging.getLogger(__name__)

MESSAGE_RE = re.compile(
    r"-----BEGIN PGP MESSAGE-----\r?\n.*?-----END PGP MESSAGE-----",
    re.DOTALL,
)
PUBLIC_KEY_BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
PUBLIC_KEY_END = "-----END PGP PUBLIC KEY BLOCK-----"
MAX_KEY_LENGTH = 64 * 1024


class PgpError(ValueError):
    """An OpenPGP operation failed; the message is fit for the person who asked."""


def find_armored_message(text: str) -> str | None:
    """The first ASCII-armored OpenPGP message inside `text`, or None."""
    match = MESSAGE_RE.search(text or "")
    return match.group(0) if match else None


def is_armored_message(text: str) -> bool:
    """True when the text is (essentially) one armored OpenPGP message: an encrypted report."""
    stripped = (text or "").strip()
    return stripped.startswith("-----BEGIN PGP MESSAGE-----") and stripped.endswith("-----END PGP MESSAGE-----")


@dataclass(frozen=True)
class PublicKeyInfo:
    fingerprint: str
    user_ids: list[str]
    expires: str | None
    armored: str


def validate_public_key(text: str) -> PublicKeyInfo:
    """Parse a pasted public key. Refuses secret keys, revoked or expired keys, keys that cannot encrypt."""
    text = (text or "").strip()
    if len(text) > MAX_KEY_LENGTH:
        raise PgpError(_("This key is too long. Paste only your public key block (export it with --armor)."))
    if "PRIVATE KEY BLOCK" in text:
        raise PgpError(_("This is a private key. Never share it: paste your PUBLIC key block instead."))
    if PUBLIC_KEY_BEGIN not in text or PUBLIC_KEY_END not in text:
        raise PgpError(
            _(
                "Paste an ASCII-armored public key, from -----BEGIN PGP PUBLIC KEY BLOCK----- "
                "to -----END PGP PUBLIC KEY BLOCK-----."
            )
        )
    try:
        cert = pysequoia.Cert.from_bytes(text.encode("utf-8"))
    except Exception as exc:  # pysequoia raises RuntimeError/ValueError with backtraces
        logger.info("public key rejected: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise PgpError(_("This public key cannot be read. Export it again with --armor and paste all of it.")) from None
    try:
        return _checked_key(cert)
    except PgpError:
        raise
    except Exception as exc:  # a cert that parses but whose signatures do not hold (pysequoia raises RuntimeError)
        logger.info("public key rejected: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise PgpError(_("This public key cannot be read. Export it again with --armor and paste all of it.")) from None


def _checked_key(cert: Any) -> PublicKeyInfo:
    """The checks of `validate_public_key` on a parsed cert; reading its properties may raise on a damaged one."""
    with warnings.catch_warnings():
        # pysequoia deprecates Cert.has_secret_keys in favour of Tsk, but Tsk.from_bytes also accepts a public
        # cert, so it cannot tell the two apart; the property is still the one reliable check.
        warnings.simplefilter("ignore", DeprecationWarning)
        has_secret = cert.has_secret_keys
    if has_secret:
        raise PgpError(_("This block holds a private key. Never share it: paste your PUBLIC key block instead."))
    if cert.is_revoked:
        raise PgpError(_("This key is revoked. Paste a current public key."))
    if cert.expiration is not None and cert.expiration <= timezone.now():
        raise PgpError(_("This key has expired. Extend it or paste a current public key."))
    try:
        pysequoia.encrypt(b"test", recipients=[cert])
    except Exception:
        raise PgpError(
            _("This key has no usable encryption subkey. Paste a key that can receive encrypted mail.")
        ) from None
    return PublicKeyInfo(
        fingerprint=cert.fingerprint.upper(),
        user_ids=[str(uid) for uid in cert.user_ids],
        expires=cert.expiration.isoformat() if cert.expiration else None,
        armored=str(cert),
    )


def encrypt_to(text: str, public_key: str) -> str:
    """Armored OpenPGP message of `text` for the holder of `public_key`."""
    try:
        cert = pysequoia.Cert.from_bytes(public_key.encode("utf-8"))
        return pysequoia.encrypt(text.encode("utf-8"), recipients=[cert]).decode("ascii")
    except Exception:
        raise PgpError(_("The message cannot be encrypted to this key.")) from None


@lru_cache(maxsize=2)
def _team_decryptor(path: str, mtime: float) -> object:
    tsk = pysequoia.Tsk.from_file(path)
    return tsk.decryptor()


def team_key_configured() -> bool:
    return bool(getattr(settings, "PSIRT_TEAM_KEY_FILE", None))


def decrypt_with_team_key(armored: str) -> str:
    """Decrypt an armored message with the team's secret key (PSIRT_TEAM_KEY_FILE).

    Raises PgpError when no key is configured, the key cannot be loaded, or the message is not for it."""
    key_file = getattr(settings, "PSIRT_TEAM_KEY_FILE", None)
    if not key_file:
        raise PgpError(_("No team key is configured (PSIRT_TEAM_KEY_FILE)."))
    path = Path(key_file)
    try:
        decryptor = _team_decryptor(str(path), path.stat().st_mtime)
    except Exception:
        logger.error("the team key in PSIRT_TEAM_KEY_FILE cannot be loaded")
        raise PgpError(_("The team key cannot be loaded; ask an administrator to check PSIRT_TEAM_KEY_FILE.")) from None
    try:
        result = pysequoia.decrypt(armored.encode("utf-8"), decryptor=decryptor)  # type: ignore[arg-type]
    except Exception:
        raise PgpError(_("This message is not encrypted to the team key, or it is damaged.")) from None
    data = result.bytes or b""
    return data.decode("utf-8", errors="replace")


class KeyProblem(ValueError):
    """The text is not a usable public key; `message` says what to paste instead."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def check_public_key(text: str) -> str:
    """The key's fingerprint (upper-case hex) if `text` is one usable ASCII-armoured OpenPGP public key."""
    if "PRIVATE KEY BLOCK" in text:
        # Publishing it would let anyone read the reports sent to the team: say so plainly.
        raise KeyProblem(
            gettext_lazy(
                "This is a PRIVATE key. Never publish it: paste the PUBLIC key (-----BEGIN PGP PUBLIC KEY "
                "BLOCK-----), and treat this private key as exposed."
            )
        )
    try:
        return validate_public_key(text).fingerprint
    except PgpError as exc:
        raise KeyProblem(str(exc)) from None


@lru_cache(maxsize=8)
def fingerprint(text: str) -> str:
    """The fingerprint of a stored key, or "" when there is none or it is no longer usable."""
    if not text:
        return ""
    try:
        return check_public_key(text)
    except KeyProblem:
        return ""


def format_fingerprint(value: str) -> str:
    """Groups of four, as people compare them on screen."""
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
