"""Demo history: cases that were received, acknowledged and confirmed over the last months.

The demo opens its cases through the real services, which stamp everything "now". `backdate_case` then moves
one case's history back in time: the case received at `received`, each workflow step at the time `schedule`
gives it, and the deadlines recomputed from those times by the same functions the services use
(`acknowledgment_due`, `remediation_days_for`), so the dashboard's overdue and due-soon lists, the reminders
and the reporters' portals read a believable past. Rows stamped in between (messages, timeline events,
assignments) keep their place relative to the step they followed.

The audit log is left as written: its entries are a hash chain of what the demo loader did and when, and
`psirt audit verify` must keep passing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.utils import timezone

from psirt.cases.models import Assignment, Case, StateChange
from psirt.cases.services.deadlines import remediation_days_for
from psirt.intake.models import Message, Report, ReportEvent
from psirt.organization.queries import acknowledgment_due

# Days after receipt at which each workflow step happens, unless the schedule says otherwise.
STEP_DAYS: dict[str, int] = {
    "acknowledged": 2,
    "triage": 4,
    "confirmed": 9,
    "remediation": 12,
    "awaiting_disclosure": 40,
    "published": 60,
    "closed": 70,
    "rejected": 5,
    "duplicate": 6,
    "not_vulnerability": 8,
    "out_of_scope": 1,
}


def schedule(received: dt.datetime, **at: dt.datetime) -> dict[str, dt.datetime]:
    """Each step's time: `received` + `STEP_DAYS`, with the steps named in `at` placed there instead."""
    times = {state: received + dt.timedelta(days=days, hours=3) for state, days in STEP_DAYS.items()}
    times.update(at)
    return times


class _Clock:
    """Maps a time stamped while loading to its place in the demo's past: after the latest checkpoint (a step
    of the case) at or before it, by the same distance."""

    def __init__(self, checkpoints: list[tuple[dt.datetime, dt.datetime]]) -> None:
        self.checkpoints = sorted(checkpoints, key=lambda pair: pair[0])

    def __call__(self, stamped: dt.datetime | None) -> dt.datetime | None:
        if stamped is None:
            return None
        real, past = self.checkpoints[0]
        for candidate_real, candidate_past in self.checkpoints:
            if candidate_real <= stamped:
                real, past = candidate_real, candidate_past
        return past + max(stamped - real, dt.timedelta(0))


def backdate_case(case: Case, *, received: dt.datetime, times: Mapping[str, dt.datetime]) -> Case:
    """Move `case` (and its reports) back so it was received at `received` and entered each state at
    `times[state]`; the deadlines follow from those times. Returns the case as stored afterwards."""
    case = Case.objects.get(pk=case.pk)
    changes = list(StateChange.objects.filter(case=case).order_by("at", "id"))
    reports = list(Report.objects.filter(case_link__case=case))
    opened = changes[0].at if changes else case.created_at
    checkpoints = [(min([opened, *(r.created_at for r in reports)]), received)]
    for change in changes[1:]:
        checkpoints.append((change.at, times[change.to_state]))
    clock = _Clock(checkpoints)
    for change in changes:
        StateChange.objects.filter(pk=change.pk).update(at=clock(change.at))
    for event in ReportEvent.objects.filter(report__in=reports):
        ReportEvent.objects.filter(pk=event.pk).update(at=clock(event.at))
    for message in Message.objects.filter(report__in=reports):
        Message.objects.filter(pk=message.pk).update(created_at=clock(message.created_at))
    for assignment in Assignment.objects.filter(case=case):
        Assignment.objects.filter(pk=assignment.pk).update(assigned_at=clock(assignment.assigned_at))

    # The services stamp these a moment before the step's own row: take the step's time itself.
    acknowledged = times["acknowledged"] if case.acknowledged_at else None
    confirmed = times["confirmed"] if case.confirmed_at else None
    closed = times[case.state] if case.closed_at else None
    remediation_due = confirmed + dt.timedelta(days=remediation_days_for(case.severity)) if confirmed else None
    ack_due = acknowledgment_due(received)
    Case.objects.filter(pk=case.pk).update(
        received_at=received,
        created_at=received,
        ack_due_at=ack_due,
        acknowledged_at=acknowledged,
        confirmed_at=confirmed,
        remediation_due_at=remediation_due,
        closed_at=closed,
        updated_at=max(times.get(case.state, received), received),
    )
    for report in reports:
        Report.objects.filter(pk=report.pk).update(
            created_at=received,
            accepted_guidelines_at=received if report.accepted_guidelines_at else None,
            ack_due_at=ack_due,
            acknowledged_at=acknowledged,
            remediation_due_at=remediation_due,
            updated_at=max(times.get(case.state, received), received),
        )
    return Case.objects.get(pk=case.pk)


def days_ago(days: float) -> dt.datetime:
    """A time `days` before now, at a working hour (10:00 local time) so the desk shows plausible times."""
    moment = timezone.localtime() - dt.timedelta(days=days)
    return moment.replace(hour=10, minute=0, second=0, microsecond=0)
