"""The case page's forms: workflow, people, CVSS calculators, CWE, exploitation, references, disclosure date."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from conftest import _make_user, client_for
from psirt.accounts.models import Role, User
from psirt.audit.models import AuditEvent
from psirt.cases.models import Case, CaseReference
from psirt.cases.services import cases as case_services
from psirt.tests.factories import make_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(lead, handler, report) -> Case:
    return case_services.open_case(report=report, actor=lead, title="RCE in web UI", assignees=[handler])


@pytest.fixture
def invited(lead, case: Case) -> User:
    user = _make_user("invited@persona.test", Role.ENGINEER)
    case_services.invite_engineer(case=case, engineer=user, actor=lead)
    return user


def url(case: Case, action: str = "") -> str:
    return f"/en/desk/cases/{case.public_id}/{action + '/' if action else ''}"


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def offered_states(html: str) -> set[str]:
    select = re.search(r'<select[^>]*name="to_state"[^>]*>(.*?)</select>', html, re.S)
    assert select, "the transition form is on the page"
    return set(re.findall(r'<option value="([a-z_]+)"', select.group(1)))


# --- workflow ---------------------------------------------------------------------------------------------


def test_transition_form_offers_only_the_allowed_next_states(as_handler: Client, case: Case) -> None:
    html = as_handler.get(url(case)).content.decode()
    assert offered_states(html) == {"acknowledged", "rejected", "duplicate", "not_vulnerability", "out_of_scope"}


def test_handler_moves_the_case_forward_and_the_history_shows_it(as_handler: Client, case: Case) -> None:
    response = as_handler.post(url(case, "transition"), {"to_state": "acknowledged", "reason": ""})
    assert response.status_code == 302 and response["Location"].endswith("#workflow")
    case = fresh(case)
    assert case.state == "acknowledged" and case.acknowledged_at is not None
    assert "Triage" in as_handler.get(url(case)).content.decode()


def test_a_state_not_allowed_from_here_is_refused(as_handler: Client, case: Case) -> None:
    response = as_handler.post(url(case, "transition"), {"to_state": "published"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert fresh(case).state == "new"


def test_an_exit_without_a_reason_is_refused_and_the_typed_values_stay(as_handler: Client, case: Case) -> None:
    response = as_handler.post(url(case, "transition"), {"to_state": "rejected", "reason": "  "})
    assert response.status_code == 409
    assert "needs a reason" in response.content.decode()
    assert fresh(case).state == "new"


def test_reopening_needs_a_reason_and_goes_back_to_triage(as_handler: Client, case: Case) -> None:
    as_handler.post(url(case, "transition"), {"to_state": "not_vulnerability", "reason": "Works as designed"})
    html = as_handler.get(url(case)).content.decode()
    assert offered_states(html) == {"triage"} and "Reopen (back to triage)" in html
    assert as_handler.post(url(case, "transition"), {"to_state": "triage"}).status_code == 409
    response = as_handler.post(url(case, "transition"), {"to_state": "triage", "reason": "New PoC from reporter"})
    assert response.status_code == 302
    case = fresh(case)
    assert case.state == "triage" and case.closed_at is None
    assert AuditEvent.objects.filter(action="case.reopened", target_id=str(case.public_id)).exists()


def test_marking_a_duplicate_needs_a_case_number_the_handler_can_see(
    as_handler: Client, case: Case, lead, handler, product
) -> None:
    other = case_services.open_case(report=make_report(product, email="o@x.test"), actor=lead, title="Original")
    data = {"to_state": "duplicate", "reason": "Same bug", "duplicate_of": other.key}
    response = as_handler.post(url(case, "transition"), data)
    assert response.status_code == 422 and fresh(case).state == "new"  # not assigned to `other`: unknown
    case_services.assign(case=other, user=handler, actor=lead)
    data["duplicate_of"] = other.key.lower()
    assert as_handler.post(url(case, "transition"), data).status_code == 302
    assert fresh(case).duplicate_of == other


def test_an_oversized_reason_gets_a_field_message(as_handler: Client, case: Case) -> None:
    response = as_handler.post(url(case, "transition"), {"to_state": "rejected", "reason": "x" * 5000})
    assert response.status_code == 400 and "at most 2000 characters" in response.content.decode()


def test_invited_engineer_reads_but_cannot_change_the_case(invited: User, case: Case) -> None:
    client = client_for(invited)
    html = client.get(url(case)).content.decode()
    assert 'name="to_state"' not in html and "CVSS calculators" not in html
    assert client.post(url(case, "transition"), {"to_state": "acknowledged"}).status_code == 403
    assert client.post(url(case, "cwe"), {"cwe": "79"}).status_code == 403
    assert fresh(case).state == "new" and fresh(case).cwe_id is None


def test_unassigned_handler_gets_404_for_every_form(as_other_handler: Client, case: Case) -> None:
    for action in ("transition", "people", "cvss/31", "cwe", "exploitation", "references", "disclosure"):
        assert as_other_handler.post(url(case, action), {}).status_code == 404
    assert AuditEvent.objects.filter(action="case.access_denied").count() >= 7


def test_forms_refuse_get(as_handler: Client, case: Case) -> None:
    assert as_handler.get(url(case, "transition")).status_code == 405


# --- people -----------------------------------------------------------------------------------------------


def test_lead_assigns_and_unassigns_a_handler(as_lead: Client, case: Case, other_handler: User) -> None:
    response = as_lead.post(url(case, "people"), {"action": "assign", "user": str(other_handler.public_id)})
    assert response.status_code == 302
    assert case.assignees.filter(pk=other_handler.pk).exists()
    as_lead.post(url(case, "people"), {"action": "unassign", "user": str(other_handler.public_id)})
    assert not case.assignees.filter(pk=other_handler.pk).exists()


def test_handler_cannot_assign_but_can_invite_an_engineer(
    as_handler: Client, case: Case, other_handler: User, engineer: User
) -> None:
    response = as_handler.post(url(case, "people"), {"action": "assign", "user": str(other_handler.public_id)})
    assert response.status_code == 403
    response = as_handler.post(url(case, "people"), {"action": "invite", "user": str(engineer.public_id)})
    assert response.status_code == 302 and case.invitations.filter(engineer=engineer).exists()
    as_handler.post(url(case, "people"), {"action": "uninvite", "user": str(engineer.public_id)})
    assert not case.invitations.filter(engineer=engineer).exists()


def test_people_form_refuses_unknown_people_and_actions(as_lead: Client, case: Case, engineer: User) -> None:
    assert as_lead.post(url(case, "people"), {"action": "assign", "user": "not-a-uuid"}).status_code == 400
    # An engineer is not offered for assignment.
    assert as_lead.post(url(case, "people"), {"action": "assign", "user": str(engineer.public_id)}).status_code == 400
    assert as_lead.post(url(case, "people"), {"action": "unassign", "user": "x" * 500}).status_code == 404
    assert as_lead.post(url(case, "people"), {"action": "promote"}).status_code == 404


# --- CVSS -------------------------------------------------------------------------------------------------

V31_FIELDS = {"m_AV": "N", "m_AC": "L", "m_PR": "N", "m_UI": "N", "m_S": "U", "m_C": "H", "m_I": "H", "m_A": "H"}


def v31(data: dict[str, str]) -> dict[str, str]:
    """Field names of the v3.1 calculator (its form prefix keeps the two calculators' ids apart)."""
    return {f"v31-{k}": v for k, v in data.items()}


def v40(data: dict[str, str]) -> dict[str, str]:
    return {f"v40-{k}": v for k, v in data.items()}


def test_calculators_name_every_metric_in_words(as_handler: Client, case: Case) -> None:
    html = as_handler.get(url(case)).content.decode()
    for words in ("Attack Vector (AV)", "Privileges Required (PR)", "Exploit Code Maturity (E)",
                  "Modified Attack Vector (MAV)", "Attack Requirements (AT)", "Provider Urgency (U)",
                  "Network (N)", "Physical (P)"):  # fmt: skip
        assert words in html, words
    zh = as_handler.get(url(case).replace("/en/", "/zh-hans/")).content.decode()
    assert "攻击途径 (AV)" in zh


def test_cvss31_form_fields_build_the_vector_and_score_it(as_handler: Client, case: Case) -> None:
    response = as_handler.post(url(case, "cvss/31"), v31({**V31_FIELDS, "m_E": "P", "vector": "", "shown_vector": ""}))
    assert response.status_code == 302
    case = fresh(case)
    assert case.cvss31_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P"
    assert str(case.cvss31_base) == "9.8" and str(case.cvss31_temporal) == "9.3" and case.severity == "Critical"
    html = as_handler.get(url(case)).content.decode()
    # The form now shows the stored vector and the matching choices.
    assert 'value="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P"' in html
    assert re.search(r'name="v31-m_E"[^>]*>.*?<option value="P" selected', html, re.S)


def test_an_edited_vector_wins_over_the_metric_choices(as_handler: Client, case: Case) -> None:
    shown = ""
    typed = "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"
    as_handler.post(url(case, "cvss/31"), v31({**V31_FIELDS, "vector": typed, "shown_vector": shown}))
    assert fresh(case).cvss31_vector == typed and fresh(case).severity == "Low"
    # Unchanged text: the choices win.
    as_handler.post(url(case, "cvss/31"), v31({**V31_FIELDS, "vector": typed, "shown_vector": typed}))
    assert fresh(case).cvss31_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def test_cvss40_calculator_scores_base_threat_and_environmental(as_handler: Client, case: Case) -> None:
    vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/MAV:L"
    assert as_handler.post(url(case, "cvss/40"), v40({"vector": vector, "shown_vector": ""})).status_code == 302
    case = fresh(case)
    assert case.cvss40_vector == vector
    assert (str(case.cvss40_base), case.cvss40_threat is not None) == ("9.3", True)
    assert case.cvss40_environmental is not None and case.cvss40_base is not None
    assert case.cvss40_environmental < case.cvss40_base


def test_an_invalid_vector_names_the_metric_and_keeps_the_text(as_handler: Client, case: Case) -> None:
    typed = "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    response = as_handler.post(url(case, "cvss/31"), v31({"vector": typed, "shown_vector": ""}))
    assert response.status_code == 422
    html = response.content.decode()
    assert "is not a value of AV (Attack Vector)" in html and typed in html
    assert fresh(case).cvss31_vector == ""


def test_cvss_form_with_missing_base_metrics_or_junk_says_what_is_missing(as_handler: Client, case: Case) -> None:
    response = as_handler.post(url(case, "cvss/31"), v31({"m_AV": "N", "vector": "", "shown_vector": ""}))
    assert response.status_code == 422 and "Missing base metrics" in response.content.decode()
    response = as_handler.post(url(case, "cvss/31"), v31({"m_AV": "<script>", "vector": "", "shown_vector": ""}))
    assert response.status_code == 400 and "<script>" not in response.content.decode().split("</header>", 1)[-1]
    assert as_handler.post(url(case, "cvss/99"), {}).status_code == 404
    assert as_handler.post(url(case, "cvss/31"), v31({"vector": "CVSS:3.1/" + "A" * 400})).status_code == 400


# --- CWE, exploitation, references, disclosure ------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("79", 79), ("CWE-78", 78), ("CWE-787: Out-of-bounds Write", 787), ("cross-site scripting", 79)],
)
def test_cwe_is_picked_by_number_list_label_or_name(as_handler: Client, case: Case, typed: str, expected: int) -> None:
    assert as_handler.post(url(case, "cwe"), {"cwe": typed}).status_code == 302
    assert fresh(case).cwe_id == expected


