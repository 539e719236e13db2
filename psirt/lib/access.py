"""Who may act as a lead, and the desk views' access decorators.

Everyone with an account is staff; some pages and actions are for leads only. A lead counts only while the
account is active. The check is typed by `Actor`, so any app can use it without importing the user model; to
everyone else a lead-only page does not exist (404, not 403), and a lead-only service refuses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from psirt.lib.errors import DomainError

View = Callable[..., HttpResponse]


class Actor(Protocol):
    """What the lead check reads of a user (the anonymous user has neither, and is no lead)."""

    @property
    def is_lead(self) -> bool: ...

    @property
    def is_active(self) -> bool: ...


def is_active_user(user: object | None) -> bool:
    """True for a signed-in, active account (the anonymous user and deactivated accounts see nothing)."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def is_lead(actor: Actor | object | None) -> bool:
    """True for an active account with the lead role."""
    return bool(getattr(actor, "is_lead", False) and getattr(actor, "is_active", False))


def require_lead(actor: Actor | object | None, refusal: Callable[[Any], DomainError]) -> None:
    """Raise `refusal` (the calling app's "not allowed" exception) unless `actor` is an active lead."""
    if not is_lead(actor):
        raise refusal(_("Only a lead can do this."))


def staff_required(view: View) -> View:
    """Signed-in team members (any role); anonymous visitors go to the sign-in page."""
    return login_required(view)


def lead_required(view: View) -> View:
    """Active leads only; other signed-in users get 404, anonymous visitors the sign-in page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_lead(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapper)
