"""Who may see a report, and who may see the person behind it: the one place that decides (need-to-know).

Leads see every report. A report in the inbox (`new`) is seen by leads only. Once a case has taken it, the
cases app decides through an access rule it registers here (`register_access_rule`, from its
AppConfig.ready), e.g. "the case's assignees and invited engineers". Everyone else gets 404: to them the
report does not exist.

The reporter's name, e-mail address, phone and organization are a second, narrower circle: leads and handlers
who see the report see them; a product engineer sees the technical content only, unless a lead shared the
contacts for that case (the cases app registers that rule with `register_contact_rule`). Wherever report text is
shown to someone outside that circle, `redact_contacts` blanks the contact details out of it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from psirt.accounts.access import Viewer, active_account
from psirt.audit.services import deny_access
from psirt.intake.models import Attachment, InboxState, Report

AccessRule = Callable[[Viewer, Report], bool]
# The name under which the mailgate keeps a mailed report whole (headers and all, so the sender's address).
ORIGINAL_MESSAGE_NAME = "original-message.eml"
_rules: list[AccessRule] = []


def register_access_rule(rule: AccessRule) -> None:
    """Add a rule `rule(user, report) -> bool` granting non-leads access to taken reports. Idempotent."""
    if rule not in _rules:
        _rules.append(rule)


_contact_rules: list[AccessRule] = []


def register_contact_rule(rule: AccessRule) -> None:
    """Add a rule `rule(user, report) -> bool` showing a product engineer the reporter's contact details of a
    report they may see (a lead's per-case decision). Idempotent."""
    if rule not in _contact_rules:
        _contact_rules.append(rule)


_notes_rules: list[AccessRule] = []


def register_notes_rule(rule: AccessRule) -> None:
    """Add a rule `rule(user, report) -> bool` letting a product engineer read the team's internal notes of a
    report they may see (a lead's per-case decision). Idempotent."""
    if rule not in _notes_rules:
        _notes_rules.append(rule)


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
    if attachment.name == ORIGINAL_MESSAGE_NAME and not can_see_reporter_contacts(user, report):
        # A mailed report's original message carries the sender in its headers: it belongs to the contacts.
        deny_access(user=user, target=report, request=request)
    if attachment.is_internal and not can_see_internal_notes(user, report):
        # A file of an internal note is part of the note.
        deny_access(user=user, target=report, request=request)
    return attachment


def can_see_internal_notes(user: Viewer, report: Report) -> bool:
    """Whether `user` may read the team's internal notes of `report` and their files: leads and handlers who see
    the report; a product engineer only where a registered rule says a lead shared them."""
    account = active_account(user)
    if account is None or not can_view_report(user, report):
        return False
    if not account.is_engineer:
        return True
    return any(rule(user, report) for rule in _notes_rules)


def can_see_reporter_contacts(user: Viewer, report: Report) -> bool:
    """Whether `user` may see who reported `report` (name, e-mail, phone, organization): leads and handlers who
    see the report; a product engineer only where a registered rule says a lead shared them."""
    account = active_account(user)
    if account is None or not can_view_report(user, report):
        return False
    if not account.is_engineer:
        return True
    return any(rule(user, report) for rule in _contact_rules)


CONTACT_FIELDS = ("reporter_name", "reporter_email", "phone", "organization", "credit")
MIN_REDACTED_LENGTH = 3  # shorter values ("Al") would blank out ordinary words


def contact_strings(report: Report) -> list[str]:
    """The reporter's contact details as they could appear in text, longest first."""
    values = {str(getattr(report, name) or "").strip() for name in CONTACT_FIELDS}
    return sorted((v for v in values if len(v) >= MIN_REDACTED_LENGTH), key=len, reverse=True)


def redact_contacts(text: str, reports: Report | Iterable[Report]) -> str:
    """`text` with the contact details of the reporter(s) replaced by a placeholder (case-insensitive), for
    people who may read a report but not know who sent it (a signature, "Dear Ada,", an address in a quote)."""
    items = [reports] if isinstance(reports, Report) else list(reports)
    strings = sorted({s for report in items for s in contact_strings(report)}, key=len, reverse=True)
    if not text or not strings:
        return text
    pattern = re.compile("|".join(re.escape(s) for s in strings), re.IGNORECASE)
    return pattern.sub(_("[reporter's details hidden]"), text)
