"""Narrowing whoever asks to a typed account: the desk's signed-in user, and need-to-know's active account."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import RequestFactory

from psirt.accounts.access import active_account, desk_user
from psirt.accounts.models import User

pytestmark = pytest.mark.django_db


def test_the_desk_user_is_the_signed_in_account(handler: User) -> None:
    request = RequestFactory().get("/desk/")
    request.user = handler
    assert desk_user(request) is handler


def test_an_anonymous_visitor_is_no_desk_user() -> None:
    request = RequestFactory().get("/desk/")
    request.user = AnonymousUser()
    with pytest.raises(Http404):
        desk_user(request)


def test_only_active_accounts_count_for_need_to_know(handler: User) -> None:
    assert active_account(handler) is handler
    assert active_account(AnonymousUser()) is None
    assert active_account(None) is None
    handler.is_active = False
    assert active_account(handler) is None
