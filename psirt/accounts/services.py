"""Every change to accounts and API tokens. Views, the admin and the CLI call these; each writes its audit
event in the same transaction as the change."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Protocol

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from psirt.accounts.access import SCOPES, allowed_scopes, format_token, hash_secret, new_token_parts
from psirt.accounts.exceptions import (
    AccountError,
    EmailTaken,
    InvalidEmail,
    LastLeadError,
    ScopeNotAllowed,
    SelfChangeError,
    TokenLimitReached,
)
from psirt.accounts.models import ApiToken, Role, User
from psirt.audit.services import record
from psirt.lib.http import absolute_url
from psirt.mail.services import send_mail_bilingual

log = logging.getLogger(__name__)

MAX_ACTIVE_TOKENS = 25
MAX_TOKEN_DAYS = 3650


class ProductLineRef(Protocol):
    """What the accounts read of a catalog product line (the catalog sits above the accounts, so its model is
    not imported here)."""

    @property
    def pk(self) -> int: ...

    @property
    def slug(self) -> str: ...


def normalize_email(email: str) -> str:
    """Lower-cased, stripped, validated address; raises InvalidEmail."""
    value = (email or "").strip().lower()
    if len(value) > 254:
        raise InvalidEmail(_("That e-mail address is too long (254 characters at most)."))
    try:
        validate_email(value)
    except ValidationError:
        raise InvalidEmail(_("Enter a valid e-mail address.")) from None
    return value


def _check_role(role: str) -> str:
    if role not in Role.values:
        raise AccountError(_("Unknown role."))
    return role


@transaction.atomic
def create_user(
    *,
    email: str,
    role: str,
    name: str = "",
    password: str | None = None,
    product_lines: Iterable[ProductLineRef] = (),
    language: str = "en",
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> User:
    """Create an account. Without a password the account cannot sign in until its owner sets one through
    the link of `invite_user`. The password, when given, must pass Django's validators (ValidationError)."""
    address = normalize_email(email)
    _check_role(role)
    if User.objects.filter(email__iexact=address).exists():
        raise EmailTaken(_("An account with this e-mail address already exists."))
    if language not in dict(settings.LANGUAGES):
        language = "en"
    user = User(email=address, name=(name or "").strip()[:150], role=role, language=language)
    if password is not None:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if product_lines:
        user.product_lines.set([line.pk for line in product_lines])
    # allauth finds accounts and sends reset mail through its EmailAddress table.
    EmailAddress.objects.create(user=user, email=address, primary=True, verified=True)
    record(
        action="user.created",
        actor=actor,
        request=request,
        target=user,
        data={"email": address, "role": role},
    )
    return user


def set_password_url(user: User) -> str:
    """An absolute one-time link to choose a password (allauth's password-reset-from-key view). Built on
    PSIRT_BASE_URL, never on the request's Host header, so a forged Host cannot redirect the link."""
    key = default_token_generator.make_token(user)
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": key})
    return absolute_url(path)


def _send_invitation(user: User, inviter: User | None) -> None:
    """Queue the invitation in the mail outbox (psirt.mail): it is sent by the worker after the commit and
    retried if the mail server is down. The outbox keeps the link encrypted and wipes it once sent."""
    language = user.language or "en"
    with translation.override(language):
        link = set_password_url(user)  # the link opens the invitee's language
    send_mail_bilingual(
        to=[user.email],
        template="accounts/mail/invitation",
        language=language,
        context={
            "name": user.name,
            "inviter": inviter.email if inviter is not None else "",
            "link": link,
            "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
            "base_url": settings.PSIRT_BASE_URL,
        },
    )


@transaction.atomic
def invite_user(
    *,
    email: str,
    name: str,
    role: str,
    product_lines: Iterable[ProductLineRef],
    actor: User,
    request: HttpRequest | None,
    language: str = "en",
) -> User:
    """Create an account without a password and mail its owner a link to set one (through the outbox, in
    the same transaction: the account and its invitation exist together, and a mail-server outage only
    delays the mail)."""
    user = create_user(
        email=email,
        role=role,
        name=name,
        product_lines=product_lines,
        language=language,
        actor=actor,
        request=request,
    )
    record(action="user.invited", actor=actor, request=request, target=user, data={"role": role})
    _send_invitation(user, actor)
    return user


@transaction.atomic
def resend_invitation(*, user: User, actor: User, request: HttpRequest | None) -> None:
    """Send a fresh set-password link (the old one stays valid until it expires or a password is set)."""
    if not user.is_active:
        raise AccountError(_("This account is deactivated."))
    record(action="user.invitation_resent", actor=actor, request=request, target=user)
    _send_invitation(user, actor)


def _other_active_leads(user: User) -> bool:
    # Lock the leads' rows: two leads demoting each other at the same moment must not leave none.
    leads = User.objects.select_for_update().filter(role=Role.LEAD, is_active=True).exclude(pk=user.pk)
    return len(list(leads.values_list("pk", flat=True))) > 0


