"""The Django admin: leads only, signed in through allauth, no password hashes or token secrets shown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from psirt.accounts import services
from psirt.accounts.models import Role
from psirt.audit.models import AuditEvent
from psirt.audit.services import record

pytestmark = pytest.mark.django_db


def test_anonymous_admin_visit_goes_to_allauth_sign_in(anonymous):
    response = anonymous.get("/admin/", follow=True)
    final_url, _status = response.redirect_chain[-1]
    assert final_url.startswith("/en/accounts/login/?next=%2Fadmin%2F")
    assert response.status_code == 200
    assert 'name="login"' in response.content.decode()


def test_admin_login_form_is_gone(anonymous):
    response = anonymous.post("/admin/login/", {"username": "x", "password": "y"})
    assert response.status_code == 302
    assert response["Location"].startswith("/en/accounts/login/")


@pytest.mark.parametrize("persona", ["as_handler", "as_engineer"])
def test_non_leads_get_404_from_admin(request, persona):
    client = request.getfixturevalue(persona)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 404


def test_lead_uses_admin(as_lead):
    response = as_lead.get("/admin/")
    assert response.status_code == 200
    assert "/admin/accounts/user/" in response.content.decode()


def test_user_change_page_shows_no_password_hash(as_lead, handler):
    response = as_lead.get(reverse("admin:accounts_user_change", args=[handler.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert handler.password not in body
    assert "md5$" not in body and "pbkdf2" not in body


def test_role_change_in_admin_is_audited_and_guarded(as_lead, lead, handler):
    url = reverse("admin:accounts_user_change", args=[handler.pk])
    response = as_lead.post(url, {"name": "H", "role": Role.LEAD, "language": "en", "is_active": "on"})
    assert response.status_code == 302
    handler.refresh_from_db()
    assert handler.role == Role.LEAD
    assert AuditEvent.objects.filter(action="user.role_changed", actor=lead).exists()
    # Demote the other lead, then the remaining lead cannot demote itself.
    as_lead.post(url, {"name": "H", "role": Role.HANDLER, "language": "en", "is_active": "on"})
    own = reverse("admin:accounts_user_change", args=[lead.pk])
    response = as_lead.post(own, {"name": "L", "role": Role.HANDLER, "language": "en", "is_active": "on"})
    assert response.status_code == 200
    assert "last active lead" in response.content.decode()
    lead.refresh_from_db()
    assert lead.role == Role.LEAD


def test_users_cannot_be_added_or_deleted_in_admin(as_lead, handler):
    assert as_lead.get(reverse("admin:accounts_user_add")).status_code == 403
    assert as_lead.get(reverse("admin:accounts_user_delete", args=[handler.pk])).status_code == 403


def test_api_token_admin_shows_no_hash_and_revokes(as_lead, handler):
    token, _raw = services.create_token(user=handler, name="ci", scopes=["cases:read"])
    page = as_lead.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))
    assert page.status_code == 200
    assert token.secret_hash not in page.content.decode()
    response = as_lead.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_audit_events_are_read_only_in_admin(as_lead):
    event = record(action="test.event", data={"k": "v"})
    assert as_lead.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    assert as_lead.get(reverse("admin:audit_auditevent_change", args=[event.pk])).status_code == 200
    assert as_lead.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert as_lead.get(reverse("admin:audit_auditevent_delete", args=[event.pk])).status_code == 403
    as_lead.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"action": "edited"})
    event.refresh_from_db()
    assert event.action == "test.event"


def test_authenticators_and_groups_are_not_editable_in_admin(as_lead):
    body = as_lead.get("/admin/").content.decode()
    assert "/admin/mfa/authenticator/" not in body
    assert "/admin/auth/group/" not in body


def test_admin_has_one_accounts_section_with_psirt_and_allauth_models(as_lead):
    response = as_lead.get("/admin/")
    body = response.content.decode()
    sections = [app["app_label"] for app in response.context["app_list"]]
    assert sections.count("accounts") == 1
    assert "account" not in sections
    accounts = next(app for app in response.context["app_list"] if app["app_label"] == "accounts")
    assert {model["object_name"] for model in accounts["models"]} >= {"User", "ApiToken", "EmailAddress"}
    assert "/admin/account/emailaddress/" in body
    assert body.count(">Accounts</a>") == 1
    # allauth's own section page still opens.
    assert as_lead.get("/admin/account/").status_code == 200


def test_token_revocation_message_counts_in_singular_and_plural(as_lead, handler):
    first, _raw = services.create_token(user=handler, name="one", scopes=["cases:read"])
    url = reverse("admin:accounts_apitoken_changelist")
    response = as_lead.post(url, {"action": "revoke_selected", "_selected_action": [first.pk]}, follow=True)
    assert "1 token revoked." in response.content.decode()
    tokens = [services.create_token(user=handler, name=name, scopes=["cases:read"])[0] for name in ("a", "b")]
    response = as_lead.post(url, {"action": "revoke_selected", "_selected_action": [t.pk for t in tokens]}, follow=True)
    assert "2 tokens revoked." in response.content.decode()
