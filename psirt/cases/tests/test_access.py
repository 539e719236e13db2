"""Need-to-know: who sees a case (and its reports), and what everyone else gets."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.urls import reverse
from django.utils import translation

from psirt.accounts.models import Role, User
from psirt.accounts.services import set_product_lines
from psirt.audit.models import AuditEvent
from psirt.cases.access import can_edit_case, can_view_case, get_case_for, visible_cases
from psirt.cases.models import Case
from psirt.cases.services import cases as case_services
from psirt.intake.access import get_report_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(lead, handler, report) -> Case:
    return case_services.open_case(report=report, actor=lead, title="RCE in web UI", assignees=[handler])


@pytest.fixture
def invited_engineer(lead, case):
    user = User.objects.create_user("invited-engineer@persona.test", "pw-Quokka-42", role=Role.ENGINEER)
    case_services.invite_engineer(case=case, engineer=user, actor=lead)
    return user


@pytest.fixture
def line_engineer(lead, line):
    user = User.objects.create_user("line-engineer@persona.test", "pw-Quokka-42", role=Role.ENGINEER)
    set_product_lines(user=user, product_lines=[line], actor=lead, request=None)
    return user


def test_lead_and_assigned_handler_see_the_case(lead, handler, case: Case) -> None:
    for user in (lead, handler):
        assert get_case_for(user, case.public_id) == case
        assert list(visible_cases(user)) == [case]
        assert can_edit_case(user, case)


def test_unassigned_handler_gets_404_for_case_and_the_attempt_is_audited(other_handler, case: Case) -> None:
    with pytest.raises(Http404):
        get_case_for(other_handler, case.public_id)
    assert list(visible_cases(other_handler)) == []
    event = AuditEvent.objects.filter(action="case.access_denied").get()
    assert (event.actor, event.target_id) == (other_handler, str(case.public_id))


def test_engineer_invited_to_the_case_or_its_line_reads_but_cannot_edit(
    invited_engineer, line_engineer, case: Case
) -> None:
    for user in (invited_engineer, line_engineer):
        assert get_case_for(user, case.public_id) == case
        assert list(visible_cases(user)) == [case]
        assert not can_edit_case(user, case)


def test_engineer_of_another_line_or_not_invited_gets_404(lead, engineer, other_line, case: Case) -> None:
    set_product_lines(user=engineer, product_lines=[other_line], actor=lead, request=None)
    with pytest.raises(Http404):
        get_case_for(engineer, case.public_id)
    assert list(visible_cases(engineer)) == []


def test_anonymous_and_deactivated_users_see_nothing(handler, case: Case) -> None:
    handler.is_active = False
    handler.save()
    for user in (AnonymousUser(), None, handler):
        assert not can_view_case(user, case)
        assert list(visible_cases(user)) == []
        with pytest.raises(Http404):
            get_case_for(user, case.public_id)


@pytest.mark.parametrize(
    "bad", ["", "not-a-uuid", "1", "../../etc/passwd", None, 42, "7d0c5a52-1b7e-4c1e-9a51-3f5d2c8e9b10"]
)
def test_malformed_or_unknown_ids_are_404_without_audit(lead, case: Case, bad: object) -> None:
    with pytest.raises(Http404):
        get_case_for(lead, bad)
    assert not AuditEvent.objects.filter(action="case.access_denied").exists()


def test_reports_of_a_case_follow_the_case(lead, handler, other_handler, invited_engineer, case: Case, report) -> None:
    for user in (lead, handler, invited_engineer):
        assert get_report_for(user, report.public_id) == report
    with pytest.raises(Http404):
        get_report_for(other_handler, report.public_id)


def test_a_refused_report_is_audited_like_a_refused_case(other_handler, case: Case, report) -> None:
    with pytest.raises(Http404):
        get_report_for(other_handler, report.public_id)
    with pytest.raises(Http404):
        get_case_for(other_handler, case.public_id)
    events = {e.action: e for e in AuditEvent.objects.filter(action__endswith=".access_denied")}
    assert set(events) == {"report.access_denied", "case.access_denied"}
    refused_report, refused_case = events["report.access_denied"], events["case.access_denied"]
    assert (refused_report.actor, refused_report.target_type, refused_report.target_id) == (
        other_handler,
        "intake.report",
        str(report.public_id),
    )
    assert (refused_case.actor, refused_case.target_type, refused_case.target_id) == (
        other_handler,
        "cases.case",
        str(case.public_id),
    )


def test_a_refused_report_in_the_inbox_is_audited_on_the_desk(as_handler, report) -> None:
    with translation.override("en"):
        url = reverse("desk:intake:report", kwargs={"public_id": report.public_id})
    assert as_handler.get(url).status_code == 404
    event = AuditEvent.objects.get(action="report.access_denied")
    assert event.target_id == str(report.public_id) and event.ip


def test_visible_cases_is_one_query_whatever_the_number_of_cases(
    lead, handler, line, product, django_assert_num_queries
) -> None:
    from psirt.tests.factories import make_report

    for i in range(5):
        case_services.open_case(
            report=make_report(product, email=f"r{i}@x.test"), actor=lead, title=f"Case {i}", assignees=[handler]
        )
    with django_assert_num_queries(1):
        assert len(list(visible_cases(handler))) == 5
