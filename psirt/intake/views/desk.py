"""The leads' inbox, a report page and attachment downloads (both audited)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone

from psirt.accounts.access import desk_user
from psirt.intake import services
from psirt.intake.access import get_attachment_for, get_report_for
from psirt.intake.models import InboxState, Report
from psirt.intake.views.common import download_response
from psirt.lib.access import lead_required


@lead_required
def inbox(request: HttpRequest) -> HttpResponse:
    """New reports not yet taken by a case. Leads only: to anyone else the page does not exist."""
    reports = Report.objects.filter(inbox_state=InboxState.NEW).select_related("product").order_by("-created_at")[:500]
    return render(request, "intake/desk/inbox.html", {"reports": reports, "now": timezone.now()})


@login_required
def desk_report(request: HttpRequest, public_id: str) -> HttpResponse:
    report = get_report_for(request.user, public_id, request=request)
    services.record_staff_view(report=report, user=desk_user(request), request=request)
    context = {
        "report": report,
        "description": services.description_for_staff(report),
        "messages_all": report.messages.all().prefetch_related("attachments"),
        "attachments": report.attachments.all(),
        "events": report.events.all(),
    }
    return render(request, "intake/desk/report.html", context)


@login_required
def desk_attachment(request: HttpRequest, public_id: str, attachment_id: str) -> HttpResponseBase:
    """Always a download (never inline), with a safe name and nosniff; audited."""
    attachment = get_attachment_for(request.user, public_id, attachment_id, request=request)
    if request.method not in {"GET", "HEAD"}:
        raise Http404
    chunks = services.open_attachment(attachment=attachment, user=desk_user(request), request=request)
    # Whatever the file is, the browser gets opaque bytes to save, under a name we sanitised on upload.
    return download_response(attachment, chunks)
