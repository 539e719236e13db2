"""The regulatory panel of the case page (registered with `psirt.cases.regulatory_hook` at start-up): the case's
obligations with their clocks, for leads and the case's assignees only; "" for everyone else."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from psirt.accounts.access import active_account
from psirt.regulatory.access import can_see_case_obligations
from psirt.regulatory.clocks import Track
from psirt.regulatory.models import Obligation
from psirt.regulatory.queries import rows
from psirt.regulatory.services import ensure_exploited_obligations
from psirt.regulatory.views.desk import clock_rows


def panel(case: Any, request: HttpRequest) -> str:
    user = active_account(request.user)
    if user is None or not can_see_case_obligations(user, case.pk):
        return ""
    if case.exploitation_aware_at is not None:
        # Only a case with an exploitation awareness time can owe a vulnerability obligation it lacks, or one
        # whose awareness time lags behind (the rest of the case pages spare the two queries).
        ensure_exploited_obligations(case=case)
    now = timezone.now()
    obligation_rows = rows(Obligation.objects.filter(case=case), now)
    items = [{"row": r, "clocks": clock_rows(r.clocks, now, r.obligation.is_active)} for r in obligation_rows]
    has_miit = any(r.obligation.track == Track.MIIT for r in obligation_rows)
    context = {
        "case": case,
        "items": items,
        "is_lead": user.is_lead,
        "may_open_miit": user.is_lead and not has_miit,
        "miit_working_days": settings.PSIRT_MIIT_WORKING_DAYS,
    }
    return render_to_string("regulatory/desk/_case_panel.html", context, request=request)
