"""A hand-computed history of cases around China's 2026 Spring Festival, in Shanghai time.

Spring Festival 2026: 15–23 February off, Saturday 14 February a make-up working day. "now" is
Wednesday 15 April 2026, noon.

| case | line | received (local) | what happened | to acknowledge |
| A | cams | Fri 13 Feb 18:00 | acknowledged Fri 27 Feb 18:00 = the due instant | 5 business days, kept |
| B | cams | Fri 13 Feb 18:00 | acknowledged Fri 27 Feb 18:00:01 | 5 business days, missed |
| C | cams | Mon 2 Mar 09:00 | ack 3 Mar, confirmed 5 Mar, fixed 20 Mar, published 25 Mar (agreed |
|   |      |                 | 25 Mar), closed 26 Mar, reopened 30 Mar, fixed again 10 Apr     | 1, kept |
| D | routers | Wed 1 Apr 10:00 | still new, due 9 Apr passed | —, missed |
| E | routers | Tue 14 Apr 10:00 | still new, due ahead | —, not decided |
| F | none | Mon 9 Mar 09:00 | rejected from new on Tue 10 Mar | 1, kept |
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from psirt.accounts.models import User
from psirt.cases.models import Case, CaseReport, StateChange
from psirt.cases.services.workflow import CaseState
from psirt.catalog.models import ProductLine
from psirt.intake.models import Source
from psirt.tests.factories import make_line, make_product, make_report

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 4, 15, 12, 0, tzinfo=SHANGHAI)


def at(month: int, day: int, hour: int = 9, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI)


_numbers = iter(range(1, 10_000))


def make_case(*, changes: Sequence[tuple[str, str, dt.datetime]] = (), **fields: Any) -> Case:
    """A case with the given fields and its state history (from, to, when), written straight to the tables."""
    number = next(_numbers)
    fields.setdefault("created_at", fields["received_at"])
    case = Case.objects.create(
        key=f"PSIRT-2026-{number:04d}", year=2026, number=number, title=f"Case {number}", **fields
    )
    StateChange.objects.create(case=case, from_state="", to_state=CaseState.NEW, at=fields["received_at"])
    for source, target, when in changes:
        StateChange.objects.create(case=case, from_state=source, to_state=target, at=when)
    return case


@dataclass
class History:
    cams: ProductLine
    routers: ProductLine
    cases: dict[str, Case]


@pytest.fixture
def shanghai(settings: Any) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"


@pytest.fixture
def history(db: None, shanghai: None) -> History:
    cams = make_line("cams", "IP cameras", name_zh="网络摄像机", position=1)
    routers = make_line("routers", "Routers", name_zh="路由器", position=2)
    S = CaseState
    cases: dict[str, Case] = {}
    cases["A"] = make_case(
        product_line=cams,
        state=S.ACKNOWLEDGED,
        severity="High",
        cwe_id=79,
        received_at=at(2, 13, 18),
        ack_due_at=at(2, 27, 18),
        acknowledged_at=at(2, 27, 18),
        changes=[(S.NEW, S.ACKNOWLEDGED, at(2, 27, 18))],
    )
    cases["B"] = make_case(
        product_line=cams,
        state=S.TRIAGE,
        severity="Medium",
        cwe_id=79,
        received_at=at(2, 13, 18),
        ack_due_at=at(2, 27, 18),
        acknowledged_at=at(2, 27, 18, 0, 1),
        changes=[(S.NEW, S.ACKNOWLEDGED, at(2, 27, 18, 0, 1)), (S.ACKNOWLEDGED, S.TRIAGE, at(3, 2))],
    )
    cases["C"] = make_case(
        product_line=cams,
        state=S.CONFIRMED,
        severity="Critical",
        cwe_id=787,
        exploitation="poc",
        received_at=at(3, 2),
        ack_due_at=at(3, 9),
        acknowledged_at=at(3, 3, 10),
        confirmed_at=at(3, 5),
        remediation_due_at=at(6, 3),
        disclosure_date=dt.date(2026, 3, 25),
        changes=[
            (S.NEW, S.ACKNOWLEDGED, at(3, 3, 10)),
            (S.ACKNOWLEDGED, S.TRIAGE, at(3, 4)),
            (S.TRIAGE, S.CONFIRMED, at(3, 5)),
            (S.CONFIRMED, S.REMEDIATION, at(3, 6)),
            (S.REMEDIATION, S.AWAITING_DISCLOSURE, at(3, 20)),
            (S.AWAITING_DISCLOSURE, S.PUBLISHED, at(3, 25, 23, 30)),
            (S.PUBLISHED, S.CLOSED, at(3, 26)),
            (S.CLOSED, S.TRIAGE, at(3, 30)),
            (S.TRIAGE, S.CONFIRMED, at(4, 1)),
            (S.CONFIRMED, S.REMEDIATION, at(4, 2)),
            (S.REMEDIATION, S.AWAITING_DISCLOSURE, at(4, 10)),
            (S.AWAITING_DISCLOSURE, S.REMEDIATION, at(4, 11)),
            (S.REMEDIATION, S.AWAITING_DISCLOSURE, at(4, 12)),
            (S.AWAITING_DISCLOSURE, S.REMEDIATION, at(4, 13)),
        ],
    )
    Case.objects.filter(pk=cases["C"].pk).update(state=S.REMEDIATION)
    cases["D"] = make_case(
        product_line=routers, state=S.NEW, severity="", received_at=at(4, 1, 10), ack_due_at=at(4, 9, 10)
    )
    cases["E"] = make_case(
        product_line=routers, state=S.NEW, severity="Low", received_at=at(4, 14, 10), ack_due_at=at(4, 21, 10)
    )
    cases["F"] = make_case(
        state=S.REJECTED,
        received_at=at(3, 9),
        ack_due_at=at(3, 16),
        changes=[(S.NEW, S.REJECTED, at(3, 10))],
    )
    # C came by mail, A through the form; the others have no report (opened by hand).
    product = make_product(cams)
    for key, source in (("A", Source.WEB), ("C", Source.EMAIL)):
        report = make_report(product)
        type(report).objects.filter(pk=report.pk).update(source=source, created_at=cases[key].received_at)
        CaseReport.objects.create(case=cases[key], report=report)
    return History(cams=cams, routers=routers, cases=cases)


@pytest.fixture
def cams_engineer(engineer: User, history: History) -> User:
    engineer.product_lines.add(history.cams)
    return engineer
