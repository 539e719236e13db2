"""`psirt createadmin` and `psirt token …` (management commands, as the psirt CLI runs them)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from psirt.accounts.access import SCOPES_BY_ROLE, authenticate_token
from psirt.accounts.models import ApiToken, Role, User
from psirt.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _run(*args, stdin: str = "") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command(*args, stdout=out, stderr=err)
    finally:
        sys.stdin = old
    return out.getvalue(), err.getvalue()


def test_createadmin_creates_a_lead_from_stdin_password():
    out, _ = _run("createadmin", "--email", "Boss@Example.com", "--password-stdin", stdin="Sturdy-Lemon-Tree-77\n")
    user = User.objects.get(email="boss@example.com")
    assert user.role == Role.LEAD and user.is_staff
    assert user.check_password("Sturdy-Lemon-Tree-77")
    assert "Created lead boss@example.com" in out
    assert AuditEvent.objects.filter(action="user.created", target_id=str(user.public_id)).exists()


def test_createadmin_refuses_existing_address(lead):
    with pytest.raises(CommandError, match="already exists"):
        _run("createadmin", "--email", lead.email.upper(), "--password-stdin", stdin="Sturdy-Lemon-Tree-77\n")


@pytest.mark.parametrize("password", ["short", "password123456", "12345678901234"])
def test_createadmin_refuses_weak_password_with_reason(password):
    with pytest.raises(CommandError, match="Password refused"):
        _run("createadmin", "--email", "boss@example.com", "--password-stdin", stdin=password + "\n")
    assert not User.objects.filter(email="boss@example.com").exists()


def test_createadmin_refuses_bad_address_and_empty_stdin():
    with pytest.raises(CommandError, match="valid e-mail"):
        _run("createadmin", "--email", "nope", "--password-stdin", stdin="Sturdy-Lemon-Tree-77\n")
    with pytest.raises(CommandError, match="No password"):
        _run("createadmin", "--email", "boss@example.com", "--password-stdin", stdin="")


def test_createadmin_interactive_prompt_asks_twice(monkeypatch):
    answers = iter(["Sturdy-Lemon-Tree-77", "Different-Lemon-Tree-77"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    import sys

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Tty())
    with pytest.raises(CommandError, match="differ"):
        call_command("createadmin", "--email", "boss@example.com", stdout=io.StringIO())
    assert not User.objects.exists()


def test_token_create_prints_a_working_token_once(handler):
    out, err = _run(
        "token",
        "create",
        "--user",
        handler.email,
        "--scope",
        "cases:read",
        "--scope",
        "cases:write",
        "--name",
        "sync",
        "--expires-days",
        "30",
    )
    raw = out.strip()
    token = authenticate_token(raw)
    assert token is not None and token.user == handler
    assert sorted(token.scopes) == ["cases:read", "cases:write"]
    assert raw not in err
    assert AuditEvent.objects.filter(action="token.created", target_id=token.key_id).exists()


def test_token_create_errors_are_clear(handler, monkeypatch):
    monkeypatch.setitem(SCOPES_BY_ROLE, Role.HANDLER, frozenset({"cases:read"}))
    with pytest.raises(CommandError, match="No account"):
        _run("token", "create", "--user", "ghost@example.com", "--scope", "cases:read")
    with pytest.raises(CommandError, match="Unknown scope"):
        _run("token", "create", "--user", handler.email, "--scope", "everything")
    with pytest.raises(CommandError, match="cannot hold"):
        _run("token", "create", "--user", handler.email, "--scope", "cases:write")
    with pytest.raises(CommandError, match="between 1 and"):
        _run("token", "create", "--user", handler.email, "--scope", "cases:read", "--expires-days", "0")
    assert not ApiToken.objects.exists()


def test_token_list_and_revoke(handler):
    out, _ = _run("token", "create", "--user", handler.email, "--scope", "cases:read")
    raw = out.strip()
    key_id = raw.split("_")[1]
    listing, _ = _run("token", "list")
    assert key_id in listing and "active" in listing
    assert raw.split("_", 2)[2] not in listing
    revoked, _ = _run("token", "revoke", key_id)
    assert "Revoked" in revoked
    assert authenticate_token(raw) is None
    listing, _ = _run("token", "list", "--user", handler.email)
    assert "revoked" in listing
    with pytest.raises(CommandError, match="No token"):
        _run("token", "revoke", "000000000000")
