"""`{% load case_deadlines %}`: where a case's deadlines stand, for templates, by the one rule
(`psirt.cases.services.deadlines.deadline_status`) — templates never compare deadline dates themselves.

    {% deadline_status case "remediation" now as status %}  "done", "overdue", "soon", "open" or "none"
    {% case_due_status case now as status %}                 "overdue", "soon" or ""
"""

from __future__ import annotations

import datetime as dt

from django import template

from psirt.cases.models import Case
from psirt.cases.services import deadlines

register = template.Library()


@register.simple_tag
def deadline_status(case: Case, kind: str, now: dt.datetime) -> str:
    return deadlines.deadline_status(case, kind, now)


@register.simple_tag
def case_due_status(case: Case, now: dt.datetime) -> str:
    return deadlines.case_due_status(case, now)
