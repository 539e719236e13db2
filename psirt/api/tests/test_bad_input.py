"""Bad input and failing disks are answered in the API's own JSON shape, never with Django's HTML error page."""

from __future__ import annotations

import errno
import json
import sqlite3
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.test import Client

from psirt.accounts.services import create_token
from psirt.catalog.tests.factories import make_line, make_product
from psirt.intake.models import Report
from psirt.lib.crypto import EncryptedFileStore
from psirt.lib.errors import DISK_FULL_RETRY_AFTER, is_disk_full

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports"


@pytest.fixture
def product() -> Any:
    return make_product(make_line())


def _report(**overrides: Any) -> dict[str, Any]:
    data = {
        "reporter_name": "Ada Researcher",
        "reporter_email": "ada@research.test",
        "product": "cam-x5",
        "description": "Unauthenticated RCE.",
        "accept_guidelines": True,
    }
    data.update(overrides)
    return data


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    assert b"<html" not in response.content.lower()
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return dict(body)


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_deeply_nested_json_report_is_a_400_problem(client: Client, product: Any, depth: int) -> None:
    body = "[" * depth + "]" * depth
    _problem(client.post(URL, body, content_type="application/json"), 400)
    nested_value = '{"description": ' + "[" * depth + "]" * depth + "}"
    _problem(client.post(URL, nested_value, content_type="application/json"), 400)
    assert not Report.objects.exists()


def test_deeply_nested_json_to_a_token_protected_write_is_a_400_problem(client: Client, lead: Any) -> None:
    _row, token = create_token(user=lead, name="fuzz", scopes=("cases:read", "cases:write"))
    body = '{"report": "x", "title": ' + "[" * 50_000 + "]" * 50_000 + "}"
    response = client.post(
        "/api/v1/cases", body, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )
    _problem(response, 400)


def _disk_full(*args: Any, **kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_while_storing_an_attachment_is_a_503_with_retry_after(
    client: Client, product: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EncryptedFileStore, "save", _disk_full)
    data = {k: ("true" if v is True else v) for k, v in _report().items()}
    data["attachments"] = [SimpleUploadedFile("poc.py", b"print('hi')\n")]
    response = client.post(URL, data)
    body = _problem(response, 503)
    assert response["Retry-After"] == str(DISK_FULL_RETRY_AFTER)
    assert "disk" in body["detail"]
    assert not Report.objects.exists()


def test_database_disk_full_is_a_503_with_retry_after(
    client: Client, product: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(**kwargs: Any) -> Any:
        try:
            raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.OperationalError as exc:
            raise OperationalError("database or disk is full") from exc

    monkeypatch.setattr("psirt.intake.services.submit_report", full)
    response = client.post(URL, json.dumps(_report()), content_type="application/json")
    _problem(response, 503)
    assert response["Retry-After"] == str(DISK_FULL_RETRY_AFTER)


def test_any_other_failure_is_a_500_problem_not_an_html_page(product: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kwargs: Any) -> Any:
        raise KeyError("bug")

    monkeypatch.setattr("psirt.intake.services.submit_report", broken)
    client = Client(raise_request_exception=False)
    body = _problem(client.post(URL, json.dumps(_report()), content_type="application/json"), 500)
    assert "bug" not in body["detail"] and "KeyError" not in json.dumps(body)


def test_an_unexpected_failure_still_reaches_the_test_client_and_the_log(
    client: Client, product: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> Any:
        raise KeyError("bug")

    monkeypatch.setattr("psirt.intake.services.submit_report", broken)
    with pytest.raises(KeyError):
        client.post(URL, json.dumps(_report()), content_type="application/json")


@pytest.mark.parametrize(
    ("exc", "full"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), True),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), True),
        (OperationalError("database or disk is full"), True),
        (OperationalError('could not extend file "base/1/2": No space left on device'), True),
        (OSError(errno.EACCES, "Permission denied"), False),
        (OperationalError("database is locked"), False),
        (ValueError("disk is full"), False),
    ],
)
def test_is_disk_full(exc: BaseException, full: bool) -> None:
    assert is_disk_full(exc) is full


def test_is_disk_full_follows_the_cause() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("write failed") from inner
    except RuntimeError as outer:
        assert is_disk_full(outer)
