"""What the case page reads, whatever the size of the desk: the people it offers are the case's own (never a join
with every other case's rows), a viewer's notes are not even read when they may not see them, and the page's view
events are written together."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import _make_user, client_for, record_decryptions
from psirt.accounts.models import Role, User
from psirt.audit.models import AuditEvent
from psirt.cases.models import Case
from psirt.cases.queries import case_people
from psirt.cases.services import cases as case_services
from psirt.catalog.models import Product, ProductLine
from psirt.intake import services as intake_services
from psirt.tests.factories import make_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(lead: User, handler: User, product: Product) -> Case:
    report = make_report(product, description="Overflow in the RTSP server.")
    return case_services.open_case(report=report, actor=lead, title="RTSP overflow", assignees=[handler])


def url(case: Case) -> str:
    return f"/en/desk/cases/{case.public_id}/"


def test_work_item_owners_are_the_case_people_each_once(
    case: Case, lead: User, handler: User, other_handler: User, line: ProductLine, other_line: ProductLine
) -> None:
    # An engineer both invited and on the case's line, one only on the line, one only invited, one elsewhere.
    both = _make_user("both@persona.test", Role.ENGINEER)
    both.product_lines.add(line, other_line)
    on_line = _make_user("online@persona.test", Role.ENGINEER)
    on_line.product_lines.add(line)
    invited = _make_user("invited@persona.test", Role.ENGINEER)
    elsewhere = _make_user("elsewhere@persona.test", Role.ENGINEER)
    elsewhere.product_lines.add(other_line)
    for engineer in (both, invited):
        case_services.invite_engineer(case=case, engineer=engineer, actor=lead)
    # Another case with its own handler and invitation: none of them is this case's person.
    other = case_services.open_case(
        report=make_report(email="other@x.test"), actor=lead, title="Other", assignees=[other_handler]
    )
    case_services.invite_engineer(case=other, engineer=elsewhere, actor=lead)
    second_lead = _make_user("lead2@persona.test", Role.LEAD)
    gone = _make_user("gone@persona.test", Role.HANDLER)
    case_services.assign(case=case, user=gone, actor=lead)
    User.objects.filter(pk=gone.pk).update(is_active=False)

    people = case_people(case)
    assert sorted(p.email for p in people) == sorted(
        u.email for u in (lead, second_lead, handler, both, on_line, invited)
    )
    assert len(people) == len({p.pk for p in people})  # each once, however many rows name them


def test_notes_a_viewer_may_not_read_are_never_decrypted(
    case: Case, handler: User, engineer: User, line: ProductLine, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = case.case_reports.get().report
    intake_services.post_team_message(report=report, author=handler, body="NOTE-SECRET-BODY", is_internal=True)
    intake_services.post_team_message(report=report, author=handler, body="TEAM-MESSAGE-BODY")
    engineer.product_lines.add(line)
    decrypted = record_decryptions(monkeypatch)
    html = client_for(engineer).get(url(case)).content.decode()
    assert "TEAM-MESSAGE-BODY" in html and "NOTE-SECRET-BODY" not in html
    assert "NOTE-SECRET-BODY" not in decrypted
    decrypted.clear()
    html = client_for(handler).get(url(case)).content.decode()
    assert "NOTE-SECRET-BODY" in html and "NOTE-SECRET-BODY" in decrypted


def test_each_message_reads_its_report_once_for_the_whole_page(
    case: Case, handler: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = case.case_reports.get().report
    for i in range(4):
        intake_services.post_team_message(report=report, author=handler, body=f"Message {i}")
    decrypted = record_decryptions(monkeypatch)
    html = client_for(handler).get(url(case)).content.decode()
    assert all(f"Message {i}" in html for i in range(4))
    # The report's description is decrypted once for the page, not once more per message shown.
    assert decrypted.count("Overflow in the RTSP server.") == 1


def test_the_page_view_events_are_written_together(
    as_handler: Client, case: Case, handler: User, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_services.attach_duplicate(report=make_report(email="dup@x.test"), case=case, actor=lead)
    reports = [link.report for link in case.case_reports.all()]
    assert len(reports) == 2
    as_handler.get(url(case))
    assert AuditEvent.objects.filter(action="case.viewed", actor=handler, target_id=str(case.public_id)).count() == 1
    for report in reports:
        assert AuditEvent.objects.filter(action="report.viewed", target_id=str(report.public_id)).count() == 1

    # A view that cannot be recorded whole is not recorded in part (and the page is not shown).
    import psirt.cases.views.case as case_view

    def failing(**kwargs: object) -> None:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(case_view, "record_staff_view", failing)
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError):
        as_handler.get(url(case))
    assert AuditEvent.objects.count() == before
