"""Opening cases, moving them, scoring, CWE, exploitation, references and the calendar — through case_services."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from psirt.audit.models import AuditEvent
from psirt.cases.exceptions import InvalidInput, NotAllowed, ReferenceTaken, TransitionNotAllowed
from psirt.cases.models import Case, CaseReference
from psirt.cases.services import cases as case_services
from psirt.intake.models import InboxState, Stage
from psirt.organization.queries import acknowledgment_due
from psirt.tests.factories import make_report

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def case(lead, handler, report) -> Case:
    return case_services.open_case(report=report, actor=lead, title="  RCE in   web UI ", assignees=[handler])


def test_lead_opens_a_case_from_an_inbox_report(lead, handler, report, line, product) -> None:
    case = case_services.open_case(report=report, actor=lead, title="RCE in web UI", assignees=[handler])
    assert case.key == f"CASE-{timezone.localtime().year}-0001"
    assert (case.state, case.product, case.product_line, case.received_at) == ("new", product, line, report.created_at)
    assert case.ack_due_at == report.ack_due_at
    report.refresh_from_db()
    assert report.inbox_state == InboxState.TAKEN
    assert list(case.assignees.all()) == [handler]
    assert AuditEvent.objects.filter(action="case.opened", target_id=str(case.public_id)).exists()
    second = case_services.open_case(report=make_report(product, email="b@x.test"), actor=lead, title="Another")
    assert second.key.endswith("-0002")


def test_case_keys_count_in_the_local_year_and_restart_with_each_year(lead, monkeypatch) -> None:
    # 16:30 UTC on 31 December is already 1 January in Shanghai, the installation's time zone here.
    opened = {}
    for moment in ("2026-12-31T15:00", "2026-12-31T16:30", "2027-01-02T09:00"):
        now = dt.datetime.fromisoformat(moment).replace(tzinfo=dt.UTC)
        monkeypatch.setattr(timezone, "now", lambda now=now: now)
        with timezone.override(SHANGHAI):
            case = case_services.open_team_case(title=f"Fix {moment}", actor=lead, source="test")
        opened[moment] = (case.key, case.year, case.number, case.received_at)
    assert opened == {
        "2026-12-31T15:00": ("CASE-2026-0001", 2026, 1, dt.datetime(2026, 12, 31, 15, 0, tzinfo=dt.UTC)),
        "2026-12-31T16:30": ("CASE-2027-0001", 2027, 1, dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)),
        "2027-01-02T09:00": ("CASE-2027-0002", 2027, 2, dt.datetime(2027, 1, 2, 9, 0, tzinfo=dt.UTC)),
    }


def test_a_report_without_an_acknowledgment_deadline_gets_the_usual_one(lead, report) -> None:
    type(report).objects.filter(pk=report.pk).update(ack_due_at=None)
    report.refresh_from_db()
    case = case_services.open_case(report=report, actor=lead, title="No deadline on the report")
    assert case.ack_due_at is not None
    assert case.ack_due_at == acknowledgment_due(report.created_at)


def test_handler_cannot_open_cases_and_a_report_opens_only_one(lead, handler, report) -> None:
    with pytest.raises(NotAllowed):
        case_services.open_case(report=report, actor=handler, title="Mine")
    case_services.open_case(report=report, actor=lead, title="First")
    with pytest.raises(InvalidInput, match="already in a case"):
        case_services.open_case(report=report, actor=lead, title="Second")


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_case_title_is_required_and_bounded(lead, report, title: str) -> None:
    with pytest.raises(InvalidInput):
        case_services.open_case(report=report, actor=lead, title=title)
    assert not Case.objects.exists()


def test_duplicate_report_joins_the_case_and_its_reporter_is_told(
    lead, case: Case, product, django_capture_on_commit_callbacks
) -> None:
    dup = make_report(product, email="second@x.test")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        case_services.attach_duplicate(report=dup, case=case, actor=lead)
    dup.refresh_from_db()
    assert (dup.inbox_state, dup.stage) == (InboxState.TAKEN, Stage.DUPLICATE)
    assert any("second@x.test" in m.to for m in mail.outbox)
    assert case.case_reports.filter(is_duplicate=True).count() == 1


def test_acknowledging_stamps_the_time_and_moves_the_reporters_stage(handler, case: Case, report) -> None:
    case_services.transition(case=case, to_state="acknowledged", actor=handler)
    case.refresh_from_db()
    report.refresh_from_db()
    assert case.acknowledged_at is not None
    assert report.stage == Stage.ACKNOWLEDGED and report.acknowledged_at is not None


def test_confirming_sets_the_remediation_deadline_for_case_and_reporter(handler, case: Case, report) -> None:
    for state in ("acknowledged", "triage", "confirmed"):
        case_services.transition(case=case, to_state=state, actor=handler)
    case.refresh_from_db()
    report.refresh_from_db()
    assert case.confirmed_at is not None
    assert case.remediation_due_at == case.confirmed_at + dt.timedelta(days=90)
    assert report.remediation_due_at == case.remediation_due_at
    assert report.stage == Stage.FIXING


def test_marking_duplicate_needs_the_other_case(lead, handler, case: Case, product) -> None:
    other = case_services.open_case(report=make_report(product, email="o@x.test"), actor=lead, title="Original")
    with pytest.raises(InvalidInput, match="duplicates"):
        case_services.transition(case=case, to_state="duplicate", actor=handler, reason="same bug")
    with pytest.raises(InvalidInput):
        case_services.transition(case=case, to_state="duplicate", actor=handler, reason="same bug", duplicate_of=case)
    # The handler is not assigned to the other case: they cannot point at it.
    with pytest.raises(InvalidInput):
        case_services.transition(case=case, to_state="duplicate", actor=handler, reason="same bug", duplicate_of=other)
    case_services.transition(case=case, to_state="duplicate", actor=lead, reason="same bug", duplicate_of=other)
    case.refresh_from_db()
    assert case.duplicate_of == other and case.closed_at is not None


def test_reopening_clears_the_closing_time(lead, case: Case) -> None:
    case_services.transition(case=case, to_state="rejected", actor=lead, reason="not reproducible")
    case_services.transition(case=case, to_state="triage", actor=lead, reason="new proof from the reporter")
    case.refresh_from_db()
    assert case.state == "triage" and case.closed_at is None
    assert AuditEvent.objects.filter(action="case.reopened").count() == 1


def test_only_leads_and_assignees_change_a_case(other_handler, engineer, case: Case) -> None:
    for user in (other_handler, engineer):
        with pytest.raises(NotAllowed):
            case_services.transition(case=case, to_state="acknowledged", actor=user)
        with pytest.raises(NotAllowed):
            case_services.set_cvss(case=case, vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", actor=user)


def test_scoring_stores_normalised_vectors_and_severity(handler, case: Case) -> None:
    case_services.set_cvss(case=case, vector="CVSS:3.1/C:H/I:H/A:H/AV:N/AC:L/PR:N/UI:N/S:U/E:X", actor=handler)
    case.refresh_from_db()
    assert case.cvss31_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert (case.cvss31_base, case.severity) == (Decimal("9.8"), "Critical")
    case_services.set_cvss(
        case=case, vector="CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", actor=handler
    )
    case.refresh_from_db()
    assert case.cvss31_vector and case.cvss40_vector.startswith("CVSS:4.0/AV:P")
    assert case.severity == "Low"


def test_invalid_vector_names_the_metric_and_changes_nothing(handler, case: Case) -> None:
    with pytest.raises(InvalidInput, match="AV"):
        case_services.set_cvss(case=case, vector="CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", actor=handler)
    case.refresh_from_db()
    assert case.cvss31_vector == "" and case.severity == ""


def test_cwe_must_come_from_the_list(handler, case: Case) -> None:
    case_services.set_cwe(case=case, cwe="CWE-787", actor=handler)
    assert Case.objects.get(pk=case.pk).cwe_id == 787
    with pytest.raises(InvalidInput):
        case_services.set_cwe(case=case, cwe="CWE-999999", actor=handler)
    case_services.set_cwe(case=case, cwe=None, actor=handler)
    assert Case.objects.get(pk=case.pk).cwe_id is None


def test_exploitation_records_when_the_team_became_aware(handler, case: Case) -> None:
    aware = dt.datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
    case_services.set_exploitation(case=case, status="active", aware_at=aware, actor=handler)
    case.refresh_from_db()
    assert (case.exploitation, case.exploitation_aware_at) == ("active", aware)
    with pytest.raises(InvalidInput):
        case_services.set_exploitation(
            case=case, status="active", aware_at=timezone.now() + dt.timedelta(days=1), actor=handler
        )
    with pytest.raises(InvalidInput):
        case_services.set_exploitation(case=case, status="rumoured", actor=handler)
    case_services.set_exploitation(case=case, status="none", actor=handler)
    assert Case.objects.get(pk=case.pk).exploitation_aware_at is None


def test_identifiers_are_unique_across_cases_and_hidden_cases_stay_hidden(lead, handler, case: Case, product) -> None:
    ref = case_services.add_reference(case=case, value=" cve-2026-12345 ", actor=handler)
    assert (ref.kind, ref.value) == ("cve", "CVE-2026-12345")
    case_services.add_reference(case=case, value="CNNVD-202603-1234", actor=handler)
    case_services.add_reference(case=case, value="https://www.openssl.org/news/secadv/20240625.txt", actor=handler)
    with pytest.raises(ReferenceTaken, match="already has"):
        case_services.add_reference(case=case, value="CVE-2026-12345", actor=handler)

    other = case_services.open_case(report=make_report(product, email="o@x.test"), actor=lead, title="Other")
    with pytest.raises(ReferenceTaken) as info:
        case_services.add_reference(case=other, value="CVE-2026-12345", actor=lead)
    assert case.key in info.value.message  # the lead may see the first case
    case_services.assign(case=other, user=handler, actor=lead)
    case_services.unassign(case=case, user=handler, actor=lead)
    with pytest.raises(ReferenceTaken) as info:
        case_services.add_reference(case=other, value="CVE-2026-12345", actor=handler)
    assert case.key not in info.value.message and "another case" in info.value.message
    # The same third-party advisory may concern several cases.
    case_services.add_reference(case=other, value="https://www.openssl.org/news/secadv/20240625.txt", actor=lead)


@pytest.mark.parametrize(
    "value", ["CVE-2026-1", "CNNVD-202613-1234", "GHSA-1234", "javascript:alert(1)", "", "x" * 5000]
)
def test_malformed_references_are_refused(handler, case: Case, value: str) -> None:
    with pytest.raises(InvalidInput):
        case_services.add_reference(case=case, value=value, actor=handler)
    assert not CaseReference.objects.exists()


def test_transition_errors_do_not_leak_markup(lead, case: Case) -> None:
    with pytest.raises(TransitionNotAllowed) as info:
        case_services.transition(case=case, to_state="published", actor=lead)
    assert "“New”" in info.value.message and "“Published”" in info.value.message
