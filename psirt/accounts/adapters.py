from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up is closed: leads invite users (psirt.accounts.services.invite_user)."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
