"""Sign-in through allauth: password, the second factor, throttling, audit entries, hostile input."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from conftest import PERSONA_PASSWORD, _make_user
from psirt.accounts.models import Role, User
from psirt.accounts.tests.util import sign_in, totp_code, wrong_code
from psirt.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_login_page_renders_in_both_languages_without_signup_link(lang):
    response = Client().get(f"/{lang}/accounts/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="login"' in body and 'name="password"' in body
    assert "/accounts/signup/" not in body
    assert f"/{lang}/accounts/password/reset/" in body
    assert "<script" not in body


def test_signup_is_closed():
    response = Client().post("/en/accounts/signup/", {"email": "x@example.com", "password1": "p" * 20})
    assert not User.objects.filter(email="x@example.com").exists()
    assert "Sign-up is closed" in response.content.decode()


def test_user_with_totp_must_enter_code_before_being_signed_in(handler):
    client = Client()
    response = sign_in(client, handler.email)
    assert response.status_code == 302
    assert response["Location"].endswith(reverse("mfa_authenticate"))
    # Password alone is not a session: the desk still sends to sign-in.
    desk = client.get("/en/desk/")
    assert desk.status_code == 302 and "/accounts/login/" in desk["Location"]


def test_correct_totp_code_signs_in_and_reaches_desk(handler):
    client = Client()
    sign_in(client, handler.email)
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(handler)})
    assert response.status_code == 302
    assert client.get("/en/desk/").status_code == 200
    event = AuditEvent.objects.filter(action="auth.sign_in").get()
    assert event.actor == handler
    assert event.data["methods"] == ["mfa", "password"]


def test_wrong_totp_code_is_refused_with_message_and_audited(handler):
    client = Client()
    sign_in(client, handler.email)
    response = client.post(reverse("mfa_authenticate"), {"code": wrong_code(handler)})
    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert client.get("/en/desk/").status_code == 302
    failed = AuditEvent.objects.get(action="auth.mfa_failed")
    assert failed.target_id == str(handler.public_id)
    assert not AuditEvent.objects.filter(action="auth.sign_in").exists()


@pytest.mark.parametrize("code", ["", "abc", "9" * 5000, "<script>alert(1)</script>", "１２３４５６"])
def test_malformed_totp_code_gets_form_error_not_crash(handler, code):
    client = Client()
    sign_in(client, handler.email)
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_recovery_code_signs_in(handler):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    codes = RecoveryCodes.activate(handler).generate_codes()
    client = Client()
    sign_in(client, handler.email)
    client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert client.get("/en/desk/").status_code == 200


def test_user_without_totp_signs_in_with_password_and_is_sent_to_enrol(db):
    user = _make_user("fresh@persona.test", Role.HANDLER, mfa=False)
    client = Client()
    response = sign_in(client, user.email)
    assert response.status_code == 302
    desk = client.get("/en/desk/")
    assert desk.status_code == 302
    assert desk["Location"] == reverse("mfa_activate_totp")
    assert AuditEvent.objects.filter(action="auth.sign_in", actor=user).exists()


def test_failed_sign_in_is_audited_with_email_but_never_the_password(handler):
    response = sign_in(Client(), handler.email, password="Wrong-Password-123")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert event.data == {"email": handler.email}
    assert event.actor is None
    assert "Wrong-Password-123" not in str(event.data)


def test_sixth_failed_attempt_is_refused_with_clear_message(handler):
    client = Client()
    for _ in range(5):
        response = sign_in(client, handler.email, password="wrong-password-x")
        assert "not correct" in response.content.decode()
    # Even the right password is refused now: the throttle is checked before the password.
    response = sign_in(client, handler.email, password=PERSONA_PASSWORD)
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.sign_in_throttled").count() == 1


def test_throttle_is_per_address_too(handler):
    """Failures against one address from many IPs still lock that address (5/15m/key)."""
    for i in range(5):
        Client(REMOTE_ADDR=f"10.0.0.{i + 1}").post(
            "/en/accounts/login/", {"login": handler.email, "password": "wrong-password-x"}
        )
    response = Client(REMOTE_ADDR="10.0.0.99").post(
        "/en/accounts/login/", {"login": handler.email, "password": PERSONA_PASSWORD}
    )
    assert "Too many failed login attempts" in response.content.decode()


@pytest.mark.parametrize(
    "login",
    ["a" * 10240 + "@example.com", "<script>alert(1)</script>@x.test", "not-an-address", "\x00\x01@x.test", ""],
)
def test_hostile_login_field_gets_a_form_error(login):
    response = Client().post("/en/accounts/login/", {"login": login, "password": "whatever-123"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "errorlist" in body
    for event in AuditEvent.objects.all():
        assert len(event.data.get("email", "")) <= 254


def test_sign_out_is_audited(as_handler, handler):
    response = as_handler.post("/en/accounts/logout/")
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.sign_out", actor=handler).exists()
    assert as_handler.get("/en/desk/").status_code == 302


def test_inactive_user_cannot_sign_in(handler):
    handler.is_active = False
    handler.save()
    client = Client()
    sign_in(client, handler.email)
    assert "_auth_user_id" not in client.session


def test_password_reset_for_unknown_address_sends_nothing(mailoutbox):
    response = Client().post("/en/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []


def test_password_reset_mails_a_working_link(handler, mailoutbox):
    Client().post("/en/accounts/password/reset/", {"email": handler.email})
    assert len(mailoutbox) == 1
    assert "/accounts/password/reset/key/" in mailoutbox[0].body


def test_behind_the_trusted_proxy_one_visitors_failures_do_not_lock_out_staff(handler, trusted_proxy):
    """Throttling counts per client address as psirt.lib.http.client_address reads it: five failures by one
    visitor (different accounts, so only the per-address limit is reached) lock out that visitor only."""
    proxy = Client(REMOTE_ADDR=trusted_proxy)
    for i in range(5):
        proxy.post(
            "/en/accounts/login/",
            {"login": f"nobody{i}@x.test", "password": "wrong-password-x"},
            HTTP_X_FORWARDED_FOR="198.51.100.66",
        )
    attacker = proxy.post(
        "/en/accounts/login/",
        {"login": "nobody9@x.test", "password": "wrong-password-x"},
        HTTP_X_FORWARDED_FOR="198.51.100.66",
    )
    assert "Too many failed login attempts" in attacker.content.decode()
    staff = Client(REMOTE_ADDR=trusted_proxy)
    response = staff.post(
        "/en/accounts/login/",
        {"login": handler.email, "password": PERSONA_PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.10",
    )
    assert response.status_code == 302
    assert response["Location"].endswith(reverse("mfa_authenticate"))
    failures = AuditEvent.objects.filter(action="auth.sign_in_failed")
    assert set(failures.values_list("ip", flat=True)) == {"198.51.100.66"}


def test_an_untrusted_visitor_cannot_escape_throttling_with_a_forged_header(trusted_proxy):
    for i in range(5):
        Client(REMOTE_ADDR="203.0.113.5").post(
            "/en/accounts/login/",
            {"login": f"nobody{i}@x.test", "password": "wrong-password-x"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        )
    response = Client(REMOTE_ADDR="203.0.113.5").post(
        "/en/accounts/login/",
        {"login": "nobody9@x.test", "password": "wrong-password-x"},
        HTTP_X_FORWARDED_FOR="198.51.100.200",
    )
    assert "Too many failed login attempts" in response.content.decode()
