"""Leads manage users in the desk: invite, change roles, deactivate, reset 2FA. Everyone else: 404."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from conftest import client_for
from psirt.accounts import services
from psirt.accounts.models import Role, User
from psirt.audit.models import AuditEvent
from psirt.mail.models import OutboxMessage, OutboxStatus
from psirt.tests.factories import make_line

pytestmark = pytest.mark.django_db


def _urls(user: User) -> list[tuple[str, str]]:
    pid = user.public_id
    return [
        ("get", reverse("desk:users")),
        ("get", reverse("desk:user_detail", args=[pid])),
        ("post", reverse("desk:user_invite")),
        ("post", reverse("desk:user_role", args=[pid])),
        ("post", reverse("desk:user_active", args=[pid])),
        ("post", reverse("desk:user_reset_mfa", args=[pid])),
        ("post", reverse("desk:user_resend_invite", args=[pid])),
    ]


@pytest.mark.parametrize("persona", ["as_handler", "as_other_handler", "as_engineer"])
def test_non_leads_get_404_for_user_pages(request, persona, lead):
    client = request.getfixturevalue(persona)
    for method, url in _urls(lead):
        response = getattr(client, method)(url, {"role": Role.HANDLER, "action": "deactivate"})
        assert response.status_code == 404, url
    lead.refresh_from_db()
    assert lead.is_active and lead.role == Role.LEAD


def test_anonymous_is_sent_to_sign_in_for_user_pages(anonymous, lead):
    for method, url in _urls(lead):
        response = getattr(anonymous, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/en/accounts/login/?next=")


def test_lead_sees_user_list(as_lead, handler, engineer):
    response = as_lead.get(reverse("desk:users"))
    assert response.status_code == 200
    body = response.content.decode()
    assert handler.email in body and engineer.email in body
    assert "<script" not in body


def test_lead_sees_user_list_in_chinese(as_lead):
    assert as_lead.get("/zh-hans/desk/users/").status_code == 200


def test_invite_creates_account_without_password_and_mails_a_working_link(
    as_lead, lead, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_lead.post(
            reverse("desk:user_invite"),
            {"email": "New.Person@Example.com", "name": "New Person", "role": Role.ENGINEER, "language": "en"},
        )
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.com")
    assert user.role == Role.ENGINEER
    assert not user.has_usable_password()
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["new.person@example.com"]
    found = re.search(r"https://psirt\.test(/\S+)", mail.body)
    assert found is not None
    link = found.group(1)
    assert AuditEvent.objects.filter(action="user.invited", actor=lead, target_id=str(user.public_id)).exists()

    # The invitee follows the link, chooses a password, and can sign in with it.
    invitee = Client()
    step = invitee.get(link)
    assert step.status_code == 302
    form_url = step["Location"]
    assert invitee.get(form_url).status_code == 200
    done = invitee.post(form_url, {"password1": "Correct-Horse-Battery-9", "password2": "Correct-Horse-Battery-9"})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Correct-Horse-Battery-9")
    # The link is single-use.
    again = Client().get(link, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_invitation_in_chinese_is_mailed_in_chinese_prefix(as_lead, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        as_lead.post(
            reverse("desk:user_invite"),
            {"email": "zh@example.com", "role": Role.HANDLER, "language": "zh-hans"},
        )
    body = mailoutbox[0].body
    assert "/zh-hans/accounts/password/reset/key/" in body
    # Chinese first, English after: every mail is bilingual.
    assert body.index("您好") < body.index("Hello")


def test_invite_existing_address_is_refused_with_message(as_lead, handler, mailoutbox):
    response = as_lead.post(reverse("desk:user_invite"), {"email": handler.email.upper(), "role": Role.HANDLER})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert mailoutbox == []


@pytest.mark.parametrize(
    "email",
    ["a" * 10240 + "@example.com", "not-an-address", "<script>alert(1)</script>@x.test", ""],
)
def test_invite_with_bad_address_keeps_typed_values_and_says_why(as_lead, email, mailoutbox):
    response = as_lead.post(
        reverse("desk:user_invite"), {"email": email, "name": "Kept Name", "role": Role.HANDLER, "language": "en"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "errorlist" in body
    assert "Kept Name" in body
    assert "<script>alert(1)</script>" not in body
    assert mailoutbox == []


def test_invite_with_unknown_role_is_refused(as_lead):
    response = as_lead.post(reverse("desk:user_invite"), {"email": "x@example.com", "role": "superuser"})
    assert response.status_code == 400
    assert not User.objects.filter(email="x@example.com").exists()


def test_failing_mail_server_keeps_the_invitation_in_the_outbox_for_a_retry(
    as_lead, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "psirt.accounts.tests.test_users.BrokenBackend"
    with django_capture_on_commit_callbacks(execute=True):
        response = as_lead.post(reverse("desk:user_invite"), {"email": "y@example.com", "role": Role.HANDLER})
    assert response.status_code == 302
    assert User.objects.filter(email="y@example.com").exists()
    assert AuditEvent.objects.filter(action="user.invited").exists()
    mail = OutboxMessage.objects.get(template="accounts/mail/invitation")
    assert mail.status == OutboxStatus.FAILED and mail.attempts == 1  # retried later by the worker
    assert "y@example.com" in mail.to and "reset/key" in mail.context


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("no mail server")


def test_html_in_name_is_rendered_inert(as_lead, lead):
    services.create_user(email="evil@example.com", role=Role.HANDLER, name="<img src=x onerror=alert(1)>", actor=lead)
    body = as_lead.get(reverse("desk:users")).content.decode()
    assert "<img src=x" not in body
    assert "&lt;img src=x" in body


def test_role_change_is_audited(as_lead, lead, handler):
    response = as_lead.post(reverse("desk:user_role", args=[handler.public_id]), {"role": Role.LEAD})
    assert response.status_code == 302
    handler.refresh_from_db()
    assert handler.role == Role.LEAD
    event = AuditEvent.objects.get(action="user.role_changed")
    assert event.actor == lead
    assert event.data == {"from": "handler", "to": "lead"}


def test_last_lead_cannot_lose_the_role(as_lead, lead):
    response = as_lead.post(reverse("desk:user_role", args=[lead.public_id]), {"role": Role.HANDLER})
    assert response.status_code == 400
    assert "last active lead" in response.content.decode()
    lead.refresh_from_db()
    assert lead.role == Role.LEAD


def test_engineer_product_lines_are_set(as_lead, engineer):
    line = make_line("cams", "Cameras")
    response = as_lead.post(
        reverse("desk:user_role", args=[engineer.public_id]), {"role": Role.ENGINEER, "product_lines": [line.pk]}
    )
    assert response.status_code == 302
    assert list(engineer.product_lines.all()) == [line]
    assert AuditEvent.objects.get(action="user.product_lines_changed").data == {"from": [], "to": ["cams"]}


def test_deactivation_signs_out_and_revokes_tokens(as_lead, lead, handler):
    handler_client = client_for(handler)
    token, _raw = services.create_token(user=handler, name="ci", scopes=["cases:read"])
    response = as_lead.post(reverse("desk:user_active", args=[handler.public_id]), {"action": "deactivate"})
    assert response.status_code == 302
    handler.refresh_from_db()
    assert not handler.is_active
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert handler_client.get("/en/desk/").status_code == 302
    assert AuditEvent.objects.filter(action="user.deactivated", actor=lead).exists()
    as_lead.post(reverse("desk:user_active", args=[handler.public_id]), {"action": "reactivate"})
    handler.refresh_from_db()
    assert handler.is_active


def test_lead_cannot_deactivate_themselves(as_lead, lead):
    as_lead.post(reverse("desk:user_active", args=[lead.public_id]), {"action": "deactivate"})
    lead.refresh_from_db()
    assert lead.is_active


def test_reset_2fa_removes_authenticators(as_lead, handler):
    from allauth.mfa.models import Authenticator

    as_lead.post(reverse("desk:user_reset_mfa", args=[handler.public_id]))
    assert not Authenticator.objects.filter(user=handler).exists()
    assert AuditEvent.objects.filter(action="user.mfa_reset", target_id=str(handler.public_id)).exists()


def test_unknown_user_id_is_404(as_lead):
    assert as_lead.get(reverse("desk:user_detail", args=[uuid.uuid4()])).status_code == 404
    assert as_lead.get("/en/desk/users/123/").status_code == 404
    assert as_lead.get("/en/desk/users/" + "f" * 5000 + "/").status_code == 404


def test_get_on_post_only_endpoint_is_405(as_lead, handler):
    assert as_lead.get(reverse("desk:user_role", args=[handler.public_id])).status_code == 405


def test_invite_enforces_csrf(lead):
    client = client_for(lead, enforce_csrf=True)
    response = client.post(reverse("desk:user_invite"), {"email": "c@example.com", "role": Role.HANDLER})
    assert response.status_code == 403
    assert not User.objects.filter(email="c@example.com").exists()
