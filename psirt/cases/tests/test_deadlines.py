"""Deadlines: per-severity remediation times, the leads' settings page, the dashboard, reminders over SMTP."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from psirt.audit.models import AuditEvent
from psirt.cases.exceptions import InvalidInput, NotAllowed
from psirt.cases.models import Case, DeadlineReminder
from psirt.cases.services import cases as case_services
from psirt.cases.services.deadlines import remediation_days_for, send_deadline_reminders, set_remediation_days
from psirt.organization.models import CalendarDay
from psirt.tests.factories import make_report

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
LOW = "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"


@pytest.fixture
def case(lead, handler, report) -> Case:
    return case_services.open_case(report=report, actor=lead, title="RCE in web UI", assignees=[handler])


def confirm(case: Case, actor) -> Case:
    for state in ("acknowledged", "triage", "confirmed"):
        case = case_services.transition(case=case, to_state=state, actor=actor)
    return case


# --- remediation times ------------------------------------------------------------------------------------


def test_remediation_is_due_90_calendar_days_after_confirmation_by_default(case: Case, handler, report) -> None:
    case = confirm(case, handler)
    assert case.confirmed_at is not None and case.remediation_due_at == case.confirmed_at + dt.timedelta(days=90)
    report.refresh_from_db()
    assert report.remediation_due_at == case.remediation_due_at  # shown in the reporter's portal


def test_leads_set_remediation_days_per_severity_and_rescoring_moves_the_deadline(case: Case, lead, handler) -> None:
    set_remediation_days(severity="Critical", days=30, actor=lead)
    assert remediation_days_for("Critical") == 30 and remediation_days_for("Low") == 90
    case_services.set_cvss(case=case, vector=CRITICAL, actor=handler)
    case = confirm(Case.objects.get(pk=case.pk), handler)
    assert case.confirmed_at is not None
    assert case.remediation_due_at == case.confirmed_at + dt.timedelta(days=30)
    case_services.set_cvss(case=case, vector=LOW, actor=handler)
    case.refresh_from_db()
    assert case.remediation_due_at == case.confirmed_at + dt.timedelta(days=90)
    with pytest.raises(NotAllowed):
        set_remediation_days(severity="High", days=10, actor=handler)
    for bad in (0, 10_000):
        with pytest.raises(InvalidInput):
            set_remediation_days(severity="High", days=bad, actor=lead)
    with pytest.raises(InvalidInput):
        set_remediation_days(severity="Apocalyptic", days=10, actor=lead)


def test_deadline_settings_page_is_for_leads(as_lead: Client, as_handler: Client, anonymous: Client) -> None:
    url = "/en/desk/cases/deadlines/"
    assert as_handler.get(url).status_code == 404 and anonymous.get(url).status_code == 302
    assert as_handler.post(url, {"action": "policy", "days_Critical": "7"}).status_code == 404
    assert "Remediation time per severity" in as_lead.get(url).content.decode()
    assert as_lead.post(url, {"action": "policy", "days_Critical": "30", "days_High": "60"}).status_code == 302
    assert (remediation_days_for("Critical"), remediation_days_for("High")) == (30, 60)
    changes = AuditEvent.objects.filter(action="cases.remediation_days_set")
    assert sorted((e.target_id, e.ip) for e in changes) == [("Critical", "127.0.0.1"), ("High", "127.0.0.1")]
    assert as_lead.post(url, {"action": "policy", "days_High": ""}).status_code == 302  # back to the default
    assert (remediation_days_for("Critical"), remediation_days_for("High")) == (90, 90)
    for bad in ("0", "99999", "abc", "1e9"):
        assert as_lead.post(url, {"action": "policy", "days_Low": bad}).status_code == 400
    assert (
        as_lead.post(
            url, {"action": "day_add", "date": "2026-10-09", "kind": "holiday", "note": "Shutdown"}
        ).status_code
        == 302
    )
    assert CalendarDay.objects.get().note == "Shutdown"
    assert as_lead.post(url, {"action": "day_add", "date": "0001-01-01", "kind": "holiday"}).status_code == 400
    assert as_lead.post(url, {"action": "day_remove", "date": "2026-10-09"}).status_code == 302
    assert not CalendarDay.objects.exists()
    assert as_lead.post(url, {"action": "day_remove", "date": "junk"}).status_code == 400
    assert as_lead.post(url, {"action": "nope"}).status_code == 400


# --- dashboard --------------------------------------------------------------------------------------------


def _cases(n: int, lead, handler, product, *, start: int = 0) -> list[Case]:
    out = []
    for i in range(start, start + n):
        c = case_services.open_case(
            report=make_report(product, email=f"r{i}@x.test"), actor=lead, title=f"Case {i}", assignees=[handler]
        )
        out.append(c)
    return out


def test_dashboard_shows_my_cases_overdue_due_soon_and_disclosures(
    as_handler: Client, as_lead: Client, lead, handler, other_handler, product
) -> None:
    now = timezone.now()
    late, soon, calm = _cases(3, lead, handler, product)
    Case.objects.filter(pk=late.pk).update(ack_due_at=now - dt.timedelta(days=1))
    Case.objects.filter(pk=soon.pk).update(ack_due_at=now + dt.timedelta(days=1))
    Case.objects.filter(pk=calm.pk).update(ack_due_at=now + dt.timedelta(days=6))
    (waiting,) = _cases(1, lead, other_handler, product, start=10)
    Case.objects.filter(pk=waiting.pk).update(state="awaiting_disclosure", disclosure_date=dt.date(2031, 5, 4))
    html = as_handler.get("/en/desk/cases/dashboard/").content.decode()
    mine = html.split('id="my-cases"')[1].split("</section>")[0]
    assert mine.index(late.key) < mine.index(soon.key) < mine.index(calm.key)  # by deadline
    overdue = html.split("<h2>Overdue</h2>")[1].split("</section>")[0]
    assert late.key in overdue and soon.key not in overdue
    due_soon = html.split("<h2>Due soon</h2>")[1].split("</section>")[0]
    assert soon.key in due_soon and calm.key not in due_soon
    assert waiting.key not in html  # not the handler's case
    assert "New reports in the inbox" not in html
    lead_html = as_lead.get("/en/desk/cases/dashboard/").content.decode()
    assert waiting.key in lead_html and "2031-05-04" in lead_html and "New reports in the inbox" in lead_html


def test_dashboard_query_count_does_not_grow_with_cases(as_handler: Client, lead, handler, product) -> None:
    _cases(2, lead, handler, product)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert as_handler.get("/en/desk/cases/dashboard/").status_code == 200
        return len(ctx.captured_queries)

    count()  # the first request also saves the session
    few = count()
    _cases(25, lead, handler, product, start=100)
    Case.objects.update(ack_due_at=timezone.now() - dt.timedelta(hours=1))
    assert count() == few
    page2 = as_handler.get("/en/desk/cases/dashboard/?mine_page=2").content.decode()
    assert "Page 2 of 2" in page2


def test_dashboard_pages_of_my_cases_are_the_paginators_pages(as_handler: Client, lead, handler, product) -> None:
    # A handler's page of their cases is read with the panel's counts; any page number, out of range or not a
    # number, must still show the page Django's paginator shows for it.
    from django.core.paginator import Paginator

    from psirt.cases.queries import dashboard_querysets

    _cases(45, lead, handler, product)
    for number in ["1", "2", "3", "4", "99", "0", "-1", "x", "", "\x00"]:
        panel = as_handler.get("/en/desk/cases/dashboard/", {"mine_page": number}).context["case_dashboard"]
        expected = Paginator(dashboard_querysets(handler, timezone.now())["mine"], 20).get_page(number)
        assert panel["mine"].number == expected.number, number
        assert [c.pk for c in panel["mine"].object_list] == [c.pk for c in expected.object_list], number
        assert panel["mine"].paginator.count == 45


def test_desk_home_tag_renders_the_panel(rf, handler, lead, product) -> None:
    from django.template import Context, Template

    _cases(1, lead, handler, product)
    request = rf.get("/en/desk/")
    request.user = handler
    html = Template("{% load case_dashboard %}{% case_dashboard %}").render(Context({"request": request}))
    assert "Your cases by deadline" in html and "Case 0" in html


def test_case_list_filters_overdue_and_sorts_by_next_deadline(as_handler: Client, lead, handler, product) -> None:
    a, b = _cases(2, lead, handler, product)
    Case.objects.filter(pk=a.pk).update(ack_due_at=timezone.now() - dt.timedelta(days=1))
    html = as_handler.get("/en/desk/cases/?due=overdue&sort=next_due").content.decode()
    assert a.key in html and b.key not in html
    assert as_handler.get("/en/desk/cases/?due=%00bogus&sort=x").status_code == 200


# --- reminders --------------------------------------------------------------------------------------------


def at(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, 0, tzinfo=SHANGHAI)


def _by_recipient(messages: list) -> dict:
    """The mails received, by their one recipient: a worker sends a drain's mails over several sessions at once,
    so the order in which the server receives them is not the order they were queued in."""
    mails = {m["To"]: m for m in messages}
    assert len(mails) == len(messages), [m["To"] for m in messages]
    return mails


def test_reminders_go_the_working_day_before_to_assignees_and_after_to_leads_over_smtp(
    case: Case, lead, handler, smtp_server, django_capture_on_commit_callbacks
) -> None:
    # Due Monday 9 March 2026, 10:00 in Shanghai: the working day before is Friday 6 March.
    Case.objects.filter(pk=case.pk).update(ack_due_at=at(2026, 3, 9))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=at(2026, 3, 5, 12)) == {"assignees": 0, "leads": 0}
        assert send_deadline_reminders(now=at(2026, 3, 6, 8)) == {"assignees": 1, "leads": 0}
        # Idempotent: the weekend runs send nothing more.
        assert send_deadline_reminders(now=at(2026, 3, 7, 8)) == {"assignees": 0, "leads": 0}
        assert send_deadline_reminders(now=at(2026, 3, 9, 11)) == {"assignees": 0, "leads": 1}
        assert send_deadline_reminders(now=at(2026, 3, 10, 11)) == {"assignees": 0, "leads": 0}
    mails = _by_recipient(smtp_server.wait_for(2))
    assert set(mails) == {handler.email, lead.email}
    assert case.key in mails[handler.email]["Subject"] and "tomorrow" in mails[handler.email]["Subject"]
    assert "passed" in mails[lead.email]["Subject"]
    body = mails[handler.email].get_body(preferencelist=("plain",)).get_content()
    assert f"/desk/cases/{case.public_id}/" in body and case.title not in body
    assert DeadlineReminder.objects.count() == 2


def test_reminder_skips_spring_festival_to_find_the_working_day_before(
    case: Case, handler, django_capture_on_commit_callbacks
) -> None:
    # 2026 Spring Festival holiday: 15–23 February; Saturday 14 February is a make-up working day.
    Case.objects.filter(pk=case.pk).update(ack_due_at=at(2026, 2, 24))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=at(2026, 2, 13, 9))["assignees"] == 0
        assert send_deadline_reminders(now=at(2026, 2, 14, 9))["assignees"] == 1


def test_acknowledged_cases_and_moved_deadlines(case: Case, handler, lead, django_capture_on_commit_callbacks) -> None:
    Case.objects.filter(pk=case.pk).update(ack_due_at=at(2026, 3, 9))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=at(2026, 3, 6, 8))["assignees"] == 1
        # The deadline moves: a new instant gets its own reminder.
        Case.objects.filter(pk=case.pk).update(ack_due_at=at(2026, 3, 10))
        assert send_deadline_reminders(now=at(2026, 3, 9, 8))["assignees"] == 1
        case_services.transition(case=case, to_state="acknowledged", actor=handler)
        assert send_deadline_reminders(now=at(2026, 3, 11, 8)) == {"assignees": 0, "leads": 0}


def test_disclosure_date_passes_at_the_end_of_the_day(
    case: Case, handler, lead, django_capture_on_commit_callbacks
) -> None:
    Case.objects.filter(pk=case.pk).update(state="awaiting_disclosure", disclosure_date=dt.date(2026, 3, 9))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=at(2026, 3, 9, 23)) == {"assignees": 1, "leads": 0}
        assert send_deadline_reminders(now=at(2026, 3, 10, 1)) == {"assignees": 0, "leads": 1}


def test_reminder_command_and_task(case: Case, capsys) -> None:
    from django.core.management import call_command

    from psirt.cases.tasks import send_deadline_reminders as task

    call_command("send_deadline_reminders")
    assert "reminders sent" in capsys.readouterr().out
    assert task.call() == {"assignees": 0, "leads": 0}


def test_deadline_settings_count_days_in_singular_and_plural(as_lead: Client) -> None:
    url = "/en/desk/cases/deadlines/"
    assert as_lead.post(url, {"action": "policy", "days_Critical": "1"}).status_code == 302
    html = as_lead.get(url).content.decode()
    assert "1 day (set by a lead)" in html and "1 days" not in html
    assert "90 days (organization default)" in html
    assert "1 天（负责人设定）" in as_lead.get("/zh-hans/desk/cases/deadlines/").content.decode()


# --- what each reminder records and says; the rescoring rule (found unchecked by mutation tests) -------------


def test_a_reminder_records_what_it_sent_and_writes_in_the_recipient_s_language(
    case: Case, lead, handler, smtp_server, django_capture_on_commit_callbacks
) -> None:
    handler.language = "zh-hans"
    handler.save(update_fields=["language"])
    Case.objects.filter(pk=case.pk).update(ack_due_at=at(2026, 3, 9))  # Monday, 10:00 in Shanghai
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=at(2026, 3, 6, 8)) == {"assignees": 1, "leads": 0}
        assert send_deadline_reminders(now=at(2026, 3, 9, 11)) == {"assignees": 0, "leads": 1}
    before, after = DeadlineReminder.objects.order_by("sent_at")
    assert (before.kind, before.audience, before.due_at, before.sent_at, before.recipients) == (
        "ack",
        "assignees",
        at(2026, 3, 9),
        at(2026, 3, 6, 8),
        1,
    )
    assert (after.audience, after.sent_at) == ("leads", at(2026, 3, 9, 11))
    events = AuditEvent.objects.filter(action="case.reminder_sent").order_by("seq")
    assert [(e.target_type, e.target_id, e.data) for e in events] == [
        ("cases.case", str(case.public_id), {"kind": "ack", "audience": "assignees", "recipients": 1}),
        ("cases.case", str(case.public_id), {"kind": "ack", "audience": "leads", "recipients": 1}),
    ]
    mails = _by_recipient(smtp_server.wait_for(2))
    chinese, english = mails[handler.email], mails[lead.email]
    zh_body = chinese.get_body(preferencelist=("plain",)).get_content()
    assert f"/zh-hans/desk/cases/{case.public_id}/" in zh_body
    assert zh_body.index("工单") < zh_body.index("A deadline of case"), zh_body  # the reader's language first
    assert "2026-03-09 10:00 CST" in zh_body, zh_body
    en_body = english.get_body(preferencelist=("plain",)).get_content()
    assert "Acknowledge the report" in en_body and "2026-03-09 10:00 CST" in en_body, en_body
    assert f"/en/desk/cases/{case.public_id}/" in en_body
    assert en_body.index("A deadline of case") < en_body.index("工单"), en_body


def test_a_remediation_reminder_is_recorded_as_one(case: Case, handler, django_capture_on_commit_callbacks) -> None:
    Case.objects.filter(pk=case.pk).update(state="remediation", remediation_due_at=at(2026, 3, 9))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=at(2026, 3, 6, 8))["assignees"] == 1
    assert DeadlineReminder.objects.get().kind == "remediation"


def test_the_disclosure_date_has_passed_at_the_midnight_that_ends_it(
    case: Case, lead, django_capture_on_commit_callbacks
) -> None:
    Case.objects.filter(pk=case.pk).update(state="awaiting_disclosure", disclosure_date=dt.date(2026, 3, 9))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=at(2026, 3, 10, 0)) == {"assignees": 0, "leads": 1}
    assert DeadlineReminder.objects.get().due_at == at(2026, 3, 10, 0)


def test_a_reminder_already_recorded_is_not_counted_again_however_long_ago(
    case: Case, lead, django_capture_on_commit_callbacks
) -> None:
    Case.objects.filter(pk=case.pk).update(ack_due_at=at(2026, 3, 9))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=at(2026, 3, 9, 11))["leads"] == 1
        # Years later the case is still not acknowledged: the leads were told once about this instant.
        assert send_deadline_reminders(now=at(2028, 6, 1, 11)) == {"assignees": 0, "leads": 0}
    assert DeadlineReminder.objects.count() == 1


def test_rescoring_during_the_fix_moves_the_deadline_everywhere_and_only_then(
    case: Case, lead, handler, report, product
) -> None:
    bystander = make_report(product)  # another case's reporter: their deadline is not this case's
    confirm(case_services.open_case(report=bystander, actor=lead, title="Other", assignees=[handler]), handler)
    bystander.refresh_from_db()
    bystander_due = bystander.remediation_due_at
    assert bystander_due is not None
    set_remediation_days(severity="Critical", days=30, actor=lead)
    case_services.set_cvss(case=case, vector=LOW, actor=handler)
    case = confirm(Case.objects.get(pk=case.pk), handler)
    duplicate = make_report(product, email="dup@x.test")  # joins this case as a duplicate: its portal is not moved
    case_services.attach_duplicate(report=duplicate, case=case, actor=lead)
    duplicate.refresh_from_db()
    duplicate_due = duplicate.remediation_due_at
    assert case.confirmed_at is not None
    confirmed = case.confirmed_at
    assert case.remediation_due_at == confirmed + dt.timedelta(days=90)
    case = case_services.set_cvss(case=case, vector=CRITICAL, actor=handler)
    thirty = confirmed + dt.timedelta(days=30)
    assert case.remediation_due_at == thirty  # the object the service returns
    assert Case.objects.get(pk=case.pk).remediation_due_at == thirty
    report.refresh_from_db()
    assert report.remediation_due_at == thirty  # the reporter's portal
    bystander.refresh_from_db()
    assert bystander.remediation_due_at == bystander_due
    duplicate.refresh_from_db()
    assert duplicate.remediation_due_at == duplicate_due != thirty
    # Once the fix is made (awaiting disclosure), a new score no longer moves the deadline.
    Case.objects.filter(pk=case.pk).update(state="awaiting_disclosure")
    case = case_services.set_cvss(case=Case.objects.get(pk=case.pk), vector=LOW, actor=handler)
    assert Case.objects.get(pk=case.pk).remediation_due_at == thirty


def _second_case(lead, handler, product) -> Case:
    return case_services.open_case(report=make_report(product), actor=lead, title="Second", assignees=[handler])


def test_a_deadline_not_due_yet_does_not_stop_the_others(
    case: Case, lead, handler, product, django_capture_on_commit_callbacks
) -> None:
    Case.objects.filter(pk=case.pk).update(ack_due_at=at(2026, 3, 11))  # Wednesday: remind on Tuesday
    other = _second_case(lead, handler, product)
    Case.objects.filter(pk=other.pk).update(ack_due_at=None, state="remediation", remediation_due_at=at(2026, 3, 9))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=at(2026, 3, 6, 8)) == {"assignees": 1, "leads": 0}
    assert DeadlineReminder.objects.get().case_id == other.pk


def test_a_deadline_already_reminded_does_not_stop_the_others_and_each_is_counted(
    case: Case, lead, handler, product, django_capture_on_commit_callbacks
) -> None:
    Case.objects.filter(pk=case.pk).update(ack_due_at=at(2026, 3, 9))  # Monday: remind on Friday
    other = _second_case(lead, handler, product)
    Case.objects.filter(pk=other.pk).update(ack_due_at=None, state="remediation", remediation_due_at=at(2026, 3, 10))
    third = _second_case(lead, handler, product)
    Case.objects.filter(pk=third.pk).update(ack_due_at=None, state="remediation", remediation_due_at=at(2026, 3, 10))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=at(2026, 3, 6, 8)) == {"assignees": 1, "leads": 0}
        # Monday: the first was reminded on Friday; the two due on Tuesday are reminded now, and counted.
        assert send_deadline_reminders(now=at(2026, 3, 9, 8)) == {"assignees": 2, "leads": 0}


def test_the_working_day_before_a_tuesday_deadline_is_monday(
    case: Case, handler, django_capture_on_commit_callbacks
) -> None:
    Case.objects.filter(pk=case.pk).update(ack_due_at=at(2026, 3, 10))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=at(2026, 3, 6, 8))["assignees"] == 0
        assert send_deadline_reminders(now=at(2026, 3, 9, 8))["assignees"] == 1


def test_deadlines_that_do_not_bind_send_no_reminder(
    case: Case, lead, handler, django_capture_on_commit_callbacks
) -> None:
    # Back in triage, the remediation date kept does not bind; nor does a disclosure date agreed before the fix.
    Case.objects.filter(pk=case.pk).update(
        state="triage", ack_due_at=None, remediation_due_at=at(2026, 3, 9), disclosure_date=dt.date(2026, 3, 9)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=at(2026, 3, 6, 8)) == {"assignees": 0, "leads": 0}
        assert send_deadline_reminders(now=at(2026, 3, 12, 8)) == {"assignees": 0, "leads": 0}


def test_only_active_leads_are_told_and_a_user_without_a_language_gets_english(
    case: Case, lead, handler, smtp_server, django_capture_on_commit_callbacks
) -> None:
    from psirt.accounts.models import Role, User

    User.objects.create_user("gone@persona.test", "x-Quokka-42-x", role=Role.LEAD, name="gone", is_active=False)
    User.objects.filter(pk=lead.pk).update(language="")
    Case.objects.filter(pk=case.pk).update(ack_due_at=at(2026, 3, 9))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=at(2026, 3, 9, 11))["leads"] == 1
    assert DeadlineReminder.objects.get().recipients == 1
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == lead.email
    assert f"/en/desk/cases/{case.public_id}/" in message.get_body(preferencelist=("plain",)).get_content()


def test_remediation_days_refusals_and_audit(lead) -> None:
    with pytest.raises(InvalidInput) as caught:
        set_remediation_days(severity="Severe", days=10, actor=lead)
    assert str(caught.value) == "Unknown severity."
    with pytest.raises(InvalidInput) as caught:
        set_remediation_days(severity="High", days=731, actor=lead)
    assert str(caught.value) == "Give a number of days between 1 and 730."
    set_remediation_days(severity="High", days=730, actor=lead)  # the longest allowed
    assert remediation_days_for("High") == 730
    event = AuditEvent.objects.get(action="cases.remediation_days_set")
    assert (event.actor_id, event.target_type, event.target_id, event.data) == (
        lead.pk,
        "remediation_policy",
        "High",
        {"days": 730},
    )


def test_a_case_without_assignees_reminds_nobody_before_and_the_leads_after_of_the_day_itself(
    lead, product, smtp_server, django_capture_on_commit_callbacks
) -> None:
    nobody = case_services.open_case(report=make_report(product), actor=lead, title="Unassigned")
    Case.objects.filter(pk=nobody.pk).update(
        ack_due_at=None, state="awaiting_disclosure", disclosure_date=dt.date(2026, 3, 9)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=at(2026, 3, 9, 8)) == {"assignees": 0, "leads": 0}
        assert send_deadline_reminders(now=at(2026, 3, 10, 8)) == {"assignees": 0, "leads": 1}
    assert DeadlineReminder.objects.count() == 1
    (message,) = smtp_server.wait_for(1)
    body = message.get_body(preferencelist=("plain",)).get_content()
    lines = body.splitlines()
    assert "Deadline: Disclose (agreed date)" in lines and "Due: 2026-03-09, end of the day" in lines, body
    assert "截止日期：2026-03-09，当天结束时" in lines, body  # the Chinese half states it in Chinese
