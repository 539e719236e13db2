"""Who may change the catalog. Every staff member may read it (engineers need it to talk about their
products); leads and handlers may change it (handlers record fixed releases while coordinating a case);
engineers get 403 on the editing pages — the catalog is not confidential, so there is nothing to hide behind a
404."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.lib.access import staff_required


def can_edit_catalog(user: User | AnonymousUser) -> bool:
    """Leads and handlers edit the catalog; product engineers read it."""
    return isinstance(user, User) and user.is_active and (user.is_lead or user.is_handler)


def editor_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in leads and handlers only; engineers get 403, anonymous visitors the sign-in page."""

    @staff_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_edit_catalog(request.user):
            raise PermissionDenied(_("Only leads and handlers may change the catalog."))
        return view(request, *args, **kwargs)

    return wrapped
