"""CVE JSON 5 records of a published advisory as downloads: /advisories/<ID>/cve/<CVE-ID>.json.

What a CNA submits to CVE Services, rendered by `psirt.advisories.csaf.documents.cve_records` (the same bridge as
the CSAF tree and the API). Only published advisories have records here; a draft, an advisory in review, a
withdrawn one (its CVE would need a REJECTED record, which is the CNA's call) and a CVE the advisory does not name
are all 404, answered the same way so that the answer says nothing about what exists behind it.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from psirt.advisories.csaf.documents import DocumentError, advisory_queryset, cve_records
from psirt.advisories.models import AdvisoryState
from psirt.lib.http import conditional_response

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/json; charset=utf-8"
MAX_AGE = 3600
_CVE_ID = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,19}\Z")
MAX_ADVISORY_ID = 40  # Advisory.advisory_id's length; imported advisories keep their CSAF tracking IDs, any shape


def cve_record_json(*, advisory_id: str, cve_id: str) -> tuple[str, datetime | None]:
    """(the record as JSON text, the moment it last changed) for a published advisory naming `cve_id`.
    Raises Http404 for anything else, and when the advisory cannot be rendered (logged for the team)."""
    # A NUL byte never reaches PostgreSQL (it refuses it with an error, not a miss).
    if not _CVE_ID.match(cve_id) or len(advisory_id) > MAX_ADVISORY_ID or "\x00" in advisory_id:
        raise Http404
    advisory = advisory_queryset().filter(advisory_id=advisory_id, state=AdvisoryState.PUBLISHED).first()
    if advisory is None or cve_id not in advisory.cve_ids:
        raise Http404
    try:
        record = cve_records(advisory).get(cve_id)
    except DocumentError as exc:
        logger.error("CVE record of %s %s cannot be rendered: %s", advisory_id, cve_id, exc)
        raise Http404 from None
    if record is None:
        raise Http404
    text = json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return text, advisory.revised_at or advisory.published_at


@require_safe
def advisory_cve(request: HttpRequest, advisory_id: str, cve_id: str) -> HttpResponse:
    text, changed = cve_record_json(advisory_id=advisory_id, cve_id=cve_id)
    response = conditional_response(
        request,
        body=text,
        content_type=CONTENT_TYPE,
        max_age=MAX_AGE,
        last_modified=changed,
    )
    # The name is the CVE ID itself, checked against the CVE pattern above: nothing of the request's own bytes
    # can reach the header.
    response["Content-Disposition"] = f'attachment; filename="{cve_id}.json"'
    return response
