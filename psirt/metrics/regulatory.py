"""The regulatory parts of the metrics page and of the case file, answered by the regulatory app itself
(`psirt.regulatory.queries.clocks_met` and `filings_for_case`) and registered with `psirt.metrics.registry` at
start-up. Nothing here computes a clock: a clock met or missed is what the regulatory app says it is."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from psirt.accounts.models import User
from psirt.audit.models import AuditEvent
from psirt.cases.models import Case
from psirt.metrics.casefile import QUIET_ACTIONS, Entry
from psirt.metrics.queries import Filters, period_bounds
from psirt.metrics.tables import Cell, Table
from psirt.regulatory.access import visible_obligations
from psirt.regulatory.models import FilingKind, Obligation, Stage
from psirt.regulatory.queries import clocks_met, filings_for_case

SECTION_TITLE = gettext_lazy("Regulatory obligations and filings")


def clock_tables(user: Any, filters: Filters, now: dt.datetime) -> Sequence[Table]:
    """Clocks met, missed and still open, over the obligations the person may see whose awareness falls in the
    period (a product line, product or severity filter keeps only obligations of matching cases: a severe
    incident has no case and counts only unfiltered)."""
    if not isinstance(user, User):
        return []
    since, until = period_bounds(filters)
    obligations = visible_obligations(user).filter(aware_at__gte=since, aware_at__lt=until)
    if filters.line:
        obligations = obligations.filter(case__product_line__slug=filters.line)
    if filters.product:
        obligations = obligations.filter(case__product__slug=filters.product)
    if filters.severity:
        obligations = obligations.filter(case__severity=filters.severity)
    tally = clocks_met(obligations, now)
    return [
        Table(
            name="regulatory_clocks",
            title=gettext_lazy("Regulatory clocks (EU CRA Art. 14, MIIT)"),
            header=[gettext_lazy("Met"), gettext_lazy("Missed"), gettext_lazy("Still open")],
            rows=[[Cell(tally.met), Cell(tally.missed), Cell(tally.open)]],
        )
    ]


def filings_section(case: Case, user: Any) -> Sequence[Entry]:
    """Every filing of the case's obligations (what was submitted, to which CSIRT, the platform's reference) and
    every other recorded decision about them, in time order, each with the audit event that recorded it."""
    obligation_ids = [str(pid) for pid in Obligation.objects.filter(case=case).values_list("public_id", flat=True)]
    if not obligation_ids:
        return []
    events = [
        event
        for event in AuditEvent.objects.filter(target_id__in=obligation_ids).select_related("actor").order_by("seq")
        if not event.action.endswith(QUIET_ACTIONS)
    ]
    by_filing = {str((event.data or {}).get("filing")): event for event in events if (event.data or {}).get("filing")}
    kinds = dict(FilingKind.choices)
    stages = dict(Stage.choices)
    entries: list[Entry] = []
    for filing in filings_for_case(case):
        title = str(kinds.get(filing.kind, filing.kind))
        if filing.stage:
            title += f": {stages.get(filing.stage, filing.stage)}"
        details = {
            _("Coordinator CSIRT"): filing.csirt,
            _("Member State"): filing.member_state,
            _("Platform reference"): filing.reference,
        }
        text = "\n".join(f"{label}: {value}" for _key, label, value in filing.fields if value)
        event = by_filing.get(filing.public_id)
        entries.append(
            Entry(
                at=filing.submitted_at,
                title=title,
                actor=filing.actor,
                text=text,
                details={k: v for k, v in details.items() if v},
                audit_seq=int(event.seq) if event else None,
                audit_hash=event.hash if event else "",
            )
        )
    stamped = {id(event) for event in by_filing.values()}
    for event in events:
        if id(event) in stamped:
            continue
        entries.append(
            Entry(
                at=event.at,
                title=event.action,
                actor=event.actor_label,
                details={
                    str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                    for k, v in (event.data or {}).items()
                },
                audit_seq=int(event.seq),
                audit_hash=event.hash,
            )
        )
    entries.sort(key=lambda entry: entry.at or dt.datetime.min.replace(tzinfo=dt.UTC))
    return entries
