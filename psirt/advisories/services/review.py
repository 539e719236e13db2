"""Review and approval: draft → in review → approved (or back to draft), and the lead's approval of an
expedited publication with its written justification.

The same steps review the open revision of a published advisory (`PendingRevision`): on a published advisory
each function acts on its open revision, so a revision is reviewed and approved exactly like a first
publication.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.accounts.models import Role, User
from psirt.advisories.exceptions import (
    InvalidInput,
    NotAllowed,
    TransitionNotAllowed,
)
from psirt.advisories.models import (
    Advisory,
    AdvisoryState,
    PendingRevision,
)
from psirt.advisories.services.inputs import MAX_REASON, clean_line, clean_text, require_editor
from psirt.advisories.services.policy import current_policy
from psirt.audit.services import record
from psirt.lib.access import require_lead


def locked_review_subject(advisory: Advisory) -> tuple[Advisory, Advisory | PendingRevision]:
    """The advisory, locked, and what its review steps act on: the advisory itself or, once it is published,
    its open revision (refused when there is none). Call inside a transaction."""
    advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
    if advisory.state != AdvisoryState.PUBLISHED:
        return advisory, advisory
    pending = PendingRevision.objects.select_for_update().filter(advisory=advisory).first()
    if pending is None:
        raise TransitionNotAllowed(
            _("This advisory is published and has no open revision: edit it to start one, with a summary.")
        )
    return advisory, pending


def four_eyes_in_force() -> bool:
    """Whether a lead is kept from approving their own work: the publication policy's `four_eyes` setting (on
    by default), effective while the team has two or more active leads — a lone lead can still publish."""
    if not current_policy().four_eyes:
        return False
    return User.objects.filter(role=Role.LEAD, is_active=True).count() >= 2


def approval_refusal(subject: Advisory | PendingRevision, actor: User) -> str:
    """Why `actor` may not approve `subject` (the advisory, or its open revision) under four eyes; empty when
    they may. The author of the advisory or revision does not approve it."""
    author_id = subject.created_by_id
    if author_id is not None and author_id == actor.pk and four_eyes_in_force():
        if isinstance(subject, PendingRevision):
            return _("Four eyes: you opened this revision, so another lead must approve it.")
        return _("Four eyes: you wrote this advisory, so another lead must approve it.")
    return ""


def expedite_refusal(subject: Advisory | PendingRevision, actor: User) -> str:
    """Why `actor` may not approve the expedite justification of `subject` under four eyes; empty when they
    may. Whoever wrote the justification does not approve it."""
    writer_id = subject.expedite_requested_by_id
    if writer_id is not None and writer_id == actor.pk and four_eyes_in_force():
        return _("Four eyes: you wrote this justification, so another lead must approve it.")
    return ""


def _review_data(subject: Advisory | PendingRevision, data: dict[str, Any] | None = None) -> dict[str, Any]:
    out = dict(data or {})
    if isinstance(subject, PendingRevision):
        out["revision"] = True
    return out


def _move(
    advisory: Advisory,
    *,
    source: Iterable[str],
    target: str,
    actor: User,
    request: HttpRequest | None,
    action: str,
    data: dict[str, Any] | None = None,
    four_eyes: bool = False,
    **fields: Any,
) -> Advisory:
    with transaction.atomic():
        advisory, subject = locked_review_subject(advisory)
        if subject.state not in source:
            raise TransitionNotAllowed(
                _("An advisory cannot go from “%(from)s” to “%(to)s”.")
                % {"from": AdvisoryState(subject.state).label, "to": AdvisoryState(target).label}
            )
        refusal = approval_refusal(subject, actor) if four_eyes else ""
        if refusal:
            raise NotAllowed(refusal)
        subject.state = target
        for name, value in fields.items():
            if name != "scheduled_for" or isinstance(subject, Advisory):
                setattr(subject, name, value)
        subject.save()
        record(action=action, actor=actor, request=request, target=advisory, data=_review_data(subject, data))
    return advisory


def submit_for_review(*, advisory: Advisory, actor: User, request: HttpRequest | None = None) -> Advisory:
    """The author asks for review (draft → in review)."""
    require_editor(actor, advisory)
    return _move(
        advisory,
        source=[AdvisoryState.DRAFT],
        target=AdvisoryState.IN_REVIEW,
        actor=actor,
        request=request,
        action="advisory.submitted",
    )


def return_to_draft(
    *, advisory: Advisory, actor: User, reason: str = "", request: HttpRequest | None = None
) -> Advisory:
    """Back to draft from review or approval (the reviewer wants changes); approval and schedule are dropped."""
    require_editor(actor, advisory)
    clean = clean_line(reason, label=_("The reason"), limit=MAX_REASON)
    return _move(
        advisory,
        source=[AdvisoryState.IN_REVIEW, AdvisoryState.APPROVED],
        target=AdvisoryState.DRAFT,
        actor=actor,
        request=request,
        action="advisory.returned",
        data={"reason": clean} if clean else {},
        approved_by=None,
        approved_at=None,
        scheduled_for=None,
    )


def approve_advisory(*, advisory: Advisory, actor: User, request: HttpRequest | None = None) -> Advisory:
    """A lead approves the advisory for publication (in review → approved); under four eyes
    (`four_eyes_in_force`) not the lead who wrote it (`approval_refusal`)."""
    require_lead(actor, NotAllowed)
    return _move(
        advisory,
        source=[AdvisoryState.IN_REVIEW],
        target=AdvisoryState.APPROVED,
        actor=actor,
        request=request,
        action="advisory.approved",
        four_eyes=True,
        approved_by=actor,
        approved_at=timezone.now(),
    )


def set_expedite_justification(
    *, advisory: Advisory, actor: User, justification: str, request: HttpRequest | None = None
) -> Advisory:
    """Record (or change) why the advisory must go out before the normal conditions hold. A changed
    justification needs a lead's approval again."""
    require_editor(actor, advisory)
    text = clean_text(justification, label=_("The justification"))[:MAX_REASON]
    with transaction.atomic():
        advisory, subject = locked_review_subject(advisory)
        if subject.state in (AdvisoryState.PUBLISHED, AdvisoryState.WITHDRAWN):
            raise TransitionNotAllowed(_("This advisory has already been published."))
        if text != subject.expedite_justification:
            subject.expedite_justification = text
            subject.expedite_requested_by = actor if text else None
            subject.expedite_approved_by = None
            subject.expedite_approved_at = None
            subject.save()
            record(
                action="advisory.expedite_requested",
                actor=actor,
                request=request,
                target=advisory,
                data=_review_data(subject),
            )
    return advisory


def approve_expedite(*, advisory: Advisory, actor: User, request: HttpRequest | None = None) -> Advisory:
    """A lead approves expedited publication of an advisory whose justification is written; under four eyes
    not the lead who wrote the justification (`expedite_refusal`)."""
    require_lead(actor, NotAllowed)
    with transaction.atomic():
        advisory, subject = locked_review_subject(advisory)
        if subject.state in (AdvisoryState.PUBLISHED, AdvisoryState.WITHDRAWN):
            raise TransitionNotAllowed(_("This advisory has already been published."))
        if not subject.expedite_justification.strip():
            raise InvalidInput(_("Write the justification for expedited publication first."))
        refusal = expedite_refusal(subject, actor)
        if refusal:
            raise NotAllowed(refusal)
        subject.expedite_approved_by = actor
        subject.expedite_approved_at = timezone.now()
        subject.save()
        record(
            action="advisory.expedite_approved",
            actor=actor,
            request=request,
            target=advisory,
            data=_review_data(subject),
        )
    return advisory
