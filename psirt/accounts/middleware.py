"""Session rules for staff: idle sessions end, and the desk and the admin require two-factor sign-in."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from psirt.accounts.signals import LOGOUT_REASON_ATTR

LAST_ACTIVITY_KEY = "psirt_last_activity"
# The timestamp is rewritten at most this often, so every request does not write the session row.
ACTIVITY_WRITE_INTERVAL = 60
# Areas behind the staff sign-in (URL namespaces).
STAFF_NAMESPACES = frozenset({"desk", "admin"})


def _login_url(next_path: str | None) -> str:
    url = reverse("account_login")
    if next_path:
        url += "?" + urlencode({"next": next_path})
    return url


class IdleTimeoutMiddleware:
    """Signs out a session that has been idle longer than `settings.PSIRT_IDLE_TIMEOUT` seconds (a
    last-activity timestamp in the session), then sends the person to the sign-in page with a message.
    Must run after the message middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY_KEY)
            timeout = int(getattr(settings, "PSIRT_IDLE_TIMEOUT", 0) or 0)
            if isinstance(last, int) and timeout > 0 and now - last > timeout:
                setattr(request, LOGOUT_REASON_ATTR, "idle")
                logout(request)
                messages.info(request, _("You were signed out after a period of inactivity. Please sign in again."))
                next_path = request.get_full_path() if request.method == "GET" else None
                return HttpResponseRedirect(_login_url(next_path))
            if not isinstance(last, int) or now - last >= ACTIVITY_WRITE_INTERVAL:
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


def session_passed_mfa(request: HttpRequest, user: Any) -> bool:
    """True when this session completed a second factor, per allauth's record of authentication methods."""
    return any(rec.get("method") == "mfa" for rec in get_authentication_records(request, user))


class RequireStaffMFAMiddleware:
    """With `settings.PSIRT_REQUIRE_MFA`, the desk and the admin are reachable only by users who have an
    authenticator app (others are sent to enrol) and whose session passed it (others confirm a code)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if not getattr(settings, "PSIRT_REQUIRE_MFA", False):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        match = request.resolver_match
        if match is None or not STAFF_NAMESPACES.intersection(match.namespaces):
            return None
        if not is_mfa_enabled(user, [Authenticator.Type.TOTP]):
            messages.warning(
                request,
                _("Two-factor authentication is required for the back office. Set up your authenticator app."),
            )
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        if not session_passed_mfa(request, user):
            # E.g. the app was enrolled from another session: confirm a code now, then continue.
            url = reverse("mfa_reauthenticate")
            if request.method == "GET":
                url += "?" + urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(url)
        return None
