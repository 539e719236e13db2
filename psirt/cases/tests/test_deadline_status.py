"""Whether a case's deadline is done, overdue, due soon or open: one rule (`deadline_status`), its SQL twin
(`deadline_q`, `overdue_q`, `due_soon_q`), and every page that shows it agreeing with both."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.utils import timezone

from conftest import client_for
from psirt.accounts.models import User
from psirt.cases.models import Case, DeadlineKind
from psirt.cases.queries import dashboard_querysets
from psirt.cases.services.deadlines import (
    DEADLINE_STATUSES,
    DUE_FIELD,
    case_due_status,
    deadline_q,
    deadline_status,
    due_soon_q,
    overdue_q,
)
from psirt.cases.services.workflow import CaseState

S = CaseState
ACK, FIX, DISCLOSE = DeadlineKind.ACKNOWLEDGMENT, DeadlineKind.REMEDIATION, DeadlineKind.DISCLOSURE
# Noon, so that "a day ago" and "in three days" are whole local days away whatever the clock says.
NOW = timezone.make_aware(dt.datetime(2027, 3, 10, 12, 0))
TIMINGS = ("past", "soon", "future", "none")

# Where each deadline binds, and where it is done (rejected, duplicate, not a vulnerability, out of scope and
# closed owe nothing more). Written out state by state, independently of the constants the rule uses.
BINDS: dict[str, set[str]] = {
    ACK: {S.NEW},
    FIX: {S.CONFIRMED, S.REMEDIATION},
    DISCLOSE: {S.REMEDIATION, S.AWAITING_DISCLOSURE},
}
EXITS = {S.REJECTED, S.DUPLICATE, S.NOT_VULNERABILITY, S.OUT_OF_SCOPE, S.CLOSED}
DONE: dict[str, set[str]] = {
    ACK: set(S.values) - {S.NEW},
    FIX: {S.AWAITING_DISCLOSURE, S.PUBLISHED, *EXITS},
    DISCLOSE: {S.PUBLISHED, *EXITS},
}


def due_value(kind: str, timing: str) -> dt.datetime | dt.date | None:
    """A deadline of `kind` passed, due soon, due later, or not set, as seen from NOW."""
    if timing == "none":
        return None
    if kind == DISCLOSE:
        today = timezone.localdate(NOW)
        return today + dt.timedelta(days={"past": -1, "soon": 3, "future": 30}[timing])
    hours = {"past": -1, "soon": 24, "future": 24 * 60}[timing]
    return NOW + dt.timedelta(hours=hours)


def expected(kind: str, state: str, timing: str, acknowledged: bool = False) -> str:
    if timing == "none":
        return "none"
    if state in DONE[kind] or (kind == ACK and acknowledged):
        return "done"
    if state not in BINDS[kind]:
        return "none"
    return {"past": "overdue", "soon": "soon", "future": "open"}[timing]


def build(state: str, kind: str, timing: str, *, acknowledged: bool = False) -> Case:
    case = Case(state=state, acknowledged_at=NOW - dt.timedelta(days=9) if acknowledged else None)
    field = DUE_FIELD[kind]
    setattr(case, field, due_value(kind, timing))
    return case


@pytest.mark.parametrize(("state", "kind", "timing"), list(itertools.product(S.values, (ACK, FIX, DISCLOSE), TIMINGS)))
def test_deadline_status_over_states_and_timings(state: str, kind: str, timing: str) -> None:
    assert deadline_status(build(state, kind, timing), kind, NOW) == expected(kind, state, timing)


@pytest.mark.parametrize("timing", TIMINGS)
def test_an_acknowledged_case_owes_no_acknowledgment_even_while_new(timing: str) -> None:
    case = build(S.NEW, ACK, timing, acknowledged=True)
    assert deadline_status(case, ACK, NOW) == ("none" if timing == "none" else "done")


def test_the_agreed_disclosure_day_itself_is_not_overdue_only_the_day_after() -> None:
    today = timezone.localdate(NOW)
    late_evening = timezone.make_aware(dt.datetime(2027, 3, 10, 23, 59))
    case = Case(state=S.AWAITING_DISCLOSURE, disclosure_date=today)
    assert deadline_status(case, DISCLOSE, late_evening) == "soon"
    assert deadline_status(case, DISCLOSE, late_evening + dt.timedelta(minutes=1)) == "overdue"


def test_a_deadline_is_overdue_from_its_instant_on() -> None:
    case = Case(state=S.REMEDIATION, remediation_due_at=NOW)
    assert deadline_status(case, FIX, NOW) == "overdue"
    assert deadline_status(case, FIX, NOW - dt.timedelta(seconds=1)) == "soon"


@pytest.mark.django_db
def test_the_sql_selects_exactly_the_cases_the_rule_marks() -> None:
    cases: list[Case] = []
    for number, (state, timing) in enumerate(itertools.product(S.values, TIMINGS), start=1):
        # Every kind at the same timing, and a mix (ack passed, fix soon, disclosure later), per state.
        for offset, timings in enumerate(((timing,) * 3, ("past", "soon", "future"), ("future", "past", "soon"))):
            n = number * 10 + offset
            case = Case(key=f"CASE-2027-{n:04d}", year=2027, number=n, title=f"{state} {timings}", state=state)
            case.ack_due_at = due_value(ACK, timings[0])  # type: ignore[assignment]
            case.remediation_due_at = due_value(FIX, timings[1])  # type: ignore[assignment]
            case.disclosure_date = due_value(DISCLOSE, timings[2])  # type: ignore[assignment]
            case.save()
            cases.append(case)
    for kind, status in itertools.product((ACK, FIX, DISCLOSE), ("overdue", "soon", "open")):
        selected = set(Case.objects.filter(deadline_q(kind, status, NOW)).values_list("pk", flat=True))
        assert selected == {c.pk for c in cases if deadline_status(c, kind, NOW) == status}, (kind, status)
    assert set(Case.objects.filter(overdue_q(NOW)).values_list("pk", flat=True)) == {
        c.pk for c in cases if case_due_status(c, NOW) == "overdue"
    }
    assert set(Case.objects.filter(due_soon_q(NOW)).values_list("pk", flat=True)) == {
        c.pk for c in cases if case_due_status(c, NOW) == "soon"
    }
    assert set(DEADLINE_STATUSES) >= {deadline_status(c, k, NOW) for c in cases for k in (ACK, FIX, DISCLOSE)}


# --- the stored next deadline ------------------------------------------------------------------------------


def binding_instant(case: Case) -> dt.datetime | None:
    """The next deadline by the rule: the acknowledgment or remediation instant that binds (neither done nor
    "none"), else none."""
    for kind in (ACK, FIX):
        if deadline_status(case, kind, NOW) in ("overdue", "soon", "open"):
            return getattr(case, DUE_FIELD[kind])  # type: ignore[no-any-return]
    return None


@pytest.mark.django_db
def test_the_stored_next_deadline_is_the_instant_the_rule_binds_and_follows_every_write() -> None:
    combos = list(itertools.product(S.values, (False, True), TIMINGS, TIMINGS))
    for n, (state, acknowledged, ack, fix) in enumerate(combos, start=1):
        case = build(state, ACK, ack, acknowledged=acknowledged)
        case.remediation_due_at = due_value(FIX, fix)  # type: ignore[assignment]
        case.key, case.year, case.number, case.title = f"CASE-2027-{n:04d}", 2027, n, "t"
        case.save()
    stored = Case.objects.order_by("pk")
    assert stored.count() == len(combos)
    assert [c.next_due for c in stored] == [binding_instant(c) for c in stored]
    # Writes that go round the model (bulk updates, a migration's UPDATE) move it too: the database keeps it.
    for state in S.values:
        Case.objects.update(state=state)
        assert [c.next_due for c in stored.all()] == [binding_instant(c) for c in stored.all()], state
    Case.objects.update(state=S.NEW, acknowledged_at=None)
    assert {c.next_due for c in stored.all()} == {c.ack_due_at for c in stored.all()}


@pytest.mark.django_db
def test_the_stored_next_deadline_follows_the_services(lead: User, handler: User) -> None:
    from psirt.cases.services import cases as case_services
    from psirt.tests.factories import make_report

    case = case_services.open_case(report=make_report(), actor=lead, title="RCE", assignees=[handler])
    seen = []
    for state in ("acknowledged", "triage", "confirmed", "remediation", "awaiting_disclosure"):
        fresh = Case.objects.get(pk=case.pk)
        seen.append(fresh.next_due)
        assert fresh.next_due == binding_instant(fresh), fresh.state
        case = case_services.transition(case=fresh, to_state=state, actor=handler)
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.next_due is None and binding_instant(fresh) is None
    # New: the acknowledgment; acknowledged and in triage: nothing; confirmed: the remediation.
    assert seen[0] is not None and seen[1] is None and seen[2] is None
    assert seen[3] == seen[4] == fresh.remediation_due_at is not None


def test_dashboard_counts_are_the_sizes_of_its_lists_for_every_role(
    cases: dict[str, Case], lead: User, handler: User, engineer: User
) -> None:
    from psirt.cases.models import Assignment, CaseInvitation
    from psirt.cases.queries import dashboard_counts

    for n, case in enumerate(cases.values()):
        if n % 2:
            Assignment.objects.create(case=case, user=handler)
        if n % 3:
            CaseInvitation.objects.create(case=case, engineer=engineer)
        if n % 5 == 0:
            Assignment.objects.create(case=case, user=lead)
    now = timezone.now()
    for user in (lead, handler, engineer):
        counts = dashboard_counts(user, now)
        sizes = {name: qs.count() for name, qs in dashboard_querysets(user, now).items()}
        assert counts == sizes, user.role
        assert all(sizes.values()), (user.role, sizes)  # every list holds something: the counts are tested
    # "Mine": a lead's and a handler's open cases assigned to them (on the panel and the list); an engineer's
    # panel shows every open case they see.
    finished = {S.PUBLISHED, *EXITS}
    for user in (lead, handler):
        assigned = {a.case.key for a in Assignment.objects.filter(user=user)}
        panel = {c.key for c in dashboard_querysets(user, now)["mine"]}
        assert panel == {c.key for c in cases.values() if c.key in assigned and c.state not in finished} != set()
        page = client_for(user).get("/en/desk/cases/?mine=1").context["page"]
        assert {c.key for c in page.object_list} == assigned
    seen = {c.key for c in dashboard_querysets(engineer, now)["mine"]}
    invited = {i.case.key for i in CaseInvitation.objects.filter(engineer=engineer)}
    assert seen == {c.key for c in cases.values() if c.key in invited and c.state not in finished}


@pytest.mark.parametrize(
    "slices",
    [
        {"mine": (0, 20), "overdue": (0, 10), "soon": (0, 10), "awaiting": (0, 10)},
        {"mine": (1, 2), "overdue": (1, 1), "soon": (0, 1), "awaiting": (1, 3)},
        {"mine": (40, 20), "overdue": (5, 10), "soon": (9, 10), "awaiting": (0, 0)},
    ],
)
def test_dashboard_slices_are_the_counts_and_slices_of_its_lists_for_every_role(
    cases: dict[str, Case], lead: User, handler: User, engineer: User, slices: dict[str, tuple[int, int]]
) -> None:
    # A handler's counts and rows come from one pass over their cases; they must be exactly what each list
    # answers on its own, in its order (ties on the deadline broken the same way), for any slice.
    from psirt.cases.models import Assignment, CaseInvitation
    from psirt.cases.queries import DASHBOARD_FIELDS, dashboard_counts, dashboard_slices

    for n, case in enumerate(cases.values()):
        if n % 4:
            Assignment.objects.create(case=case, user=handler)
        if n % 3:
            CaseInvitation.objects.create(case=case, engineer=engineer)
        if n % 2:
            Assignment.objects.create(case=case, user=lead)
    # Two cases with the same next deadline: the order falls back to the id.
    first, second = list(cases.values())[1:3]
    Case.objects.filter(pk=second.pk).update(
        state=first.state, ack_due_at=first.ack_due_at, remediation_due_at=first.remediation_due_at
    )
    now = timezone.now()
    for user in (lead, handler, engineer):
        counts, rows = dashboard_slices(user, now, slices)
        assert counts == dashboard_counts(user, now), user.role
        for name, qs in dashboard_querysets(user, now).items():
            start, size = slices[name]
            expected = [c.pk for c in qs[start : start + size]]
            assert [c.pk for c in rows[name]] == expected, (user.role, name)
            for case in rows[name]:  # what the panel reads of each row, without another query
                assert not case.get_deferred_fields() & {"id", *DASHBOARD_FIELDS}, (user.role, name)
        assert all(counts.values()), (user.role, counts)


def test_dashboard_slices_of_a_deactivated_account_are_empty(cases: dict[str, Case], handler: User) -> None:
    from psirt.cases.models import Assignment
    from psirt.cases.queries import dashboard_slices

    for case in cases.values():
        Assignment.objects.create(case=case, user=handler)
    slices = dict.fromkeys(("mine", "overdue", "soon", "awaiting"), (0, 10))
    assert all(dashboard_slices(handler, timezone.now(), slices)[0].values())
    handler.is_active = False
    counts, rows = dashboard_slices(handler, timezone.now(), slices)
    assert counts == dict.fromkeys(slices, 0) and rows == {name: [] for name in slices}


# --- the pages agree ---------------------------------------------------------------------------------------


@pytest.fixture
def cases(db: None) -> dict[str, Case]:
    """Cases around the real clock (the pages read it): days away from any boundary."""
    now = timezone.now()
    today = timezone.localdate(now)
    day = dt.timedelta(days=1)
    rows = {
        # The fix is made: a passed remediation date is not overdue anywhere.
        "awaiting_fix_passed": {"state": S.AWAITING_DISCLOSURE, "remediation_due_at": now - 5 * day},
        "published_fix_passed": {"state": S.PUBLISHED, "remediation_due_at": now - 5 * day},
        "closed_fix_passed": {"state": S.CLOSED, "remediation_due_at": now - 5 * day},
        "duplicate_fix_passed": {"state": S.DUPLICATE, "remediation_due_at": now - 5 * day},
        "remediation_overdue": {"state": S.REMEDIATION, "remediation_due_at": now - 5 * day},
        "confirmed_soon": {"state": S.CONFIRMED, "remediation_due_at": now + 5 * day},
        "remediation_open": {"state": S.REMEDIATION, "remediation_due_at": now + 60 * day},
        "new_ack_overdue": {"state": S.NEW, "ack_due_at": now - day},
        "new_ack_soon": {"state": S.NEW, "ack_due_at": now + day / 2},
        "acknowledged_ack_passed": {"state": S.ACKNOWLEDGED, "ack_due_at": now - day, "acknowledged_at": now - 2 * day},
        "rejected_ack_passed": {"state": S.REJECTED, "ack_due_at": now - day},
        "awaiting_disclosure_overdue": {
            "state": S.AWAITING_DISCLOSURE,
            "remediation_due_at": now - 5 * day,
            "disclosure_date": today - 3 * day,
        },
        "awaiting_disclosure_soon": {"state": S.AWAITING_DISCLOSURE, "disclosure_date": today + 3 * day},
        "triage_stale_fix_date": {"state": S.TRIAGE, "remediation_due_at": now - 5 * day, "acknowledged_at": now},
    }
    made = {}
    for n, (name, fields) in enumerate(rows.items(), start=1):
        made[name] = Case.objects.create(key=f"CASE-2027-{n:04d}", year=2027, number=n, title=name, **fields)
    return made


def _list_statuses(html: str) -> dict[str, dict[str, str]]:
    """Case key → {deadline: status} from the case list's rows."""
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        key = re.search(r">(CASE-\d{4}-\d{4})</a>", row)
        if key:
            found[key.group(1)] = dict(re.findall(r'data-deadline="(\w+)" data-status="(\w*)"', row))
            found[key.group(1)]["badges"] = " ".join(re.findall(r'badge badge-\w+">([^<]+)<', row))
    return found


