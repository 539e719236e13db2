"""Every API token scope is one an operation checks, and every token-protected operation checks a known one."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from psirt.accounts.access import SCOPES
from psirt.accounts.models import ApiToken, User
from psirt.api.urls import api


def _scopes_checked() -> set[str]:
    used: set[str] = set()
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for auth in operation.auth_callbacks:
                    used.update(getattr(auth, "scopes", ()))
    return used


def test_every_scope_is_checked_by_an_api_operation() -> None:
    """A scope no operation asks for would make a token look narrower or wider than it is."""
    assert _scopes_checked() == set(SCOPES)


@pytest.mark.django_db
def test_the_migration_removes_unused_scopes_from_stored_tokens(lead: User) -> None:
    migration = importlib.import_module("psirt.accounts.migrations.0004_remove_unused_token_scopes")
    old = ApiToken.objects.create(
        user=lead, name="old", key_id="a" * 16, secret_hash="0" * 64, scopes=["cases:read", "advisories:write"]
    )
    unused_only = ApiToken.objects.create(
        user=lead, name="unused", key_id="b" * 16, secret_hash="1" * 64, scopes=["catalog:write", "reports:write"]
    )
    current = ApiToken.objects.create(
        user=lead, name="current", key_id="c" * 16, secret_hash="2" * 64, scopes=["cases:read", "cases:write"]
    )
    migration.remove_unused_scopes(apps, None)
    for token in (old, unused_only, current):
        token.refresh_from_db()
    assert old.scopes == ["cases:read"]
    assert unused_only.scopes == []
    assert current.scopes == ["cases:read", "cases:write"]
