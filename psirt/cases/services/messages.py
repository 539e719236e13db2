"""The conversation of a case: messages to its reporters and the team's internal notes.

Messages live on the reports (the intake owns them and e-mails the reporter, encrypting to their key when
they gave one); the case desk decides who may write and to which report. Internal notes are never shown to
reporters. Templates for the usual steps come in the reporter's language (`message_templates`).
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.cases.access import can_edit_case
from psirt.cases.exceptions import InvalidInput, NotAllowed
from psirt.cases.models import Case, CaseReport
from psirt.cases.services.message_templates import TEMPLATES
from psirt.cases.services.message_templates import render as render_template
from psirt.intake.exceptions import IntakeError
from psirt.intake.models import Message, Report
from psirt.intake.services import post_team_message


def report_of_case(case: Case, report_public_id: object) -> Report:
    """A report of this case by public id; InvalidInput for anything else (another case's report too)."""
    try:
        key = uuid.UUID(str(report_public_id))
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidInput(_("Choose one of this case's reports.")) from exc
    link = CaseReport.objects.select_related("report").filter(case=case, report__public_id=key).first()
    if link is None:
        raise InvalidInput(_("Choose one of this case's reports."))
    return link.report


def post_message(
    *,
    case: Case,
    report: Report,
    actor: User,
    body: str,
    internal: bool = False,
    request: HttpRequest | None = None,
) -> Message:
    """A message to the reporter of `report` (e-mailed through the intake) or an internal note on it.

    Leads and the case's handlers write; invited engineers read only. Raises InvalidInput for an empty or
    oversized text (the intake's limits) or a report of another case."""
    if not can_edit_case(actor, case):
        raise NotAllowed(_("Only a lead or a handler assigned to this case can write here."))
    if not CaseReport.objects.filter(case=case, report=report).exists():
        raise InvalidInput(_("Choose one of this case's reports."))
    try:
        return post_team_message(report=report, author=actor, body=body, is_internal=internal, request=request)
    except IntakeError as exc:
        raise InvalidInput(_message_of(exc)) from exc


def _message_of(exc: IntakeError) -> str:
    errors = exc.errors
    if isinstance(errors, dict) and errors:
        first = next(iter(errors.values()))
        return str(first[0] if isinstance(first, list | tuple) and first else first)
    return str(exc.message or _("The message could not be sent."))


def template_text(*, key: str, case: Case, report: Report) -> str:
    """A message template filled for this report, in its reporter's language ("" for an unknown key)."""
    if key not in TEMPLATES:
        return ""
    when = case.disclosure_date or (case.remediation_due_at.date() if case.remediation_due_at else None)
    return render_template(key, report=report, date=when.isoformat() if when else "")