def test_dashboard_list_and_case_page_agree(cases: dict[str, Case], lead: User) -> None:
    client = client_for(lead)
    now = timezone.now()
    by_rule = {c.key: case_due_status(c, now) for c in cases.values()}
    overdue = {k for k, s in by_rule.items() if s == "overdue"}
    soon = {k for k, s in by_rule.items() if s == "soon"}
    assert overdue == {cases[n].key for n in ("remediation_overdue", "new_ack_overdue", "awaiting_disclosure_overdue")}
    assert soon == {cases[n].key for n in ("confirmed_soon", "new_ack_soon", "awaiting_disclosure_soon")}

    # The dashboard: its counts and lists.
    panel = client.get("/en/desk/cases/dashboard/").context["case_dashboard"]
    assert panel["overdue_count"] == len(overdue) and {c.key for c in panel["overdue"]} == overdue
    assert panel["soon_count"] == len(soon) and {c.key for c in panel["soon"]} == soon
    lists = dashboard_querysets(lead, now)
    assert {c.key for c in lists["overdue"]} == overdue and {c.key for c in lists["soon"]} == soon

    # The case list: its filters and its badges.
    listed = client.get("/en/desk/cases/?due=overdue").content.decode()
    assert set(_list_statuses(listed)) == overdue
    assert set(_list_statuses(client.get("/en/desk/cases/?due=soon").content.decode())) == soon
    rows = _list_statuses(client.get("/en/desk/cases/").content.decode())
    for case in cases.values():
        row = rows[case.key]
        assert row["ack"] == deadline_status(case, ACK, now), case.title
        assert row["remediation"] == deadline_status(case, FIX, now), case.title
        shown_overdue = "overdue" in row["badges"]
        assert shown_overdue == ("overdue" in (row["remediation"], row["ack"] if not case.acknowledged_at else "")), (
            case.title
        )

    # The case page: the strip and the Deadlines card.
    for case in cases.values():
        html = client.get(f"/en/desk/cases/{case.public_id}/").content.decode()
        found = re.findall(r'class="strip-item strip-deadline is-(\w+)" data-deadline="(\w+)"', html)
        strip = {kind: status for status, kind in found}
        marks = {k: deadline_status(case, k, now) for k in (ACK, FIX, DISCLOSE)}
        assert strip == marks, case.title
        overdue_badges = html.count('badge-danger">overdue<')
        assert overdue_badges == 2 * list(marks.values()).count("overdue"), case.title  # strip + card

    page = client.get(f"/en/desk/cases/{cases['awaiting_fix_passed'].public_id}/").content.decode()
    assert 'badge-danger">overdue<' not in page
    assert 'badge-danger">overdue<' not in str(rows[cases["awaiting_fix_passed"].key])


