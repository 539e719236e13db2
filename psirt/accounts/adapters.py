"""allauth adapters: sign-up closed, sign-in events audited, TOTP secrets encrypted at rest."""

from __future__ import annotations

import time
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import HttpRequest

from psirt.audit.services import record
from psirt.lib.http import client_address

ENCRYPTED_PREFIX = "fernet:"


def typed_email(credentials: dict[str, Any]) -> str:
    """The address typed on the sign-in form, cut to a sane length, for the audit log (never the password)."""
    value = credentials.get("email") or credentials.get("username") or ""
    text = "".join(ch for ch in str(value) if ch.isprintable())
    return text[:254]


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up is closed: leads invite users (psirt.accounts.services.invite_user)."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        """Login throttling counts per client, the same client the audit log and the rate limits see
        (`psirt.lib.http.client_address`): behind the trusted proxy, failed sign-ins by one visitor lock out that
        visitor, not every member of staff."""
        return client_address(request) or "0.0.0.0"  # noqa: S104 - a key for counting, never a bind address

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            record(action="auth.sign_in_throttled", request=request, data={"email": typed_email(credentials)})
            raise

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        record(action="auth.sign_in_failed", request=request, data={"email": typed_email(credentials)})

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """A sign-in in the last few minutes counts as a fresh confirmation: someone who just signed in and
        is sent to set up two-factor authentication is not asked for the password a second time."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = self.request or context.request
        user = getattr(request, "user", None)
        if request is None or user is None or not user.is_authenticated:
            return True
        records = get_authentication_records(request, user)
        try:
            last = max(float(r.get("at", 0)) for r in records) if records else 0.0
        except (TypeError, ValueError):
            return True
        return time.time() - last >= account_settings.REAUTHENTICATION_TIMEOUT

    def login(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        super().login(request, user)
        methods = sorted({str(r.get("method")) for r in get_authentication_records(request, user)})
        record(action="auth.sign_in", actor=user, request=request, data={"methods": methods})


def _fernet() -> MultiFernet:
    keys = getattr(settings, "PSIRT_ENCRYPTION_KEYS", ()) or ()
    if not keys:
        raise ImproperlyConfigured("PSIRT_ENCRYPTION_KEYS is empty; TOTP secrets cannot be stored.")
    # The first key encrypts, every key decrypts (rotation).
    return MultiFernet([Fernet(k.encode("ascii") if isinstance(k, str) else k) for k in keys])


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are encrypted with the deployment's key: a database dump alone
    does not let anyone generate a staff member's codes."""

    def encrypt(self, text: str) -> str:
        return ENCRYPTED_PREFIX + _fernet().encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith(ENCRYPTED_PREFIX):
            return encrypted_text  # written before encryption was configured
        try:
            return _fernet().decrypt(encrypted_text[len(ENCRYPTED_PREFIX) :].encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise ImproperlyConfigured(
                "A TOTP secret cannot be decrypted with PSIRT_ENCRYPTION_KEYS (was a key removed?)."
            ) from None
