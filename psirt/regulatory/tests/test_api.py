"""GET /api/v1/regulatory/obligations: token scope cases:read, need-to-know as on the desk, clocks computed."""

from __future__ import annotations

import pytest
from django.test import Client

from psirt.accounts.models import User
from psirt.accounts.services import create_token
from psirt.regulatory.models import Obligation

pytestmark = pytest.mark.django_db


def _get(user: User, path: str, scopes: tuple[str, ...] = ("cases:read",)) -> tuple[int, object]:
    _row, token = create_token(user=user, name="t", scopes=list(scopes))
    response = Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    return response.status_code, response.json()


def test_leads_and_assignees_see_it_with_clocks(obligation: Obligation, lead: User, handler: User) -> None:
    for user in (lead, handler):
        status, body = _get(user, "/api/v1/regulatory/obligations")
        assert status == 200
        assert isinstance(body, list)
        (item,) = body
        assert item["id"] == str(obligation.public_id)
        assert item["decision"] == "pending"
        stages = [c["stage"] for c in item["clocks"]]
        assert stages == ["early_warning", "notification", "final"]
        assert 0 < item["clocks"][0]["seconds_left"] <= 22 * 3600


def test_others_see_nothing_and_get_404(obligation: Obligation, other_handler: User, engineer: User) -> None:
    for user in (other_handler, engineer):
        assert _get(user, "/api/v1/regulatory/obligations") == (200, [])
        status, _body = _get(user, f"/api/v1/regulatory/obligations/{obligation.public_id}")
        assert status == 404


def test_scope_is_required(obligation: Obligation, lead: User) -> None:
    status, _body = _get(lead, "/api/v1/regulatory/obligations", scopes=("cases:write",))
    assert status in (401, 403)
    assert _get(lead, f"/api/v1/regulatory/obligations/{obligation.public_id}")[0] == 200
    assert _get(lead, "/api/v1/regulatory/obligations/not-a-uuid")[0] == 404
