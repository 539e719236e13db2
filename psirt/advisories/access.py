"""Who may see and change an unpublished advisory: the one place that decides.

Leads see every advisory. A handler sees the advisories written from a case they may see (assigned to
them). Product engineers and everyone else: the advisory does not exist on the desk (404), and the attempt on
an existing one is audited. Published advisories are public, but through the public views only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest

from psirt.accounts.models import User
from psirt.advisories.models import Advisory, AdvisoryCase
from psirt.audit.services import deny_access
from psirt.cases.access import can_edit_case, get_case_for, visible_cases
from psirt.cases.models import Case
from psirt.lib.access import is_active_user

# Who asks: a signed-in account, or the anonymous visitor (who sees no unpublished advisory).
Viewer = User | AnonymousUser


def can_author_from(user: Viewer, case: Case) -> bool:
    """Leads and the case's assigned handlers write advisories from it (the case desk's edit right)."""
    return bool(can_edit_case(user, case))


def visible_case_ids(user: Viewer) -> QuerySet[Case, Mapping[str, object]]:
    """A queryset of the primary keys of every case `user` may see."""
    return visible_cases(user).values("pk")


def get_case(user: Viewer, public_id: object, *, request: HttpRequest | None = None) -> Case:
    """The case with this public id if `user` may see it; Http404 otherwise (audited by the case desk)."""
    return get_case_for(user, public_id, request=request)


def visible_advisories(user: Viewer) -> QuerySet[Advisory]:
    """Every advisory `user` may open on the desk, as one query."""
    if not isinstance(user, User) or not is_active_user(user) or user.is_engineer:
        return Advisory.objects.none()
    if user.is_lead:
        return Advisory.objects.all()
    links = AdvisoryCase.objects.filter(advisory=OuterRef("pk"), case__in=visible_case_ids(user))
    return Advisory.objects.filter(Exists(links))


def can_edit_advisory(user: Viewer, advisory: Advisory) -> bool:
    """Leads, and handlers who may edit at least one of the advisory's cases."""
    if not isinstance(user, User) or not is_active_user(user) or user.is_engineer:
        return False
    if user.is_lead:
        return True
    return any(can_author_from(user, link.case) for link in advisory.case_links.select_related("case"))


def get_advisory_for(user: Viewer, public_id: object, *, request: HttpRequest | None = None) -> Advisory:
    """The advisory with this public id if `user` may see it on the desk; Http404 otherwise (audited)."""
    try:
        key = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except (ValueError, TypeError, AttributeError):
        raise Http404 from None
    advisory = Advisory.objects.filter(public_id=key).first()
    if advisory is None:
        raise Http404
    if not visible_advisories(user).filter(pk=advisory.pk).exists():
        deny_access(user=user, target=advisory, request=request)
    return advisory
