"""The regulatory API: the obligations the token's user may see, with their clocks, for a team's own alerting
(token scope `cases:read`; need-to-know as on the desk: leads, and the handlers assigned to the case)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from psirt.accounts.access import TokenAuth
from psirt.regulatory.access import get_obligation_for, visible_obligations
from psirt.regulatory.queries import ObligationRow, rows

router = Router(tags=["regulatory"])


class ClockOut(Schema):
    stage: str
    due_at: dt.datetime | None
    submitted_at: dt.datetime | None
    overdue: bool
    seconds_left: int | None
    waiting_for: str


class ObligationOut(Schema):
    id: uuid.UUID
    track: str
    case_key: str | None
    case_id: uuid.UUID | None
    title: str
    decision: str
    aware_at: dt.datetime
    measure_available_at: dt.datetime | None
    overdue: bool
    clocks: list[ClockOut]


def _out(row: ObligationRow, now: dt.datetime) -> dict[str, object]:
    o = row.obligation
    return {
        "id": o.public_id,
        "track": o.track,
        "case_key": o.case.key if o.case else None,
        "case_id": o.case.public_id if o.case else None,
        "title": o.title,
        "decision": o.decision,
        "aware_at": o.aware_at,
        "measure_available_at": o.measure_available_at,
        "overdue": row.overdue,
        "clocks": [
            {
                "stage": c.stage,
                "due_at": c.due_at,
                "submitted_at": c.submitted_at,
                "overdue": o.is_active and c.overdue(now),
                "seconds_left": int(left.total_seconds()) if (left := c.time_left(now)) is not None else None,
                "waiting_for": c.waiting_for,
            }
            for c in row.clocks
        ],
    }


@router.get(
    "/obligations", response=list[ObligationOut], auth=TokenAuth(scopes=["cases:read"]), summary="Reporting obligations"
)
def list_obligations(request: HttpRequest) -> list[dict[str, object]]:
    """Every obligation you may see, most urgent first, with each clock's deadline and the time left (negative
    when overdue). Computed on each call from the triggers: poll it for your own alerting."""
    now = timezone.now()
    return [_out(r, now) for r in rows(visible_obligations(request.auth.user), now)]  # type: ignore[attr-defined]


@router.get(
    "/obligations/{obligation_id}",
    response=ObligationOut,
    auth=TokenAuth(scopes=["cases:read"]),
    summary="One reporting obligation",
)
def get_obligation(request: HttpRequest, obligation_id: str) -> dict[str, object]:
    obligation = get_obligation_for(request.auth.user, obligation_id, request=request)  # type: ignore[attr-defined]
    now = timezone.now()
    (row,) = rows(visible_obligations(request.auth.user).filter(pk=obligation.pk), now)  # type: ignore[attr-defined]
    return _out(row, now)
