"""Demo cases: every workflow state, several demo handlers, idempotent."""

from __future__ import annotations

import pytest

from psirt.cases.models import Case
from psirt.cases.services.workflow import CaseState
from psirt.demo import catalog as catalog_demo
from psirt.demo.cases import load_demo_cases
from psirt.intake.models import InboxState, Report

pytestmark = pytest.mark.django_db


def test_demo_cases_cover_every_state_and_several_handlers() -> None:
    lines: list[str] = []
    catalog_demo.load_organization(lines.append)
    catalog_demo.load_catalog(lines.append)
    catalog_demo.load_accounts(lines.append)
    load_demo_cases(lines.append)
    assert set(Case.objects.values_list("state", flat=True)) == set(CaseState.values)
    handlers = set(Case.objects.values_list("assignments__user__email", flat=True))
    assert {"handler1@demo.test", "handler2@demo.test"} <= handlers
    assert Report.objects.filter(inbox_state=InboxState.NEW).count() == 2
    count, reports = Case.objects.count(), Report.objects.count()
    load_demo_cases(lines.append)
    assert (Case.objects.count(), Report.objects.count()) == (count, reports)


def test_demo_cases_skip_without_accounts() -> None:
    lines: list[str] = []
    load_demo_cases(lines.append)
    assert not Case.objects.exists() and "skipped" in lines[0]
