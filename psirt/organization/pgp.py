"""The team's OpenPGP public key as pasted into the organization profile. Parsing and the usual checks
(readable, not revoked or expired, can encrypt) are `psirt.lib.pgp`'s; this adds what matters for the key the
whole site publishes."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.utils.translation import gettext_lazy as _

from psirt.lib.pgp import PgpError, validate_public_key


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
            _(
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
