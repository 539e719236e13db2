"""Write operations of /api/v1/cases…: scope cases:write, the same services and refusals as the desk."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from psirt.accounts.models import User
from psirt.accounts.services import create_token
from psirt.cases.models import Case
from psirt.cases.services import cases as case_services
from psirt.intake.models import Message, Stage
from psirt.tests.factories import make_report

pytestmark = pytest.mark.django_db


def bearer(user: User, scopes: tuple[str, ...] = ("cases:read", "cases:write")) -> dict[str, str]:
    _row, token = create_token(user=user, name="test", scopes=scopes)
    return {"Authorization": f"Bearer {token}"}


def send(client: Client, method: str, path: str, headers: dict[str, str], body: object = None):  # type: ignore[no-untyped-def]
    return getattr(client, method)(
        path, data=json.dumps(body) if body is not None else None, content_type="application/json", headers=headers
    )


@pytest.fixture
def case(lead, handler, report) -> Case:
    return case_services.open_case(report=report, actor=lead, title="RCE in web UI", assignees=[handler])


def test_lead_opens_a_case_from_an_inbox_report_by_tracking_id(client: Client, lead, handler, report) -> None:
    body = {"report": report.tracking_id.lower(), "title": "Camera RCE", "assignees": [str(handler.public_id)]}
    response = send(client, "post", "/api/v1/cases", bearer(lead), body)
    assert response.status_code == 201, response.content
    case = Case.objects.get(public_id=response.json()["id"])
    assert list(case.assignees.all()) == [handler] and response.json()["reports"] == [report.tracking_id]
    again = send(client, "post", "/api/v1/cases", bearer(lead), body)
    assert again.status_code == 422 and "already in a case" in again.json()["message"]


def test_handler_cannot_open_cases_or_see_inbox_reports(client: Client, handler, report) -> None:
    response = send(client, "post", "/api/v1/cases", bearer(handler), {"report": report.tracking_id, "title": "x"})
    assert response.status_code == 404


def test_handler_moves_scores_and_classifies_over_the_api(client: Client, handler, case: Case) -> None:
    h = bearer(handler)
    base = f"/api/v1/cases/{case.public_id}"
    assert send(client, "post", base + "/transition", h, {"to_state": "acknowledged"}).json()["state"] == "acknowledged"
    response = send(client, "put", base + "/cvss", h, {"vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"})
    assert (response.json()["cvss31_base"], response.json()["severity"]) == (9.8, "Critical")
    assert send(client, "put", base + "/cwe", h, {"cwe": "CWE-787"}).json()["cwe"] == "CWE-787"
    response = send(
        client, "put", base + "/exploitation", h, {"status": "poc", "aware_at": "2026-01-05T10:00:00+08:00"}
    )
    assert response.json()["exploitation"] == "poc"
    assert send(client, "post", base + "/references", h, {"value": "CVE-2026-5555"}).status_code == 201
    assert send(client, "delete", base + "/references?value=CVE-2026-5555", h).json()["references"] == []
    assert (
        send(client, "put", base + "/disclosure", h, {"date": "2026-12-01"}).json()["disclosure_date"] == "2026-12-01"
    )


def test_api_refusals_carry_the_services_status_and_message(client: Client, handler, other_handler, case: Case) -> None:
    h = bearer(handler)
    base = f"/api/v1/cases/{case.public_id}"
    response = send(client, "post", base + "/transition", h, {"to_state": "published"})
    assert response.status_code == 409 and "cannot go from" in response.json()["message"]
    response = send(client, "put", base + "/cvss", h, {"vector": "CVSS:3.1/AV:X"})
    assert response.status_code == 422 and "AV" in response.json()["message"]
    assert send(client, "post", base + "/assignees", h, {"user": str(other_handler.public_id)}).status_code == 403
    assert send(client, "put", base + "/cwe", h, {"cwe": "CWE-999999"}).status_code == 422
    assert send(client, "put", base + "/cvss", h, {"vector": "x" * 5000}).status_code in (400, 422)
    # Read-only token: 403; someone else's case: 404.
    assert send(client, "put", base + "/cwe", bearer(handler, ("cases:read",)), {"cwe": 79}).status_code == 403
    assert send(client, "put", base + "/cwe", bearer(other_handler), {"cwe": 79}).status_code == 404


def test_messages_and_notes_over_the_api(client: Client, handler, case: Case, report) -> None:
    base = f"/api/v1/cases/{case.public_id}/messages"
    response = send(client, "post", base, bearer(handler), {"body": "We reproduced it."})
    assert response.status_code == 201 and response.json()["report"] == report.tracking_id
    send(client, "post", base, bearer(handler), {"body": "internal", "internal": True})
    assert Message.objects.filter(report=report, is_internal=True).count() == 1
    assert send(client, "post", base, bearer(handler), {"body": "x", "report": "VR-1999-0001"}).status_code == 422
    assert send(client, "post", base, bearer(handler), {"body": ""}).status_code == 422


def test_lead_attaches_a_duplicate_over_the_api(client: Client, lead, case: Case, product) -> None:
    late = make_report(product, email="late@x.test")
    response = send(
        client, "post", f"/api/v1/cases/{case.public_id}/duplicates", bearer(lead), {"report": str(late.public_id)}
    )
    assert response.status_code == 200 and late.tracking_id in response.json()["reports"]
    late.refresh_from_db()
    assert late.stage == Stage.DUPLICATE


def test_case_detail_carries_people_and_remediation(client: Client, handler, case: Case, product) -> None:
    from psirt.cases.services import remediation
    from psirt.catalog.models import FirmwareRelease

    fixed = FirmwareRelease.objects.create(product=product, version="2.0", position=2)
    remediation.set_affected_range(case=case, product=product, fixed=fixed, actor=handler)
    remediation.add_work_item(case=case, title="Patch", owner=handler, actor=handler)
    body = client.get(f"/api/v1/cases/{case.public_id}", headers=bearer(handler)).json()
    assert body["assignees"] == [str(handler.public_id)]
    assert body["affected"] == [{"product": "cam-x5", "variant": "", "introduced": None, "fixed": "2.0"}]
    assert [(w["title"], w["owner"], w["done"]) for w in body["work_items"]] == [
        ("Patch", str(handler.public_id), False)
    ]


def test_nul_bytes_and_junk_get_clear_answers_on_every_database(client: Client, lead, handler, case: Case) -> None:
    h = bearer(handler)
    base = f"/api/v1/cases/{case.public_id}"
    response = send(client, "post", base + "/transition", h, {"to_state": "rejected", "reason": "a\x00b"})
    assert response.status_code == 422 and "null character" in response.json()["message"]
    response = send(
        client, "post", base + "/transition", h, {"to_state": "duplicate", "reason": "x", "duplicate_of": "C\x00"}
    )
    assert response.status_code == 422
    assert send(client, "delete", base + "/references?value=CVE%00", h).status_code == 404
    assert send(client, "post", "/api/v1/cases", bearer(lead), {"report": "VR-\x00", "title": "x"}).status_code == 404
    inbox = make_report(case.product, email="n@x.test")
    response = send(client, "post", "/api/v1/cases", bearer(lead), {"report": inbox.tracking_id, "title": "a\x00"})
    assert response.status_code == 422 and "null character" in response.json()["message"]
    assert send(client, "post", base + "/references", h, {"value": "CVE-2026-1\x00"}).status_code == 422
    assert send(client, "put", base + "/cvss", h, {"vector": "CVSS:3.1/\x00"}).status_code == 422
    assert send(client, "put", base + "/cwe", h, {"cwe": "\x00"}).status_code == 422


def test_desk_forms_refuse_nul_bytes(client: Client, handler, case: Case) -> None:
    from conftest import client_for

    c = client_for(handler)
    url = f"/en/desk/cases/{case.public_id}/"
    assert c.post(url + "references/remove/", {"kind": "cve", "value": "CVE\x00"}).status_code == 404
    assert c.post(url + "transition/", {"to_state": "rejected", "reason": "a\x00"}).status_code == 400
    assert c.post(url + "work/", {"work-title": "a\x00"}).status_code == 400
    assert c.post(url + "cwe/", {"cwe": "\x00"}).status_code == 400
