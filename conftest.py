"""Shared fixtures: the personas of every access test, a CSRF-enforcing client, a real SMTP server."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from psirt.accounts.models import Role, User

PERSONA_PASSWORD = "persona-pass-Quokka-42"


def _make_user(email: str, role: str, *, mfa: bool = True) -> User:
    user = User.objects.create_user(email, PERSONA_PASSWORD, role=role, name=email.split("@")[0])
    if mfa:
        # Staff must have TOTP outside dev mode; personas are enrolled so tests reach the desk.
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

        TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def lead(db: None) -> User:
    return _make_user("lead@persona.test", Role.LEAD)


@pytest.fixture
def handler(db: None) -> User:
    return _make_user("handler@persona.test", Role.HANDLER)


@pytest.fixture
def other_handler(db: None) -> User:
    return _make_user("other-handler@persona.test", Role.HANDLER)


@pytest.fixture
def engineer(db: None) -> User:
    return _make_user("engineer@persona.test", Role.ENGINEER)


@pytest.fixture
def csrf_client() -> Client:
    """A client that enforces CSRF like a browser-facing deployment does."""
    return Client(enforce_csrf_checks=True)


def client_for(user: User | None, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    if user is not None:
        client.force_login(user)
        session = client.session
        # allauth records the methods a session passed (allauth.account.internal.flows.login): the list and
        # the user it belongs to. force_login skips the forms, so write what the sign-in would have.
        now = time.time()
        session["account_authentication_methods"] = [
            {"method": "password", "at": now, "email": user.email},
            {"method": "mfa", "at": now, "type": "totp"},
        ]
        session["account_authentication_methods_user"] = str(user.pk)
        session.save()
    return client


@pytest.fixture
def as_lead(lead: User) -> Client:
    return client_for(lead)


@pytest.fixture
def as_handler(handler: User) -> Client:
    return client_for(handler)


@pytest.fixture
def as_other_handler(other_handler: User) -> Client:
    return client_for(other_handler)


@pytest.fixture
def as_engineer(engineer: User) -> Client:
    return client_for(engineer)


@pytest.fixture
def anonymous() -> Client:
    return Client()
