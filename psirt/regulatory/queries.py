"""Read side of regulatory reporting: the desk's rows with their clocks, counts, the case panel, and the answers
other apps ask for (`filings_for_case`, `clocks_met`). Every list filters through `visible_obligations`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from psirt.accounts.access import Viewer
from psirt.cases.models import Case
from psirt.regulatory.access import visible_obligations
from psirt.regulatory.clocks import Clock
from psirt.regulatory.models import Decision, Filing, FilingKind, Obligation
from psirt.regulatory.services import obligation_clocks


@dataclass(frozen=True)
class ObligationRow:
    obligation: Obligation
    clocks: list[Clock]
    next_clock: Clock | None
    overdue: bool


@dataclass(frozen=True)
class FilingRow:
    """One filing as other apps read it (the case file, metrics)."""

    kind: str
    stage: str
    submitted_at: dt.datetime
    actor: str
    csirt: str
    member_state: str
    reference: str
    track: str
    public_id: str = ""
    fields: list[list[str]] = field(default_factory=list)  # [key, label in the active language, value as submitted]


@dataclass
class ClockTally:
    """How many clocks were met, missed (filed late, or still open past the deadline), or are still open."""

    met: int = 0
    missed: int = 0
    open: int = 0
    missed_clocks: list[tuple[str, str]] = field(default_factory=list)  # (obligation public id, stage)


def _filings_by_obligation(ids: Iterable[int]) -> dict[int, list[Filing]]:
    grouped: dict[int, list[Filing]] = defaultdict(list)
    for f in Filing.objects.filter(obligation_id__in=list(ids)).order_by("submitted_at", "recorded_at"):
        grouped[f.obligation_id].append(f)
    return grouped


def rows(obligations: QuerySet[Obligation], now: dt.datetime | None = None) -> list[ObligationRow]:
    """Obligations with their clocks (two queries), most urgent first."""
    now = now or timezone.now()
    items = list(obligations.select_related("case"))
    filings = _filings_by_obligation(o.pk for o in items)
    out = []
    for o in items:
        cl = obligation_clocks(o, filings.get(o.pk, []))
        pending = [c for c in cl if c.due_at is not None and not c.done]
        nxt = min(pending, key=lambda c: c.due_at or now) if pending else None
        out.append(ObligationRow(o, cl, nxt, o.is_active and any(c.overdue(now) for c in cl)))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    out.sort(
        key=lambda r: (not r.obligation.is_active, r.next_clock.due_at if r.next_clock and r.next_clock.due_at else far)
    )
    return out


def desk_rows(user: Viewer, now: dt.datetime | None = None) -> list[ObligationRow]:
    return rows(visible_obligations(user), now)


def counts(user: Viewer, now: dt.datetime | None = None) -> dict[str, int]:
    """The desk's counts: to decide, running (reportable with an open clock), overdue."""
    now = now or timezone.now()
    result = {"to_decide": 0, "running": 0, "overdue": 0}
    for r in desk_rows(user, now):
        if r.obligation.decision == Decision.PENDING:
            result["to_decide"] += 1
        if r.obligation.is_active and r.next_clock is not None:
            result["running"] += 1
        if r.overdue:
            result["overdue"] += 1
    return result


def attention_count(user: Viewer, now: dt.datetime | None = None) -> int:
    """The number on the desk home: obligations to decide plus those with an overdue clock."""
    c = counts(user, now)
    return c["to_decide"] + c["overdue"]


def filings_for_case(case: Case) -> list[FilingRow]:
    """Every filing of a case's obligations, in time order: kind, stage, when, who, CSIRT, platform reference.
    No need-to-know check here: the caller has already shown the case to someone allowed to see it."""
    qs = (
        Filing.objects.filter(obligation__case=case)
        .select_related("actor", "obligation")
        .order_by("submitted_at", "recorded_at")
    )
    return [
        FilingRow(
            kind=f.kind,
            stage=f.stage,
            submitted_at=f.submitted_at,
            actor=f.actor.email,
            csirt=f.csirt,
            member_state=f.member_state,
            reference=f.reference,
            track=f.obligation.track,
            public_id=str(f.public_id),
            fields=[list(row) for row in f.labelled_fields()],
        )
        for f in qs
    ]


def clocks_met(obligations: QuerySet[Obligation], now: dt.datetime | None = None) -> ClockTally:
    """Clocks met or missed over `obligations` (those decided not reportable are left out): a clock is met when
    its stage was submitted by its deadline, missed when submitted late or still open past it, open otherwise."""
    now = now or timezone.now()
    tally = ClockTally()
    for r in rows(obligations.exclude(decision=Decision.NOT_REPORTABLE), now):
        for c in r.clocks:
            if c.due_at is None:
                continue
            if c.done:
                if c.met():
                    tally.met += 1
                else:
                    tally.missed += 1
                    tally.missed_clocks.append((str(r.obligation.public_id), c.stage))
            elif c.overdue(now):
                tally.missed += 1
                tally.missed_clocks.append((str(r.obligation.public_id), c.stage))
            else:
                tally.open += 1
    return tally


def record_of(obligation: Obligation) -> list[Filing]:
    return list(obligation.filings.select_related("actor", "answers").order_by("submitted_at", "recorded_at"))


def open_requests(obligation: Obligation) -> list[Filing]:
    answered = set(obligation.filings.filter(kind=FilingKind.CSIRT_ANSWER).values_list("answers_id", flat=True))
    return [f for f in obligation.filings.filter(kind=FilingKind.CSIRT_REQUEST) if f.pk not in answered]
