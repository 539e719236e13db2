"""Test helpers: the current TOTP code of a user, and a real sign-in through allauth's forms."""

from __future__ import annotations

import time

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.test import Client

from conftest import PERSONA_PASSWORD


def totp_code(user, *, offset: int = 0) -> str:
    auth = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = decrypt(auth.data["secret"])
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def wrong_code(user) -> str:
    """A six-digit code that is valid for none of the accepted time steps."""
    valid = {totp_code(user, offset=o) for o in (-1, 0, 1)}
    for n in range(1000000):
        candidate = f"{n:06d}"
        if candidate not in valid:
            return candidate
    raise AssertionError("unreachable")


def sign_in(client: Client, email: str, password: str = PERSONA_PASSWORD, lang: str = "en"):
    return client.post(f"/{lang}/accounts/login/", {"login": email, "password": password})
