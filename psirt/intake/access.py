"""Who may see a report: the one place that decides (need-to-know).

Leads see every report. A report in the inbox (`new`) is seen by leads only. Once a case has taken it, the
cases app decides through an access rule it registers here (`register_access_rule`, from its
AppConfig.ready), e.g. "the case's assignees and invited engineers". Everyone else gets 404: to them the
report does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import Http404, HttpRequest

from psirt.accounts.access import Viewer, active_account
from psirt.audit.services import deny_access
from psirt.intake.models import Attachment, InboxState, Report

AccessRule = Callable[[Viewer, Report], bool]
_rules: list[AccessRule] = []


def register_access_rule(rule: AccessRule) -> None:
    """Add a rule `rule(user, report) -> bool` granting non-leads access to taken reports. Idempotent."""
    if rule not in _rules:
        _rules.append(rule)


def can_view_report(user: Viewer, report: Report) -> bool:
    account = active_account(user)
    if account is None:
        return False
    if account.is_lead:
        return True
    if report.inbox_state == InboxState.NEW:
        return False
    return any(rule(user, report) for rule in _rules)


def _uuid(value: object) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise Http404 from exc


def get_report_for(user: Viewer, public_id: object, *, request: HttpRequest | None = None) -> Report:
    """The report with this public id if `user` may see it; Http404 otherwise (also for unknown ids). A refused
    attempt on an existing report is audited, as for cases and advisories."""
    report = Report.objects.select_related("product", "release").filter(public_id=_uuid(public_id)).first()
    if report is None:
        raise Http404
    if not can_view_report(user, report):
        deny_access(user=user, target=report, request=request)
    return report


def get_attachment_for(
    user: Viewer, report_public_id: object, attachment_public_id: object, *, request: HttpRequest | None = None
) -> Attachment:
    """An attachment of a report the user may see; Http404 otherwise."""
    report = get_report_for(user, report_public_id, request=request)
    attachment = report.attachments.filter(public_id=_uuid(attachment_public_id)).first()
    if attachment is None:
        raise Http404
    return attachment
