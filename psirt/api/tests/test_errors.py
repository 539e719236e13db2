"""Every error answer of the API is a Problem {detail, errors}: the framework's own ones included."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from ninja.errors import Throttled

pytestmark = pytest.mark.django_db


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in body["errors"].values())
    return dict(body)


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
@pytest.mark.parametrize(
    "path", ["/api/", "/api/v2/advisories", "/api/v1/nothing", "/api/v1/advisories/X/csaf/extra", "/api/x"]
)
def test_unknown_paths_under_api_are_a_404_problem(client: Client, method: str, path: str) -> None:
    body = assert_problem(getattr(client, method)(path), 404)
    assert "/api/docs" in body["detail"] and body["errors"] == {}


def test_an_unknown_path_echoes_nothing_of_the_request(client: Client) -> None:
    response = client.get("/api/v1/<script>alert(1)</script>")
    assert_problem(response, 404)
    assert "script" not in response.content.decode()


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("post", "/api/v1/advisories", "GET"),
        ("delete", "/api/v1/advisories/VT-SA-2026-001", "GET"),
        ("put", "/api/v1/products/cam-x5/releases", "GET"),
        ("post", "/api/v1/cvss", "GET"),
        ("get", "/api/v1/reports", "POST"),
    ],
)
def test_a_wrong_method_is_a_405_problem_with_allow(client: Client, method: str, path: str, allow: str) -> None:
    response = getattr(client, method)(path)
    body = assert_problem(response, 405)
    assert response["Allow"] == allow and allow in body["detail"]


def test_framework_validation_errors_are_a_422_problem_naming_the_parameter(client: Client) -> None:
    body = assert_problem(client.get("/api/v1/products?offset=minus-one&limit=5000"), 422)
    assert set(body["errors"]) == {"offset", "limit"}


def test_a_missing_token_is_a_401_problem(client: Client) -> None:
    body = assert_problem(client.get("/api/v1/cases"), 401)
    assert "Bearer" in body["detail"]


def test_domain_errors_are_problems_and_keep_their_message_key(client: Client) -> None:
    response = client.post("/api/v1/reports", data=json.dumps({}), content_type="application/json")
    body = assert_problem(response, 422)
    assert body["message"] == body["detail"] and body["errors"]


def test_a_rate_limit_is_a_429_problem_with_retry_after(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def throttled(*args: Any, **kwargs: Any) -> Any:
        raise Throttled(wait=30)

    monkeypatch.setattr("psirt.advisories.api.queries.filtered_advisories", throttled)
    response = client.get("/api/v1/advisories")
    assert_problem(response, 429)
    assert response["Retry-After"] == "30"


def test_bad_query_of_the_affected_endpoint_is_a_problem(client: Client) -> None:
    body = assert_problem(client.get("/api/v1/affected"), 400)
    assert set(body["errors"]) == {"product", "version"}


def test_the_openapi_document_declares_problem_for_the_error_answers(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()
    for path in ("/api/v1/advisories/{advisory_id}", "/api/v1/products/{slug}/releases"):
        ref = schema["paths"][path]["get"]["responses"]["404"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/Problem")
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) == {"detail", "errors"}


def test_head_is_answered_like_get_without_a_body(client: Client) -> None:
    got, head = client.get("/api/v1/products"), client.head("/api/v1/products")
    assert head.status_code == 200 and head.content == b""
    assert head["ETag"] == got["ETag"] and head["Cache-Control"] == got["Cache-Control"]
    refused = client.head("/api/v1/reports")
    assert refused.status_code == 405 and refused["Allow"] == "POST"
