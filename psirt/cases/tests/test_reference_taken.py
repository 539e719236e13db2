"""A CVE (CNVD, CNNVD) ID belongs to one case. "Already belongs to another case" names that case only to
someone who may see it; to anyone else the answer says "taken" and nothing more — same wording, same work."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from conftest import _make_user, client_for
from psirt.accounts.models import Role
from psirt.accounts.services import create_token
from psirt.cases.exceptions import ReferenceTaken
from psirt.cases.services import cases as case_services
from psirt.tests.factories import make_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_cases(product, lead):
    alice = _make_user("alice@h.test", Role.HANDLER)
    bob = _make_user("bob@h.test", Role.HANDLER)
    mine = case_services.open_case(report=make_report(product), actor=lead, title="Mine", assignees=[alice, bob])
    secret = case_services.open_case(
        report=make_report(product, email="x@r.test"), actor=lead, title="Secret", assignees=[bob]
    )
    case_services.add_reference(case=secret, value="CVE-2026-4242", actor=lead)
    return {"mine": mine, "secret": secret, "alice": alice, "bob": bob, "lead": lead}


def _refusal(case, actor) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries, pytest.raises(ReferenceTaken) as refused:
        case_services.add_reference(case=case, value="cve-2026-4242", actor=actor)
    return refused.value.message, len(queries)


def test_named_to_someone_who_may_see_the_other_case(two_cases):
    message, _n = _refusal(two_cases["mine"], two_cases["bob"])
    assert two_cases["secret"].key in message
    message, _n = _refusal(two_cases["mine"], two_cases["lead"])
    assert two_cases["secret"].key in message


def test_not_named_to_someone_who_may_not_and_no_other_difference(two_cases):
    hidden, hidden_queries = _refusal(two_cases["mine"], two_cases["alice"])
    named, named_queries = _refusal(two_cases["mine"], two_cases["bob"])
    assert two_cases["secret"].key not in hidden
    assert "Secret" not in hidden
    assert hidden == "CVE-2026-4242 already belongs to another case."
    # The same work either way: the query count does not tell the two apart.
    assert hidden_queries == named_queries
    assert named != hidden


def test_not_named_on_the_case_page_either(two_cases):
    response = client_for(two_cases["alice"]).post(
        f"/en/desk/cases/{two_cases['mine'].public_id}/references/", {"value": "CVE-2026-4242"}
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "already belongs to another case" in page
    assert two_cases["secret"].key not in page and str(two_cases["secret"].public_id) not in page


def test_not_named_through_the_api(two_cases):
    _row, token = create_token(user=two_cases["alice"], name="t", scopes=["cases:read", "cases:write"])
    response = Client().post(
        f"/api/v1/cases/{two_cases['mine'].public_id}/references",
        {"value": "CVE-2026-4242"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 409
    assert two_cases["secret"].key not in response.content.decode()
    assert "another case" in response.content.decode()


def test_chinese_wording_hides_the_case_too(two_cases):
    with translation.override("zh-hans"):
        message, _n = _refusal(two_cases["mine"], two_cases["alice"])
    assert two_cases["secret"].key not in message
    assert "CVE-2026-4242" in message
