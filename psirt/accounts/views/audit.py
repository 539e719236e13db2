"""The audit log in the desk: leads only, newest first, filtered by action and actor."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from psirt.audit.forms import AuditFilterForm
from psirt.audit.models import AuditEvent
from psirt.lib.access import lead_required

PER_PAGE = 50


@lead_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    events = AuditEvent.objects.order_by("-seq")
    status = 200
    if form.is_valid():
        action = form.cleaned_data["action"].strip()
        actor = form.cleaned_data["actor"].strip()
        if action:
            # "auth." (trailing dot) means the whole family; anything else is an exact action name.
            events = events.filter(action__startswith=action) if action.endswith(".") else events.filter(action=action)
        if actor:
            events = events.filter(actor_label__icontains=actor)
    else:
        events = events.none()
        status = 400
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    actions = AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()[:200]
    context = {"form": form, "page": page, "query": query.urlencode(), "actions": actions}
    return render(request, "accounts/audit_log.html", context, status=status)
