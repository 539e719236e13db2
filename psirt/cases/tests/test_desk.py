"""Desk pages of cases: who gets what (the persona matrix), filters, sorting, hostile input, query counts."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import _make_user, client_for
from psirt.accounts.models import Role, User
from psirt.audit.models import AuditEvent
from psirt.cases.models import Case
from psirt.cases.services import cases as case_services
from psirt.tests.factories import make_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(lead, handler, report) -> Case:
    case = case_services.open_case(report=report, actor=lead, title="RCE in <b>web</b> UI", assignees=[handler])
    case_services.set_cwe(case=case, cwe=78, actor=lead)
    case_services.add_reference(case=case, value="https://example.com/adv?a=1&b=<x>", actor=lead)
    return case


@pytest.fixture
def invited(lead, case: Case) -> User:
    user = _make_user("invited@persona.test", Role.ENGINEER)  # with TOTP, as staff must have
    case_services.invite_engineer(case=case, engineer=user, actor=lead)
    return user


def url_list() -> str:
    return "/en/desk/cases/"


def url_case(case: Case) -> str:
    return f"/en/desk/cases/{case.public_id}/"


# persona → (status of the list, sees the case in it, status of the case page)
MATRIX = {
    "lead": (200, True, 200),
    "handler": (200, True, 200),
    "invited": (200, True, 200),
    "other_handler": (200, False, 404),
    "engineer": (200, False, 404),
}


@pytest.mark.parametrize("persona", sorted(MATRIX))
def test_persona_matrix_for_case_pages(request, case: Case, persona: str) -> None:
    user = request.getfixturevalue(persona)
    client = client_for(user)
    list_status, sees, case_status = MATRIX[persona]
    listing = client.get(url_list())
    assert listing.status_code == list_status
    assert (case.key in listing.content.decode()) == sees
    page = client.get(url_case(case))
    assert page.status_code == case_status
    if case_status == 200:
        assert AuditEvent.objects.filter(action="case.viewed", actor=user, target_id=str(case.public_id)).exists()
    else:
        assert case.title not in page.content.decode()
        assert AuditEvent.objects.filter(action="case.access_denied", actor=user).exists()


def test_anonymous_visitors_are_sent_to_sign_in(anonymous: Client, case: Case) -> None:
    for url in (url_list(), url_case(case)):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_case_page_shows_the_case_with_hostile_text_inert(as_handler: Client, case: Case, report) -> None:
    html = as_handler.get(url_case(case)).content.decode()
    assert "RCE in &lt;b&gt;web&lt;/b&gt; UI" in html and "<b>web</b>" not in html
    assert "CWE-78: Improper Neutralization of Special Elements used in an OS Command" in html
    assert report.tracking_id in html
    assert "https://example.com/adv?a=1&amp;b=&lt;x&gt;" in html


def test_case_page_in_chinese(handler, case: Case) -> None:
    html = client_for(handler).get(f"/zh-hans/desk/cases/{case.public_id}/").content.decode()
    assert "CWE-78: 操作系统命令中使用的特殊元素中和不恰当（操作系统命令注入）" in html


@pytest.mark.parametrize("bad", ["not-a-uuid", "7d0c5a52-1b7e-4c1e-9a51-3f5d2c8e9b10", "..%2F..%2Fetc"])
def test_unknown_case_ids_are_404(as_lead: Client, bad: str) -> None:
    assert as_lead.get(f"/en/desk/cases/{bad}/").status_code == 404


def test_filters_search_and_sorting(lead, handler, product, case: Case) -> None:
    other = case_services.open_case(report=make_report(product, email="o@x.test"), actor=lead, title="Telnet backdoor")
    case_services.transition(case=other, to_state="rejected", actor=lead, reason="not ours")
    client = client_for(lead)

    def keys(query: str) -> list[str]:
        html = client.get(url_list() + query).content.decode()
        return [k for k in (case.key, other.key) if k in html]

    assert keys("") == [case.key, other.key]
    assert keys("?state=open") == [case.key]
    assert keys("?state=finished") == [other.key]
    assert keys("?state=rejected") == [other.key]
    assert keys("?q=telnet") == [other.key]
    assert keys(f"?q={case.key}") == [case.key]
    assert keys("?mine=1") == []
    assert client_for(handler).get(url_list() + "?mine=1").content.decode().count(case.key) == 1
    for sort in ("newest", "ack_due", "remediation_due", "disclosure", "key"):
        assert client.get(url_list() + f"?sort={sort}").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "?state=%3Cscript%3E",
        "?sort=;drop table",
        "?page=-1",
        "?page=abc",
        "?page=99999999999",
        "?q=" + "x" * 5000,
        "?q=%00",
    ],
)
def test_hostile_list_parameters_are_harmless(as_lead: Client, case: Case, query: str) -> None:
    response = as_lead.get(url_list() + query)
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()


def test_case_list_query_count_does_not_grow_with_rows(
    lead, product, case: Case, django_assert_max_num_queries
) -> None:
    client = client_for(lead)
    client.get(url_list())
    with django_assert_max_num_queries(50) as baseline:
        client.get(url_list())
    for i in range(15):
        case_services.open_case(report=make_report(product, email=f"q{i}@x.test"), actor=lead, title=f"Case {i}")
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        client.get(url_list())
