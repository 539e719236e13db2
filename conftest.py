"""Shared fixtures: the personas of every access test, a CSRF-enforcing client, a real SMTP server."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.test import Client
from django.utils import translation

from psirt.accounts.models import Role, User

PERSONA_PASSWORD = "persona-pass-Quokka-42"


@pytest.fixture(autouse=True)
def _english_unless_a_test_says_otherwise() -> Iterator[None]:
    """Each test starts in the default language. A request to /zh-hans/… leaves Chinese active in the
    thread afterwards; without this reset, the next test on that worker would get Chinese messages."""
    translation.activate("en")
    yield
    translation.deactivate()


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


class _SmtpSink:
    """Collects every message a real SMTP server received (see `smtp_server`)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        data = envelope.original_content or envelope.content  # type: ignore[attr-defined]
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(data)))  # type: ignore[attr-defined]
        return "250 OK"


class SmtpServer:
    """A running SMTP server on 127.0.0.1; `messages` are parsed `email.message.EmailMessage` objects."""

    def __init__(self, host: str, port: int, sink: _SmtpSink) -> None:
        self.host = host
        self.port = port
        self._sink = sink

    @property
    def raw(self) -> list[tuple[str, list[str], bytes]]:
        return list(self._sink.messages)

    @property
    def messages(self) -> list:
        from email import policy
        from email.parser import BytesParser

        return [BytesParser(policy=policy.default).parsebytes(data) for _f, _t, data in self._sink.messages]

    def wait_for(self, count: int, timeout: float = 5.0) -> list:
        import time

        deadline = time.monotonic() + timeout
        while len(self._sink.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


@pytest.fixture
def smtp_server(settings):  # type: ignore[no-untyped-def]
    """A real SMTP server (aiosmtpd) on a free local port, with Django's SMTP backend pointed at it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = _SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield SmtpServer("127.0.0.1", port, sink)
    finally:
        controller.stop()


PROXY_ADDRESS = "10.9.9.9"


@pytest.fixture
def trusted_proxy(settings):  # type: ignore[no-untyped-def]
    """PSIRT_TRUSTED_PROXIES names one reverse proxy, PROXY_ADDRESS (and nothing else, not even loopback)."""
    import dataclasses

    settings.CONFIG = dataclasses.replace(
        settings.CONFIG, serve=dataclasses.replace(settings.CONFIG.serve, trusted_proxies=(PROXY_ADDRESS + "/32",))
    )
    return PROXY_ADDRESS
