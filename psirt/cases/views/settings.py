"""Leads' deadline settings: remediation days per severity and the calendar's extra days.

Leads only (404 for everyone else). Every change goes through an audited service.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from psirt.accounts.access import desk_user
from psirt.cases.exceptions import CaseError
from psirt.cases.forms import DayForm, PolicyForm
from psirt.cases.services.deadlines import remediation_table, set_remediation_days
from psirt.lib.access import lead_required
from psirt.lib.severity import Severity
from psirt.organization.exceptions import OrganizationError
from psirt.organization.models import CalendarDay
from psirt.organization.services import remove_calendar_day, set_calendar_day


def _page(
    request: HttpRequest, *, policy: PolicyForm | None = None, day: DayForm | None = None, status: int = 200
) -> HttpResponse:
    table = remediation_table()
    if policy is None:
        policy = PolicyForm(initial={f"days_{s}": d for s, _l, d, custom in table if custom})
    context = {
        "table": table,
        "policy": policy,
        "policy_rows": [(policy[f"days_{s}"], days, custom) for s, _l, days, custom in table],
        "day_form": day or DayForm(),
        "days": CalendarDay.objects.order_by("-date")[:200],
    }
    return render(request, "cases/desk/deadline_settings.html", context, status=status)


@lead_required
def deadline_settings(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    action = request.POST.get("action", "")[:20]
    user = desk_user(request)
    try:
        if action == "policy":
            form = PolicyForm(request.POST)
            if not form.is_valid():
                return _page(request, policy=form, status=400)
            current = {s: (d if custom else None) for s, _l, d, custom in remediation_table()}
            for severity in Severity.values:
                days = form.cleaned_data.get(f"days_{severity}")
                if days != current.get(severity):
                    set_remediation_days(severity=severity, days=days, actor=user, request=request)
            messages.success(request, _("Remediation times saved."))
        elif action == "day_add":
            day = DayForm(request.POST)
            if not day.is_valid():
                return _page(request, day=day, status=400)
            set_calendar_day(
                date=day.cleaned_data["date"],
                kind=day.cleaned_data["kind"],
                note=day.cleaned_data["note"],
                actor=user,
                request=request,
            )
            messages.success(request, _("Calendar day saved."))
        elif action == "day_remove":
            try:
                date = dt.date.fromisoformat(request.POST.get("date", "")[:10])
            except ValueError:
                return _page(request, status=400)
            remove_calendar_day(date=date, actor=user, request=request)
            messages.success(request, _("Calendar day removed."))
        else:
            return _page(request, status=400)
    except (CaseError, OrganizationError) as exc:
        messages.error(request, exc.message)
        return _page(request, status=exc.status)
    return HttpResponseRedirect(reverse("desk:cases:deadline_settings"))
