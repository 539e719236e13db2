"""Who may reach what among the accounts: the lookup of accounts for leads, and API tokens (format, scopes,
verification, and the django-ninja auth class the API routers use). The desk's view decorators
(`staff_required`, `lead_required`) are `psirt.lib.access`.

An API token reads `psirt_<key_id>_<secret>`: `key_id` (12 hex digits) finds the row, `secret` (32 random bytes,
URL-safe base64) is checked against the stored SHA-256 in constant time. The full token exists only in the
response that created it."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import HttpBearer

from psirt.accounts.models import ApiToken, Role, User

PREFIX = "psirt"
KEY_ID_BYTES = 6  # 12 hex digits: a lookup handle, not a secret
SECRET_BYTES = 32
# psirt_ + 12 hex + _ + 43 URL-safe base64 characters; anything else is rejected before any lookup.
TOKEN_RE = re.compile(r"^psirt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
KEY_ID_RE = re.compile(r"[0-9a-f]{12}")
MAX_TOKEN_LENGTH = 128
# last_used_at is written at most this often per token, so busy clients don't write on every request.
LAST_USED_GRANULARITY = timedelta(minutes=1)


def desk_user(request: HttpRequest) -> User:
    """The signed-in account behind a desk or API request, typed as `User`. The desk's view decorators and the
    API's `TokenAuth` let only signed-in accounts through, so anyone else is answered as if the page did not
    exist."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise Http404
    return user


def get_user_for(viewer: User, public_id: str) -> User:
    """The account `public_id` names, for a lead; 404 for anyone else or an unknown id."""
    if not viewer.is_lead:
        raise Http404
    user = User.objects.filter(public_id=public_id).first()
    if user is None:
        raise Http404
    return user


Viewer = AbstractBaseUser | AnonymousUser | None
"""Whoever asks for a confidential object: an account, the anonymous visitor, or nobody (a background task)."""


def active_account(viewer: Viewer) -> User | None:
    """`viewer` as an active account; None for the anonymous visitor, nobody, or a deactivated account."""
    return viewer if isinstance(viewer, User) and viewer.is_active else None


# Only scopes an endpoint checks exist: a scope nothing asks for would let a token look narrower or wider than
# it is. (Scopes that once existed without an endpoint were removed from stored tokens by migration
# `accounts.0004_remove_unused_token_scopes`.) The public API needs no token; reports are filed without one.
SCOPES: dict[str, Any] = {
    "cases:read": _("Read cases the token's user may see"),
    "cases:write": _("Change cases the token's user may change"),
    "catalog:write": _("Upload SBOMs for the releases of the token's user's product lines (leads and handlers)"),
}

# A token never grants more than its user's role could do in the back office. Every role reads and changes the
# cases it may see (need-to-know decides which); a scope for a role-limited endpoint is added here with it.
SCOPES_BY_ROLE: dict[str, frozenset[str]] = {
    Role.LEAD: frozenset(SCOPES),
    Role.HANDLER: frozenset({"cases:read", "cases:write", "catalog:write"}),
    Role.ENGINEER: frozenset({"cases:read", "cases:write"}),
}


def allowed_scopes(role: str) -> frozenset[str]:
    """The scopes a user with this role may put on a token."""
    return SCOPES_BY_ROLE.get(role, frozenset())


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def new_token_parts() -> tuple[str, str]:
    """A fresh (key_id, secret) pair. The caller stores key_id and hash_secret(secret) only."""
    return secrets.token_hex(KEY_ID_BYTES), secrets.token_urlsafe(SECRET_BYTES)


def format_token(key_id: str, secret: str) -> str:
    return f"{PREFIX}_{key_id}_{secret}"


def parse_token(raw: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed token, None for anything else (never raises)."""
    if not isinstance(raw, str) or len(raw) > MAX_TOKEN_LENGTH:
        return None
    match = TOKEN_RE.match(raw.strip())
    if match is None:
        return None
    return match.group(1), match.group(2)


def authenticate_token(raw: str) -> ApiToken | None:
    """The active token `raw` stands for (its user active too), or None. Updates last_used_at."""
    parts = parse_token(raw)
    if parts is None:
        return None
    key_id, secret = parts
    token = ApiToken.objects.select_related("user").filter(key_id=key_id).first()
    # Hash even when the key is unknown, so timing does not tell whether a key_id exists.
    candidate = hash_secret(secret)
    stored = token.secret_hash if token is not None else "0" * 64
    if not hmac.compare_digest(candidate, stored) or token is None:
        return None
    if not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def has_scopes(token: ApiToken, scopes: Iterable[str]) -> bool:
    """True when the token carries every scope asked for and its user's role still allows them (a role
    change narrows old tokens without touching them)."""
    granted = set(token.scopes or []) & allowed_scopes(token.user.role)
    return set(scopes) <= granted


class TokenAuth(HttpBearer):
    """django-ninja auth: `auth=TokenAuth(scopes=["cases:read"])`. `request.auth` is the ApiToken;
    `request.auth.user` the user. Missing, malformed, unknown, revoked or expired token → 401 with a JSON
    `detail`; a valid token without the scopes → 403."""

    def __init__(self, scopes: Iterable[str] = ()) -> None:
        unknown = set(scopes) - set(SCOPES)
        if unknown:
            raise ValueError(f"unknown API token scopes: {sorted(unknown)}")
        self.scopes = tuple(scopes)
        super().__init__()

    def __call__(self, request: HttpRequest) -> ApiToken | None:
        value = request.headers.get(self.header) or ""
        if not value:
            raise AuthenticationError(message="Authentication required: send 'Authorization: Bearer psirt_…'.")
        scheme, _sep, raw = value.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise AuthenticationError(message="Malformed Authorization header: expected 'Bearer psirt_…'.")
        return self.authenticate(request, raw.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        if parse_token(token) is None:
            raise AuthenticationError(message="Malformed API token.")
        api_token = authenticate_token(token)
        if api_token is None:
            raise AuthenticationError(message="Invalid, expired or revoked API token.")
        if not has_scopes(api_token, self.scopes):
            raise AuthorizationError(
                message="This API token lacks the scope(s) required here: " + ", ".join(self.scopes) + "."
            )
        # Views that go through Django's auth helpers see the token's user.
        request.user = api_token.user
        return api_token
