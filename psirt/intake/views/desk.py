"""The leads' inbox, a report page and attachment downloads (both audited)."""

from __future__ import annotations

import dataclasses

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone

from psirt.accounts.access import desk_user
from psirt.intake import services
from psirt.intake.access import (
    ORIGINAL_MESSAGE_NAME,
    can_see_internal_notes,
    can_see_reporter_contacts,
    get_attachment_for,
    get_report_for,
    redact_contacts,
)
from psirt.intake.models import InboxState, Report
from psirt.intake.views.common import download_response
from psirt.lib.access import lead_required
from psirt.lib.crypto import EncryptedTextField

# The reporter's text the inbox does not show stays encrypted: each field read is a decryption per row, and the
# list shows only what was typed as product (when it is not in the catalog).
INBOX_UNSHOWN = [
    f.name for f in Report._meta.concrete_fields if isinstance(f, EncryptedTextField) and f.name != "product_other"
]


# Rows per page of the inbox: a burst of thousands of reports still renders a short page (one count and one page
# read from the index on the inbox's order), and every report stays reachable page by page.
INBOX_PAGE_SIZE = 50


@lead_required
def inbox(request: HttpRequest) -> HttpResponse:
    """New reports not yet taken by a case, newest first. Leads only: to anyone else the page does not exist."""
    reports = (
        Report.objects.filter(inbox_state=InboxState.NEW)
        .defer(*INBOX_UNSHOWN)
        .select_related("product")
        .order_by("-created_at", "-id")
    )
    page = Paginator(reports, INBOX_PAGE_SIZE).get_page(request.GET.get("page", "1")[:10])
    return render(request, "intake/desk/inbox.html", {"page": page, "now": timezone.now()})


# Report text a product engineer reads with the reporter's contact details blanked out (see access.py).
REDACTED_TEXT_FIELDS = ("technical_details", "references", "public_exploit", "disclosure_plans", "product_other")


@login_required
def desk_report(request: HttpRequest, public_id: str) -> HttpResponse:
    report = get_report_for(request.user, public_id, request=request)
    services.record_staff_view(report=report, user=desk_user(request), request=request)
    contacts_visible = can_see_reporter_contacts(request.user, report)
    description = services.description_for_staff(report)
    notes_visible = can_see_internal_notes(request.user, report)
    messages_all = [
        m for m in report.messages.all().prefetch_related("attachments") if notes_visible or not m.is_internal
    ]
    text = {name: getattr(report, name) for name in REDACTED_TEXT_FIELDS}
    if not contacts_visible:
        description = dataclasses.replace(description, text=redact_contacts(description.text, report))
        text = {name: redact_contacts(value, report) for name, value in text.items()}
        for message in messages_all:  # shown, never saved
            message.body = redact_contacts(message.body, report)
    context = {
        "report": report,
        "contacts_visible": contacts_visible,
        "text": text,
        "description": description,
        "messages_all": messages_all,
        "attachments": [
            a
            for a in report.attachments.all()
            if (contacts_visible or a.name != ORIGINAL_MESSAGE_NAME) and (notes_visible or not a.is_internal)
        ],
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
