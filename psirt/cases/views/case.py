"""The case page (read side): everything the desk knows of one case, to anyone with need-to-know."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from psirt.accounts.access import desk_user
from psirt.audit.services import record
from psirt.cases.queries import case_report_links
from psirt.cases.views.context import case_context, case_or_404
from psirt.intake.services import record_staff_view
from psirt.lib.access import staff_required


@staff_required
def case_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    case = case_or_404(request, public_id)
    links = case_report_links(case)
    # Viewing confidential data is audited; the record holds who and which case, nothing else. The page shows
    # the reports' conversation: each shown report is a staff view of it (intake's rule). The events are
    # written in one transaction, before anything is shown: one commit for the page, not one per event.
    with transaction.atomic():
        record(action="case.viewed", actor=request.user, request=request, target=case)
        for link in links:
            record_staff_view(report=link.report, user=desk_user(request), request=request)
    return render(request, "cases/desk/case.html", case_context(request, case, links=links))
