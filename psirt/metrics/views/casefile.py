"""The case file downloads: `/desk/cases/<id>/file.pdf` and `.zip` (leads and the case's handlers; audited)."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse

from psirt.accounts.access import desk_user
from psirt.lib.access import staff_required
from psirt.metrics import casefile


def _download(request: HttpRequest, public_id: uuid.UUID, kind: str) -> HttpResponse:
    user = desk_user(request)
    case = casefile.get_case_file_case(user, public_id, request=request)
    built = casefile.build(case, user)
    casefile.record_download(case=case, user=user, kind=kind, case_file=built, request=request)
    if kind == "pdf":
        body, content_type = casefile.render_pdf(built), "application/pdf"
    else:
        body, content_type = casefile.render_zip(built), "application/zip"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{case.key}-case-file.{kind}"'
    return response


@staff_required
def case_file_pdf(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _download(request, public_id, "pdf")


@staff_required
def case_file_zip(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _download(request, public_id, "zip")
