"""Who may see and change regulatory records (need-to-know): leads, and the handlers assigned to the obligation's
case. Engineers and handlers of other cases never see them, even when they see the case; an incident without a
case is for leads only. To everyone else a record does not exist: 404, and the attempt is audited."""

from __future__ import annotations

import uuid

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from psirt.accounts.access import Viewer, active_account
from psirt.audit.services import deny_access
from psirt.cases.models import Assignment
from psirt.regulatory.exceptions import NotAllowed
from psirt.regulatory.models import Obligation


def visible_obligations(user: Viewer) -> QuerySet[Obligation]:
    """Every obligation `user` may see, as one query."""
    account = active_account(user)
    if account is None or account.is_engineer:
        return Obligation.objects.none()
    if account.is_lead:
        return Obligation.objects.all()
    assigned = Assignment.objects.filter(case=OuterRef("case"), user=account)
    return Obligation.objects.filter(case__isnull=False).filter(Exists(assigned))


def can_see_obligation(user: Viewer, obligation: Obligation) -> bool:
    account = active_account(user)
    if account is None or account.is_engineer:
        return False
    if account.is_lead:
        return True
    return (
        obligation.case_id is not None and Assignment.objects.filter(case_id=obligation.case_id, user=account).exists()
    )


def can_see_case_obligations(user: Viewer, case_id: int) -> bool:
    """Whether `user` may see the regulatory records of a case (the case panel asks this)."""
    account = active_account(user)
    if account is None or account.is_engineer:
        return False
    return account.is_lead or Assignment.objects.filter(case_id=case_id, user=account).exists()


def require_lead(user: Viewer) -> None:
    account = active_account(user)
    if account is None or not account.is_lead:
        raise NotAllowed(_("Only a lead can decide on a reporting obligation or open one."))


def get_obligation_for(user: Viewer, public_id: object, *, request: HttpRequest | None = None) -> Obligation:
    """The obligation with this public id if `user` may see it; Http404 otherwise (unknown ids too), and a
    refused attempt on an existing one is audited."""
    try:
        key = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except (ValueError, TypeError, AttributeError):
        raise Http404 from None
    obligation = (
        Obligation.objects.select_related("case", "case__product", "case__product_line").filter(public_id=key).first()
    )
    if obligation is None:
        raise Http404
    if not can_see_obligation(user, obligation):
        deny_access(user=user, target=obligation, request=request)
    return obligation
