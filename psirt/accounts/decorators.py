"""Access helpers for desk views. Everyone with an account is staff; some pages are for leads only, and to
everyone else they do not exist (404, not 403)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Signed-in team members (any role); anonymous visitors go to the sign-in page."""
    return login_required(view)


def lead_required(view: View) -> View:
    """Leads only; other signed-in users get 404, anonymous visitors the sign-in page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(request.user, "is_lead", False):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapper)