@transaction.atomic
def change_role(*, user: User, role: str, actor: User, request: HttpRequest | None) -> User:
    """Give `user` another role. The last active lead cannot lose the role."""
    _check_role(role)
    old = user.role
    if old == role:
        return user
    if old == Role.LEAD and user.is_active and not _other_active_leads(user):
        raise LastLeadError(_("This is the last active lead; make someone else a lead first."))
    user.role = role
    user.save(update_fields=["role"])
    record(action="user.role_changed", actor=actor, request=request, target=user, data={"from": old, "to": role})
    return user


@transaction.atomic
def set_product_lines(
    *, user: User, product_lines: Iterable[ProductLineRef], actor: User, request: HttpRequest | None
) -> User:
    """Set a product engineer's product lines: they see every case of these lines (`psirt.cases.access`)."""
    lines = list(product_lines)
    before = sorted(user.product_lines.values_list("slug", flat=True))
    user.product_lines.set([line.pk for line in lines])
    after = sorted(line.slug for line in lines)
    if before != after:
        record(
            action="user.product_lines_changed",
            actor=actor,
            request=request,
            target=user,
            data={"from": before, "to": after},
        )
    return user


@transaction.atomic
def deactivate_user(*, user: User, actor: User, request: HttpRequest | None) -> User:
    """Stop an account: its sessions end at their next request (inactive users are not loaded) and its API
    tokens are revoked."""
    if actor is not None and user.pk == actor.pk:
        raise SelfChangeError(_("You cannot deactivate your own account; ask another lead."))
    if not user.is_active:
        return user
    if user.role == Role.LEAD and not _other_active_leads(user):
        raise LastLeadError(_("This is the last active lead; make someone else a lead first."))
    user.is_active = False
    user.save(update_fields=["is_active"])
    revoked = 0
    for token in ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True):
        _revoke(token, actor=actor, request=request, reason="user deactivated")
        revoked += 1
    record(action="user.deactivated", actor=actor, request=request, target=user, data={"tokens_revoked": revoked})
    return user


@transaction.atomic
def reactivate_user(*, user: User, actor: User, request: HttpRequest | None) -> User:
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    record(action="user.reactivated", actor=actor, request=request, target=user)
    return user


@transaction.atomic
def reset_mfa(*, user: User, actor: User, request: HttpRequest | None) -> int:
    """Remove a user's authenticators (lost phone). They must enrol again at their next sign-in to the desk."""
    if actor is not None and user.pk == actor.pk:
        raise SelfChangeError(_("Manage your own two-factor authentication from your account page."))
    deleted, _details = Authenticator.objects.filter(user=user).delete()
    record(action="user.mfa_reset", actor=actor, request=request, target=user, data={"authenticators": deleted})
    return int(deleted)


@transaction.atomic
def create_token(
    *,
    user: User,
    name: str,
    scopes: Iterable[str],
    expires_days: int | None = None,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token for `user`; returns the row and the full token, which is never stored and must
    be shown to the person once."""
    wanted = sorted(set(scopes))
    if not wanted:
        raise ScopeNotAllowed(_("Choose at least one scope."))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise ScopeNotAllowed(_("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(unknown)})
    refused = [s for s in wanted if s not in allowed_scopes(user.role)]
    if refused:
        raise ScopeNotAllowed(
            _("A %(role)s cannot hold these scopes: %(scopes)s.")
            % {"role": user.get_role_display(), "scopes": ", ".join(refused)}
        )
    if not user.is_active:
        raise AccountError(_("This account is deactivated."))
    clean_name = " ".join((name or "").split())[:100] or "token"
    if expires_days is not None and not 1 <= expires_days <= MAX_TOKEN_DAYS:
        raise AccountError(_("The lifetime must be between 1 and %(max)d days.") % {"max": MAX_TOKEN_DAYS})
    now = timezone.now()
    active = ApiToken.objects.filter(user=user, revoked_at__isnull=True).exclude(expires_at__lte=now).count()
    if active >= MAX_ACTIVE_TOKENS:
        raise TokenLimitReached(_("You already have %(n)d active tokens; revoke one first.") % {"n": MAX_ACTIVE_TOKENS})
    key_id, secret = new_token_parts()
    token = ApiToken.objects.create(
        key_id=key_id,
        secret_hash=hash_secret(secret),
        user=user,
        name=clean_name,
        scopes=wanted,
        expires_at=now + timedelta(days=expires_days) if expires_days else None,
    )
    record(
        action="token.created",
        actor=actor or user,
        request=request,
        target=token,
        data={
            "user": user.email,
            "name": clean_name,
            "scopes": wanted,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
    )
    return token, format_token(key_id, secret)


def _revoke(token: ApiToken, *, actor: User | None, request: HttpRequest | None, reason: str = "") -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    data: dict[str, Any] = {"user": token.user.email, "name": token.name}
    if reason:
        data["reason"] = reason
    record(action="token.revoked", actor=actor, request=request, target=token, data=data)


@transaction.atomic
def revoke_token(*, token: ApiToken, actor: User | None, request: HttpRequest | None = None) -> ApiToken:
    """Revoke a token at once (idempotent)."""
    locked = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if locked.revoked_at is None:
        _revoke(locked, actor=actor, request=request)
    return locked
