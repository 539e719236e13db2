"""/api/v1/cases: token auth and scopes, the same need-to-know as the desk, 404 for everyone else."""

from __future__ import annotations

import pytest
from django.test import Client

from psirt.accounts.models import Role, User
from psirt.accounts.services import create_token
from psirt.audit.models import AuditEvent
from psirt.cases.models import Case
from psirt.cases.services import cases as case_services
from psirt.tests.factories import make_report

pytestmark = pytest.mark.django_db


def bearer(user: User, scopes: tuple[str, ...] = ("cases:read",)) -> dict[str, str]:
    _row, token = create_token(user=user, name="test", scopes=scopes)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def case(lead, handler, report) -> Case:
    case = case_services.open_case(report=report, actor=lead, title="RCE in web UI", assignees=[handler])
    case_services.set_cvss(case=case, vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", actor=lead)
    case_services.add_reference(case=case, value="CVE-2026-1234", actor=lead)
    return case


@pytest.fixture
def invited(lead, case: Case) -> User:
    user = User.objects.create_user("invited@persona.test", "pw-Quokka-42", role=Role.ENGINEER)
    case_services.invite_engineer(case=case, engineer=user, actor=lead)
    return user


def test_lead_lists_cases_and_reads_one(client: Client, lead, case: Case, report) -> None:
    listing = client.get("/api/v1/cases", headers=bearer(lead))
    assert listing.status_code == 200
    body = listing.json()
    assert (body["count"], body["page"], body["pages"]) == (1, 1, 1)
    assert body["results"][0]["id"] == str(case.public_id)
    detail = client.get(f"/api/v1/cases/{case.public_id}", headers=bearer(lead)).json()
    assert detail["key"] == case.key
    assert (detail["cvss31_base"], detail["severity"]) == (9.8, "Critical")
    assert detail["references"] == ["CVE-2026-1234"]
    assert detail["advisories"] == []  # none written yet (the advisories' tests cover a case with one)
    assert detail["reports"] == [report.tracking_id]


@pytest.mark.parametrize(
    ("persona", "sees"),
    [("lead", True), ("handler", True), ("invited", True), ("other_handler", False), ("engineer", False)],
)
def test_each_persona_sees_exactly_its_cases(request, client: Client, case: Case, persona: str, sees: bool) -> None:
    user = request.getfixturevalue(persona)
    listing = client.get("/api/v1/cases", headers=bearer(user)).json()
    assert [r["id"] for r in listing["results"]] == ([str(case.public_id)] if sees else [])
    detail = client.get(f"/api/v1/cases/{case.public_id}", headers=bearer(user))
    assert detail.status_code == (200 if sees else 404)
    if not sees:
        assert detail.json() == {"detail": "Not found.", "errors": {}}
        assert AuditEvent.objects.filter(action="case.access_denied", actor=user).exists()


def test_no_token_bad_token_or_missing_scope(client: Client, lead, case: Case) -> None:
    assert client.get("/api/v1/cases").status_code == 401
    assert client.get("/api/v1/cases", headers={"Authorization": "Bearer psirt_nope"}).status_code == 401
    assert client.get(f"/api/v1/cases/{case.public_id}").status_code == 401
    assert client.get("/api/v1/cases", headers=bearer(lead, ("cases:write",))).status_code == 403


@pytest.mark.parametrize("bad", ["not-a-uuid", "1", "%3Cscript%3E", "7d0c5a52-1b7e-4c1e-9a51-3f5d2c8e9b10"])
def test_unknown_or_malformed_ids_are_404(client: Client, lead, case: Case, bad: str) -> None:
    response = client.get(f"/api/v1/cases/{bad}", headers=bearer(lead))
    assert response.status_code == 404


def test_state_filter_and_pagination(client: Client, lead, product, case: Case) -> None:
    for i in range(55):
        case_services.open_case(report=make_report(product, email=f"r{i}@x.test"), actor=lead, title=f"Case {i}")
    case_services.transition(case=case, to_state="acknowledged", actor=lead)
    auth = bearer(lead)
    first = client.get("/api/v1/cases", headers=auth).json()
    assert (first["count"], first["pages"], len(first["results"])) == (56, 2, 50)
    second = client.get("/api/v1/cases?page=2", headers=auth).json()
    assert len(second["results"]) == 6
    beyond = client.get("/api/v1/cases?page=99", headers=auth).json()
    assert beyond["page"] == 2
    acked = client.get("/api/v1/cases?state=acknowledged", headers=auth).json()
    assert [r["key"] for r in acked["results"]] == [case.key]
    assert client.get("/api/v1/cases?state=bogus", headers=auth).json()["count"] == 0
    assert client.get("/api/v1/cases?page=0", headers=auth).status_code == 422


def test_listing_query_count_does_not_grow_with_rows(
    client: Client, lead, product, case: Case, django_assert_max_num_queries
) -> None:
    auth = bearer(lead)
    client.get("/api/v1/cases", headers=auth)  # warm up
    with django_assert_max_num_queries(12) as few:
        client.get("/api/v1/cases", headers=auth)
    for i in range(20):
        case_services.open_case(report=make_report(product, email=f"q{i}@x.test"), actor=lead, title=f"Case {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/api/v1/cases", headers=auth)
