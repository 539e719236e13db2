"""API tokens: creation shows the token once and stores only a hash; verification, scopes, expiry,
revocation; the desk page and the ninja auth class."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.testing import TestClient

from psirt.accounts import services
from psirt.accounts.access import SCOPES, SCOPES_BY_ROLE, TokenAuth, authenticate_token
from psirt.accounts.access import parse_token as _parse_token
from psirt.accounts.exceptions import ScopeNotAllowed
from psirt.accounts.models import ApiToken, Role
from psirt.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def parse_token(raw: str) -> tuple[str, str]:
    parts = _parse_token(raw)
    assert parts is not None
    return parts


def test_created_token_has_the_documented_shape_and_only_its_hash_is_stored(handler):
    token, raw = services.create_token(user=handler, name="ci", scopes=["cases:read"])
    prefix, key_id, secret = raw.split("_", 2)
    assert prefix == "psirt" and key_id == token.key_id and len(key_id) == 12
    assert len(secret) >= 43  # 32 random bytes, URL-safe base64
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert secret not in str(row)


def test_two_tokens_never_share_key_or_secret(handler):
    _t1, raw1 = services.create_token(user=handler, name="a", scopes=["cases:read"])
    _t2, raw2 = services.create_token(user=handler, name="b", scopes=["cases:read"])
    assert parse_token(raw1)[0] != parse_token(raw2)[0]
    assert parse_token(raw1)[1] != parse_token(raw2)[1]


def test_token_creation_is_audited_without_the_secret(handler):
    token, raw = services.create_token(user=handler, name="ci", scopes=["cases:read"], actor=handler)
    event = AuditEvent.objects.get(action="token.created")
    assert event.target_id == token.key_id
    assert event.data["scopes"] == ["cases:read"]
    assert parse_token(raw)[1] not in str(event.data)
    assert token.secret_hash not in str(event.data)


def test_authenticate_token_accepts_the_token_and_records_use(handler):
    token, raw = services.create_token(user=handler, name="ci", scopes=["cases:read"])
    assert authenticate_token(raw) == token
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_wrong_secret_is_refused(handler):
    _token, raw = services.create_token(user=handler, name="ci", scopes=["cases:read"])
    tampered = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert authenticate_token(tampered) is None


def test_revoked_token_is_refused_and_revocation_audited(handler):
    token, raw = services.create_token(user=handler, name="ci", scopes=["cases:read"])
    services.revoke_token(token=token, actor=handler)
    assert authenticate_token(raw) is None
    assert AuditEvent.objects.filter(action="token.revoked", target_id=token.key_id).exists()


def test_expired_token_is_refused(handler):
    token, raw = services.create_token(user=handler, name="ci", scopes=["cases:read"], expires_days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert authenticate_token(raw) is None


def test_token_of_deactivated_user_is_refused(handler):
    _token, raw = services.create_token(user=handler, name="ci", scopes=["cases:read"])
    handler.is_active = False
    handler.save()
    assert authenticate_token(raw) is None


@pytest.mark.parametrize(
    "raw",
    ["", "psirt_", "psirt__", "Bearer x", "psirt_zzzzzzzzzzzz_" + "a" * 43, "x" * 100_000, "psirt_\x00", "☃" * 50],
)
def test_malformed_tokens_are_refused_without_error(raw, handler):
    assert authenticate_token(raw) is None


@pytest.fixture
def read_only_engineers(monkeypatch):
    """Engineers limited to reading, to show that a role's limit holds."""
    monkeypatch.setitem(SCOPES_BY_ROLE, Role.ENGINEER, frozenset({"cases:read"}))


def test_engineer_cannot_create_a_token_with_a_scope_outside_the_role(engineer, read_only_engineers):
    with pytest.raises(ScopeNotAllowed):
        services.create_token(user=engineer, name="x", scopes=["cases:write"])


# catalog:write exists since POST /api/v1/releases/{id}/sbom checks it.
@pytest.mark.parametrize("scope", ["reports:write", "advisories:read", "advisories:write"])
def test_scopes_no_endpoint_checks_do_not_exist(lead, scope):
    assert scope not in SCOPES
    with pytest.raises(ScopeNotAllowed, match="Unknown scope"):
        services.create_token(user=lead, name="x", scopes=[scope])


def test_unknown_scope_and_no_scope_are_refused(lead):
    with pytest.raises(ScopeNotAllowed):
        services.create_token(user=lead, name="x", scopes=["root"])
    with pytest.raises(ScopeNotAllowed):
        services.create_token(user=lead, name="x", scopes=[])


# --- the ninja auth class -------------------------------------------------------------------------------

api = NinjaAPI(urls_namespace="test-token-auth")


@api.get("/cases", auth=TokenAuth(scopes=["cases:read"]))
def list_cases(request):
    return {"user": request.auth.user.email}


@api.post("/cases", auth=TokenAuth(scopes=["cases:write"]))
def edit_case(request):
    return {"ok": True}


@pytest.fixture
def api_client():
    return TestClient(api)