# --- the edges of the rule (found unchecked by mutation tests) ----------------------------------------------


def test_a_deadline_exactly_at_the_end_of_its_window_is_due_soon() -> None:
    from psirt.cases.services.deadlines import SOON

    today = timezone.localdate(NOW)
    assert deadline_status(Case(state=S.NEW, ack_due_at=NOW + SOON[ACK]), ACK, NOW) == "soon"
    disclosure = Case(state=S.AWAITING_DISCLOSURE, disclosure_date=today + SOON[DISCLOSE])
    assert deadline_status(disclosure, DISCLOSE, NOW) == "soon"
    assert case_due_status(Case(state=S.NEW, ack_due_at=NOW + dt.timedelta(days=30)), NOW) == ""


def test_an_unknown_kind_or_status_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"^unknown deadline kind 'fix'$"):
        deadline_status(Case(state=S.NEW), "fix", NOW)
    with pytest.raises(ValueError, match=r"^deadline_q selects overdue, soon or open deadlines, not 'late'$"):
        deadline_q(ACK, "late", NOW)


@pytest.mark.django_db
def test_a_disclosure_date_of_today_is_due_soon_in_sql_too() -> None:
    case = Case.objects.create(
        key="CASE-2027-0001", year=2027, number=1, state=S.AWAITING_DISCLOSURE, disclosure_date=timezone.localdate(NOW)
    )
    assert deadline_status(case, DISCLOSE, NOW) == "soon"
    assert not Case.objects.filter(deadline_q(DISCLOSE, "overdue", NOW), pk=case.pk).exists()
    assert Case.objects.filter(deadline_q(DISCLOSE, "soon", NOW), pk=case.pk).exists()
