"""Staff must use an authenticator app for the desk and the admin (settings.PSIRT_REQUIRE_MFA)."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from conftest import _make_user, client_for
from psirt.accounts.models import Role
from psirt.accounts.tests.util import sign_in
from psirt.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _password_only_client(user) -> Client:
    """A session signed in with the password only (what allauth records for a user without TOTP)."""
    client = Client()
    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [{"method": "password", "at": time.time(), "email": user.email}]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


@pytest.mark.parametrize("path", ["/en/desk/", "/zh-hans/desk/tokens/", "/admin/"])
def test_lead_without_totp_is_sent_to_enrol_from_staff_areas(db, path):
    lead = _make_user("new-lead@persona.test", Role.LEAD, mfa=False)
    response = _password_only_client(lead).get(path)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_user_without_totp_still_reaches_public_pages_and_enrolment(db):
    user = _make_user("new@persona.test", Role.HANDLER, mfa=False)
    client = _password_only_client(user)
    assert client.get("/en/").status_code == 200
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in body
    assert 'name="code"' in body


def test_enrolling_totp_opens_the_desk_and_is_audited(transactional_db):
    """Runs outside a test transaction: allauth signals the enrolment on commit, as in production."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    user = _make_user("enrol@persona.test", Role.HANDLER, mfa=False)
    client = _password_only_client(user)
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(reverse("mfa_activate_totp"), {"code": code})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_view_recovery_codes")
    codes_page = client.get(reverse("mfa_view_recovery_codes"))
    assert codes_page.status_code == 200
    assert Authenticator.objects.filter(user=user, type="totp").exists()
    assert AuditEvent.objects.filter(action="mfa.added", actor=user, data__type="totp").exists()
    assert client.get("/en/desk/").status_code == 200


def test_wrong_code_at_enrolment_is_refused(db):
    user = _make_user("enrol2@persona.test", Role.HANDLER, mfa=False)
    client = _password_only_client(user)
    client.get(reverse("mfa_activate_totp"))
    response = client.post(reverse("mfa_activate_totp"), {"code": "000000x"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Authenticator.objects.filter(user=user).exists()


def test_session_that_skipped_the_second_factor_must_confirm_a_code(handler):
    """TOTP exists but this session never passed it (e.g. enrolled from another session)."""
    client = _password_only_client(handler)
    response = client.get("/en/desk/tokens/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert "next=%2Fen%2Fdesk%2Ftokens%2F" in response["Location"]


def test_persona_clients_pass_the_check(as_lead, as_handler, as_engineer):
    for client in (as_lead, as_handler, as_engineer):
        assert client.get("/en/desk/").status_code == 200


def test_records_of_another_user_do_not_count(handler, other_handler):
    """allauth ties the session's method records to one user id; copying them to another fails."""
    client = client_for(handler)
    session = client.session
    session["account_authentication_methods_user"] = str(other_handler.pk)
    session.save()
    response = client.get("/en/desk/")
    assert response.status_code == 302


def test_dev_mode_does_not_require_totp(db, settings):
    settings.PSIRT_REQUIRE_MFA = False
    user = _make_user("dev@persona.test", Role.HANDLER, mfa=False)
    assert _password_only_client(user).get("/en/desk/").status_code == 200


def test_full_sign_in_without_totp_then_enrol_prompt(db):
    user = _make_user("flow@persona.test", Role.ENGINEER, mfa=False)
    client = Client()
    sign_in(client, user.email)
    response = client.get("/en/desk/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    assert "Two-factor authentication is required" in response.content.decode()


def test_totp_secret_is_encrypted_at_rest(handler):
    auth = Authenticator.objects.get(user=handler, type="totp")
    assert auth.data["secret"].startswith("fernet:")