def test_token_auth_lets_a_scoped_token_in(api_client, handler):
    _t, raw = services.create_token(user=handler, name="x", scopes=["cases:read"])
    response = api_client.get("/cases", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.json() == {"user": handler.email}


def test_token_auth_missing_scope_is_403(api_client, lead):
    _t, raw = services.create_token(user=lead, name="x", scopes=["cases:write"])
    response = api_client.get("/cases", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 403
    assert "cases:read" in response.json()["detail"]


def test_token_auth_scope_lost_with_role_is_403(api_client, lead, handler, read_only_engineers):
    """A token never grants more than its user's current role: demotion narrows existing tokens."""
    _t, raw = services.create_token(user=lead, name="y", scopes=["cases:write", "cases:read"])
    headers = {"Authorization": f"Bearer {raw}"}
    assert api_client.post("/cases", headers=headers).status_code == 200
    services.change_role(user=handler, role="lead", actor=lead, request=None)
    services.change_role(user=lead, role="engineer", actor=handler, request=None)
    assert api_client.post("/cases", headers=headers).status_code == 403
    assert api_client.get("/cases", headers=headers).status_code == 200


def test_token_auth_revoked_token_is_401_with_json_message(api_client, handler):
    token, raw = services.create_token(user=handler, name="x", scopes=["cases:read"])
    services.revoke_token(token=token, actor=handler)
    response = api_client.get("/cases", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-token", "Bearer " + "x" * 20000, "Token abc"],
)
def test_token_auth_missing_or_malformed_header_is_401_json(api_client, header):
    headers = {} if header is None else {"Authorization": header}
    response = api_client.get("/cases", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_token_auth_rejects_unknown_scope_names_at_import():
    with pytest.raises(ValueError):
        TokenAuth(scopes=["cases:delete"])


# --- the desk page ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["as_lead", "as_handler", "as_engineer"])
def test_every_staff_member_has_a_tokens_page(request, persona):
    client = request.getfixturevalue(persona)
    response = client.get(reverse("desk:tokens"))
    assert response.status_code == 200
    assert 'name="scopes"' in response.content.decode()


def test_anonymous_is_sent_to_sign_in_for_tokens(anonymous):
    response = anonymous.get(reverse("desk:tokens"))
    assert response.status_code == 302
    assert response["Location"].startswith("/en/accounts/login/")
    response = anonymous.post(reverse("desk:token_revoke", args=["abcdef012345"]))
    assert response.status_code == 302


def test_engineer_is_offered_only_engineer_scopes(as_engineer, read_only_engineers):
    body = as_engineer.get(reverse("desk:tokens")).content.decode()
    assert 'value="cases:read"' in body
    assert 'value="cases:write"' not in body


def test_desk_creates_token_and_shows_it_once(as_handler, handler):
    response = as_handler.post(
        reverse("desk:tokens"), {"name": "sync", "scopes": ["cases:read", "cases:write"], "expires_days": "30"}
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=handler)
    body = response.content.decode()
    raw = next(part for part in body.split('"') if part.startswith("psirt_" + token.key_id))
    assert authenticate_token(raw) == token
    assert token.expires_at is not None
    # The list never shows it again.
    assert parse_token(raw)[1] not in as_handler.get(reverse("desk:tokens")).content.decode()


def test_desk_refuses_scope_outside_role_with_message(as_engineer, read_only_engineers):
    response = as_engineer.post(reverse("desk:tokens"), {"name": "x", "scopes": ["cases:write"], "expires_days": "30"})
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "scopes": ["cases:read"], "expires_days": "30"},
        {"name": "x" * 10000, "scopes": ["cases:read"], "expires_days": "30"},
        {"name": "x", "scopes": [], "expires_days": "30"},
        {"name": "x", "scopes": ["cases:read"], "expires_days": "99999999999999999999"},
        {"name": "<script>alert(1)</script>", "scopes": ["nope"], "expires_days": "-1"},
    ],
)
def test_desk_bad_token_form_gets_400_with_message(as_handler, data):
    response = as_handler.post(reverse("desk:tokens"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "errorlist" in body
    assert "<script>alert(1)</script>" not in body
    assert not ApiToken.objects.exists()


def test_user_revokes_own_token_but_not_anothers(as_handler, handler, other_handler):
    mine, _ = services.create_token(user=handler, name="mine", scopes=["cases:read"])
    theirs, _ = services.create_token(user=other_handler, name="theirs", scopes=["cases:read"])
    assert as_handler.post(reverse("desk:token_revoke", args=[theirs.key_id])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert as_handler.post(reverse("desk:token_revoke", args=[mine.key_id])).status_code == 302
    mine.refresh_from_db()
    assert mine.revoked_at is not None


def test_revoke_unknown_or_hostile_key_id_is_404(as_handler):
    assert as_handler.post(reverse("desk:token_revoke", args=["nope"])).status_code == 404
    assert as_handler.post("/en/desk/tokens/" + "%00" * 10 + "/revoke/").status_code == 404
