"""Checks for the team's OpenPGP public key as pasted into the organization profile."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.utils.translation import gettext_lazy as _

ARMOR_PUBLIC = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
ARMOR_PRIVATE = "-----BEGIN PGP PRIVATE KEY BLOCK-----"


class KeyProblem(ValueError):
    """The text is not a usable public key; `message` says what to paste instead."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def check_public_key(text: str) -> str:
    """The key's fingerprint (upper-case hex) if `text` is one ASCII-armoured OpenPGP public key.

    A pasted *private* key is refused loudly: publishing it would let anyone read the reports sent to the team."""
    import pysequoia

    if ARMOR_PRIVATE in text:
        raise KeyProblem(
            _(
                "This is a PRIVATE key. Never publish it: paste the PUBLIC key (-----BEGIN PGP PUBLIC KEY "
                "BLOCK-----), and consider this private key exposed."
            )
        )
    if ARMOR_PUBLIC not in text:
        raise KeyProblem(_("Paste the ASCII-armoured public key, starting with -----BEGIN PGP PUBLIC KEY BLOCK-----."))
    try:
        cert = pysequoia.Cert.from_bytes(text.encode("utf-8"))
    except Exception:  # pysequoia raises plain exceptions for every parse failure
        raise KeyProblem(_("This key block cannot be read. Export the public key again and paste all of it.")) from None
    if cert.has_secret_keys:
        raise KeyProblem(_("This key block contains secret key material. Paste only the public key."))
    return str(cert.fingerprint).upper()


@lru_cache(maxsize=8)
def fingerprint(text: str) -> str:
    """The fingerprint of a stored key, or "" when there is none or it cannot be read."""
    if not text:
        return ""
    try:
        return check_public_key(text)
    except KeyProblem:
        return ""


def format_fingerprint(value: str) -> str:
    """Groups of four, as people compare them on screen."""
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
