"""Idle sessions end after settings.PSIRT_IDLE_TIMEOUT seconds."""

from __future__ import annotations

import time

import pytest

from psirt.accounts.middleware import LAST_ACTIVITY_KEY
from psirt.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _set_last_activity(client, seconds_ago: int) -> None:
    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time()) - seconds_ago
    session.save()


def test_idle_session_is_signed_out_and_sent_to_login_with_message(as_handler, handler, settings):
    settings.PSIRT_IDLE_TIMEOUT = 600
    _set_last_activity(as_handler, 601)
    response = as_handler.get("/en/desk/tokens/")
    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/login/?next=%2Fen%2Fdesk%2Ftokens%2F"
    page = as_handler.get(response["Location"])
    assert "signed out after a period of inactivity" in page.content.decode()
    assert as_handler.get("/en/desk/").status_code == 302
    event = AuditEvent.objects.get(action="auth.session_expired")
    assert event.actor == handler
    assert event.data == {"reason": "idle"}


def test_active_session_stays_signed_in_and_refreshes_timestamp(as_handler, settings):
    settings.PSIRT_IDLE_TIMEOUT = 600
    _set_last_activity(as_handler, 599)
    assert as_handler.get("/en/desk/").status_code == 200
    assert int(time.time()) - as_handler.session[LAST_ACTIVITY_KEY] < 5


def test_first_request_starts_the_clock(as_handler):
    assert LAST_ACTIVITY_KEY not in as_handler.session
    as_handler.get("/en/desk/")
    assert LAST_ACTIVITY_KEY in as_handler.session


def test_expired_post_is_not_carried_out(as_handler, settings):
    settings.PSIRT_IDLE_TIMEOUT = 60
    _set_last_activity(as_handler, 3600)
    response = as_handler.post("/en/desk/tokens/", {"name": "x", "scopes": ["cases:read"], "expires_days": "30"})
    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/login/"
    from psirt.accounts.models import ApiToken

    assert not ApiToken.objects.exists()


def test_tampered_timestamp_does_not_crash(as_handler):
    session = as_handler.session
    session[LAST_ACTIVITY_KEY] = "yesterday"
    session.save()
    assert as_handler.get("/en/desk/").status_code == 200
