"""/api/v1/metrics: the page's numbers as JSON, same filters, same need-to-know, scope cases:read."""

from __future__ import annotations

import pytest
from django.test import Client

from psirt.accounts.models import User
from psirt.accounts.services import create_token
from psirt.metrics.api import as_json
from psirt.metrics.queries import compute
from psirt.metrics.tests.conftest import NOW, History
from psirt.metrics.tests.test_queries import PERIOD

QUERY = "from=2026-01-01&to=2026-04-15"


def bearer(user: User, scopes: tuple[str, ...] = ("cases:read",)) -> dict[str, str]:
    _row, token = create_token(user=user, name="test", scopes=scopes)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW)


def test_the_api_answers_the_numbers_of_the_page(client: Client, lead: User, history: History, frozen: None) -> None:
    response = client.get(f"/api/v1/metrics?{QUERY}", headers=bearer(lead))
    assert response.status_code == 200, response.content
    body = response.json()
    expected = as_json(compute(lead, PERIOD, now=NOW))
    assert body["durations"]["acknowledge"] == {
        "unit": "business",
        "cases": 4,
        "median": 1,
        "p90": 5,
        "histogram": [{"days": 1, "cases": 2}, {"days": 5, "cases": 2}],
    }
    assert body["promises"]["ack"] == [
        {"month": "2026-02", "kept": 1, "missed": 1, "share": 0.5},
        {"month": "2026-03", "kept": 2, "missed": 0, "share": 1.0},
        {"month": "2026-04", "kept": 0, "missed": 1, "share": 0.0},
    ]
    assert body["breakdowns"] == expected["breakdowns"]
    assert body["open"] == expected["open"]
    assert body["from"] == "2026-01-01"


def test_an_engineer_token_counts_only_their_lines(
    client: Client, cams_engineer: User, history: History, frozen: None
) -> None:
    body = client.get(f"/api/v1/metrics?{QUERY}", headers=bearer(cams_engineer)).json()
    assert body["durations"]["acknowledge"]["cases"] == 3
    assert [b["value"] for b in body["breakdowns"]["line"]] == ["cams"]


def test_filters_and_scope(client: Client, lead: User, history: History, frozen: None) -> None:
    body = client.get(f"/api/v1/metrics?{QUERY}&line=routers", headers=bearer(lead)).json()
    assert body["durations"]["acknowledge"]["cases"] == 0
    assert client.get("/api/v1/metrics", headers=bearer(lead, scopes=("cases:write",))).status_code == 403
    assert client.get("/api/v1/metrics").status_code == 401
    bad = client.get("/api/v1/metrics?line=..%2F..", headers=bearer(lead))
    assert bad.status_code == 422
    assert "product line" in bad.json()["message"]
    assert client.get("/api/v1/metrics?from=2026-02-30", headers=bearer(lead)).status_code == 422
