"""The transition table, pair by pair, through the service that enforces it."""

from __future__ import annotations

import itertools

import pytest

from psirt.cases.exceptions import TransitionNotAllowed
from psirt.cases.models import Case, StateChange
from psirt.cases.services import cases as case_services
from psirt.cases.services import workflow
from psirt.cases.services.workflow import CaseState as S

# Written out independently of workflow.TRANSITIONS: the test checks the table, not itself.
EXITS = {"rejected", "duplicate", "not_vulnerability", "out_of_scope"}
ALLOWED = {
    ("new", "acknowledged"),
    ("acknowledged", "triage"),
    ("triage", "confirmed"),
    ("confirmed", "remediation"),
    ("remediation", "awaiting_disclosure"),
    ("awaiting_disclosure", "published"),
    ("published", "closed"),
    *{(s, e) for s in ("new", "acknowledged", "triage") for e in EXITS},
    ("confirmed", "duplicate"),
    ("confirmed", "rejected"),
    ("remediation", "rejected"),
    ("awaiting_disclosure", "remediation"),
    *{(s, "triage") for s in ("closed", *EXITS)},
}
ALL_PAIRS = list(itertools.product(S.values, S.values))


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS)
def test_transition_table(source: str, target: str) -> None:
    assert workflow.is_allowed(source, target) == ((source, target) in ALLOWED)


def test_every_state_is_reachable_from_new_and_every_finished_state_can_reopen() -> None:
    seen, todo = {"new"}, ["new"]
    while todo:
        for nxt in workflow.allowed_targets(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(S.values)
    assert all(workflow.is_reopening(s, "triage") for s in workflow.FINISHED)


def test_every_state_has_a_reporter_stage() -> None:
    from psirt.intake.models import Stage

    assert set(workflow.REPORTER_STAGE) == set(S.values)
    assert set(workflow.REPORTER_STAGE.values()) <= set(Stage.values)


@pytest.fixture
def bare_case(db: None) -> Case:
    return Case.objects.create(key="CASE-2026-9001", year=2026, number=9001, title="Overflow in RTSP")


@pytest.fixture
def target_case(db: None) -> Case:
    return Case.objects.create(key="CASE-2026-9002", year=2026, number=9002, title="Same overflow")


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "target"), ALL_PAIRS)
def test_service_allows_exactly_the_table(lead, bare_case: Case, target_case: Case, source: str, target: str) -> None:
    Case.objects.filter(pk=bare_case.pk).update(state=source)
    bare_case.refresh_from_db()
    duplicate_of = target_case if target == "duplicate" else None
    if (source, target) in ALLOWED:
        case_services.transition(
            case=bare_case, to_state=target, actor=lead, reason="because", duplicate_of=duplicate_of
        )
        bare_case.refresh_from_db()
        assert bare_case.state == target
        change = StateChange.objects.get(case=bare_case)
        assert (change.from_state, change.to_state, change.actor, change.reason) == (source, target, lead, "because")
    else:
        with pytest.raises(TransitionNotAllowed):
            case_services.transition(
                case=bare_case, to_state=target, actor=lead, reason="because", duplicate_of=duplicate_of
            )
        bare_case.refresh_from_db()
        assert bare_case.state == source
        assert not StateChange.objects.filter(case=bare_case).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "target"),
    [("triage", "rejected"), ("closed", "triage"), ("awaiting_disclosure", "remediation"), ("new", "out_of_scope")],
)
def test_exits_going_back_and_reopening_need_a_reason(lead, bare_case: Case, source: str, target: str) -> None:
    Case.objects.filter(pk=bare_case.pk).update(state=source)
    bare_case.refresh_from_db()
    with pytest.raises(TransitionNotAllowed, match="reason"):
        case_services.transition(case=bare_case, to_state=target, actor=lead, reason="   ")
    case_services.transition(case=bare_case, to_state=target, actor=lead, reason="Reporter withdrew the claim.")


@pytest.mark.django_db
@pytest.mark.parametrize("bogus", ["", "NEW", "archived", "<script>", "x" * 500])
def test_unknown_target_states_are_refused(lead, bare_case: Case, bogus: str) -> None:
    with pytest.raises(TransitionNotAllowed):
        case_services.transition(case=bare_case, to_state=bogus, actor=lead)
