"""Who may see and change a case: the one place that decides (need-to-know).

Leads see every case. A handler sees the cases assigned to them. A product engineer sees the cases they are
invited to, and every case of their product lines (`User.product_lines`, which a lead sets on the desk's
user page or in the admin). To everyone else a case does not exist:
404, and the attempt is audited. Reports, messages and attachments of a case follow the same rule through
the access rule registered with the intake (`report_rule`).
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from psirt.accounts.access import Viewer, active_account
from psirt.audit.services import deny_access
from psirt.cases.exceptions import NotAllowed
from psirt.cases.models import Assignment, Case, CaseInvitation, ReporterContactShare
from psirt.intake.models import Report


def visible_cases(user: Viewer) -> QuerySet[Case]:
    """Every case `user` may see, as one query (no per-row checks, so lists stay one query)."""
    account = active_account(user)
    if account is None:
        return Case.objects.none()
    if account.is_lead:
        return Case.objects.all()
    if account.is_engineer:
        invited = CaseInvitation.objects.filter(case=OuterRef("pk"), engineer=account)
        return Case.objects.filter(Q(Exists(invited)) | Q(product_line__in=account.product_lines.values("pk")))
    return Case.objects.filter(assigned_q(account))


def assigned_q(user: Viewer) -> Q:
    """SQL for: the case is assigned to `user` (what a handler sees). Read from the person's assignments
    (indexed by person), not tested case by case: a handler sees a few of many cases, and a per-case test
    reads every case."""
    return Q(pk__in=Assignment.objects.filter(user_id=int(getattr(user, "pk", None) or 0)).values("case_id"))


def assigned_among_visible_q(user: Viewer) -> Q:
    """SQL that narrows `visible_cases(user)` to the cases assigned to `user`: `assigned_q`, except for a
    handler, who sees only those already (the same condition twice is a second read of their assignments)."""
    account = active_account(user)
    if account is not None and not account.is_lead and not account.is_engineer:
        return Q()
    return assigned_q(user)


def sees_every_case(user: Viewer) -> bool:
    """Whether `visible_cases(user)` is every case (a lead's): a count over it is a count over the table."""
    account = active_account(user)
    return account is not None and account.is_lead


def can_view_case(user: Viewer, case: Case) -> bool:
    account = active_account(user)
    if account is None:
        return False
    if account.is_lead:
        return True
    if account.is_engineer:
        return CaseInvitation.objects.filter(case=case, engineer=account).exists() or (
            case.product_line_id is not None and account.product_lines.filter(pk=case.product_line_id).exists()
        )
    return Assignment.objects.filter(case=case, user=account).exists()


def can_edit_case(user: Viewer, case: Case) -> bool:
    """Leads and the case's assigned handlers change a case; engineers only read it (and their work items)."""
    account = active_account(user)
    if account is None or account.is_engineer:
        return False
    return account.is_lead or Assignment.objects.filter(case=case, user=account).exists()


def require_case_editor(actor: Viewer, case: Case) -> None:
    """Raise NotAllowed unless `actor` may change `case` (a lead, or a handler assigned to it)."""
    if not can_edit_case(actor, case):
        raise NotAllowed(_("Only a lead or a handler assigned to this case can change it."))


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def get_case_for(user: Viewer, public_id: object, *, request: HttpRequest | None = None) -> Case:
    """The case with this public id if `user` may see it; Http404 otherwise (unknown ids too).

    A refused attempt on an existing case is audited (who tried which case): need-to-know breaches are
    exactly what a lead wants to find in the log.
    """
    key = _uuid(public_id)
    case = (
        Case.objects.select_related("product", "product_line").filter(public_id=key).first()
        if key is not None
        else None
    )
    if case is None:
        raise Http404
    if not can_view_case(user, case):
        deny_access(user=user, target=case, request=request)
    return case


def contacts_shared(case: Case) -> bool:
    """Whether a lead shared the reporters' contact details of `case` with its product engineers."""
    return ReporterContactShare.objects.filter(case=case, contacts=True).exists()


def notes_shared(case: Case) -> bool:
    """Whether a lead shared the team's internal notes of `case` with its product engineers."""
    return ReporterContactShare.objects.filter(case=case, notes=True).exists()


def can_see_case_notes(user: Viewer, case: Case) -> bool:
    """Whether `user` may read the internal notes of this case (and their files): leads and handlers who see
    the case; a product engineer only when a lead shared the notes (the answer
    `psirt.intake.access.can_see_internal_notes` gives for each report of the case)."""
    account = active_account(user)
    if account is None or not can_view_case(user, case):
        return False
    return not account.is_engineer or notes_shared(case)


def can_see_case_contacts(user: Viewer, case: Case) -> bool:
    """Whether `user` may see who reported this case's reports: leads and handlers who see the case; a product
    engineer only when a lead shared the contacts (the same answer `psirt.intake.access.can_see_reporter_contacts`
    gives for each report of the case)."""
    account = active_account(user)
    if account is None or not can_view_case(user, case):
        return False
    return not account.is_engineer or contacts_shared(case)


def contact_rule(user: Viewer, report: Report) -> bool:
    """Intake contact rule: a product engineer who sees a taken report sees its reporter's contact details only
    when a lead shared them for the report's case (psirt.intake.access asks this for engineers only)."""
    try:
        link = report.case_link
    except ObjectDoesNotExist:
        return False
    return ReporterContactShare.objects.filter(case_id=link.case_id, contacts=True).exists()


def notes_rule(user: Viewer, report: Report) -> bool:
    """Intake notes rule: a product engineer who sees a taken report reads its internal notes only when a lead
    shared them for the report's case (psirt.intake.access asks this for engineers only)."""
    try:
        link = report.case_link
    except ObjectDoesNotExist:
        return False
    return ReporterContactShare.objects.filter(case_id=link.case_id, notes=True).exists()


def report_rule(user: Viewer, report: Report) -> bool:
    """Intake access rule: a taken report is visible to the people of the case it belongs to."""
    try:
        link = report.case_link
    except ObjectDoesNotExist:
        return False
    return can_view_case(user, link.case)
