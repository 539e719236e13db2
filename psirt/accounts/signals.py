"""Audit entries for what allauth and Django do on their own (sign-out, 2FA enrolment, wrong 2FA codes,
password resets). Only recording happens here; no business logic in signals (docs/architecture.md)."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from psirt.audit.services import record

LOGOUT_REASON_ATTR = "_psirt_logout_reason"


@receiver(user_logged_out, dispatch_uid="psirt.audit.sign_out")
def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    reason = getattr(request, LOGOUT_REASON_ATTR, "user") if request is not None else "user"
    action = "auth.session_expired" if reason == "idle" else "auth.sign_out"
    record(action=action, actor=user, request=request, data={"reason": reason})


@receiver(mfa_signals.authenticator_added, dispatch_uid="psirt.audit.mfa_added")
def on_authenticator_added(
    sender: Any, request: HttpRequest | None, user: Any, authenticator: Authenticator, **kwargs: Any
) -> None:
    record(action="mfa.added", actor=user, request=request, data={"type": authenticator.type})
    if request is not None and authenticator.type == Authenticator.Type.TOTP:
        # Activating TOTP proves possession of the code generator, exactly as the sign-in stage would; mark
        # this session the way allauth does, so the staff 2FA check lets the person into the desk.
        record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)


@receiver(mfa_signals.authenticator_removed, dispatch_uid="psirt.audit.mfa_removed")
def on_authenticator_removed(
    sender: Any, request: HttpRequest | None, user: Any, authenticator: Authenticator, **kwargs: Any
) -> None:
    record(action="mfa.removed", actor=user, request=request, data={"type": authenticator.type})


@receiver(mfa_signals.authenticator_reset, dispatch_uid="psirt.audit.mfa_reset")
def on_authenticator_reset(
    sender: Any, request: HttpRequest | None, user: Any, authenticator: Authenticator, **kwargs: Any
) -> None:
    record(action="mfa.recovery_codes_regenerated", actor=user, request=request, data={"type": authenticator.type})


@receiver(mfa_signals.authentication_failed, dispatch_uid="psirt.audit.mfa_failed")
def on_mfa_failed(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # The person is not signed in yet: no actor, the account is the target.
    record(
        action="auth.mfa_failed",
        request=request,
        target=user,
        data={"email": getattr(user, "email", ""), "reauthentication": bool(kwargs.get("reauthentication"))},
    )


@receiver(account_signals.password_reset, dispatch_uid="psirt.audit.password_reset")
def on_password_reset(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record(action="auth.password_set_by_link", actor=user, request=request)


@receiver(account_signals.password_changed, dispatch_uid="psirt.audit.password_changed")
def on_password_changed(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record(action="auth.password_changed", actor=user, request=request)