def test_cwe_picker_explains_unknown_and_ambiguous_input(as_handler: Client, case: Case) -> None:
    response = as_handler.post(url(case, "cwe"), {"cwe": "CWE-999999"})
    assert response.status_code == 422 and "No weakness" in response.content.decode()
    response = as_handler.post(url(case, "cwe"), {"cwe": "improper"})
    assert response.status_code == 422 and "Several weaknesses match" in response.content.decode()
    assert as_handler.post(url(case, "cwe"), {"cwe": "x" * 1000}).status_code == 400
    assert case.created_by is not None
    case_services.set_cwe(case=case, cwe=79, actor=case.created_by)
    assert as_handler.post(url(case, "cwe"), {"cwe": ""}).status_code == 302 and fresh(case).cwe_id is None


def test_page_offers_the_cwe_list_without_script(as_handler: Client, case: Case) -> None:
    html = as_handler.get(url(case)).content.decode()
    assert 'list="cwe-list"' in html and '<option value="CWE-79: ' in html


def test_exploitation_with_the_time_the_team_became_aware(as_handler: Client, case: Case, settings) -> None:
    aware = timezone.localtime() - dt.timedelta(hours=3)
    response = as_handler.post(
        url(case, "exploitation"), {"status": "active", "aware_at": aware.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 302
    case = fresh(case)
    assert case.exploitation == "active"
    assert case.exploitation_aware_at is not None
    assert abs((case.exploitation_aware_at - aware).total_seconds()) < 60
    future = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = as_handler.post(url(case, "exploitation"), {"status": "poc", "aware_at": future})
    assert response.status_code == 422 and "future" in response.content.decode()
    assert as_handler.post(url(case, "exploitation"), {"status": "rumour"}).status_code == 400
    assert (
        as_handler.post(url(case, "exploitation"), {"status": "poc", "aware_at": "99999-01-01T00:00"}).status_code
        == 400
    )


def test_references_are_added_validated_and_removed(as_handler: Client, case: Case, lead, product) -> None:
    assert as_handler.post(url(case, "references"), {"value": "cve-2026-12345"}).status_code == 302
    assert list(case.references.values_list("value", flat=True)) == ["CVE-2026-12345"]
    response = as_handler.post(url(case, "references"), {"value": "CVE-26-1"})
    assert response.status_code == 422
    other = case_services.open_case(report=make_report(product, email="z@x.test"), actor=lead, title="Other")
    case_services.add_reference(case=other, value="CNVD-2026-12345", actor=lead)
    response = as_handler.post(url(case, "references"), {"value": "CNVD-2026-12345"})
    assert response.status_code == 409 and "another case" in response.content.decode()
    assert other.key not in response.content.decode()
    response = as_handler.post(url(case, "references/remove"), {"kind": "cve", "value": "CVE-2026-12345"})
    assert response.status_code == 302 and not CaseReference.objects.filter(case=case).exists()
    # Removing another case's reference through this case: not found.
    response = as_handler.post(url(case, "references/remove"), {"kind": "cnvd", "value": "CNVD-2026-12345"})
    assert response.status_code == 404


def test_agreed_disclosure_date_reaches_the_reporter(
    as_handler: Client, case: Case, report, django_capture_on_commit_callbacks
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert as_handler.post(url(case, "disclosure"), {"date": "2026-12-01"}).status_code == 302
    report.refresh_from_db()
    assert fresh(case).disclosure_date == dt.date(2026, 12, 1) == report.agreed_disclosure_date
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ada@research.test"]
    assert as_handler.post(url(case, "disclosure"), {"date": "1/2/3/4"}).status_code == 400
    assert as_handler.post(url(case, "disclosure"), {"date": ""}).status_code == 302
    assert fresh(case).disclosure_date is None


def test_select_options_escape_hostile_names_and_keep_the_choice(as_lead: Client, case: Case) -> None:
    from psirt.cases.forms import FastSelect

    _make_user("evil@persona.test", Role.HANDLER).__class__.objects.filter(email="evil@persona.test").update(
        name='<script>alert(1)</script>"'
    )
    html = as_lead.get(url(case)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;" in html and "<script>alert(1)" not in html
    widget = FastSelect(choices=[("a", "A & B"), ("Group <g>", [("b", "B")])])
    out = widget.render("f", "b", {"id": "x"})
    assert out == (
        '<select id="x" name="f"><option value="a">A &amp; B</option>'
        '<optgroup label="Group &lt;g&gt;"><option value="b" selected>B</option></optgroup></select>'
    )
