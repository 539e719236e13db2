"""After publication: a lead withdraws an advisory with a reason; its page stays, marked withdrawn, with a
revision saying why, and its CSAF documents are rewritten.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.advisories.exceptions import (
    NotAllowed,
    TransitionNotAllowed,
)
from psirt.advisories.models import (
    Advisory,
    AdvisoryState,
    PendingRevision,
)
from psirt.advisories.services.inputs import MAX_SUMMARY, clean_line
from psirt.advisories.services.publication import add_revision, publish_csaf
from psirt.audit.services import record
from psirt.lib.access import require_lead


def withdraw_advisory(*, advisory: Advisory, actor: User, reason: str, request: HttpRequest | None = None) -> Advisory:
    """A lead withdraws a published advisory with a reason; the page stays, marked withdrawn, with a revision.
    An open revision is discarded."""
    require_lead(actor, NotAllowed)
    clean = clean_line(reason, label=_("The reason"), limit=MAX_SUMMARY, required=True)
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.state != AdvisoryState.PUBLISHED:
            raise TransitionNotAllowed(_("Only a published advisory can be withdrawn."))
        advisory.state = AdvisoryState.WITHDRAWN
        advisory.withdrawn_at = timezone.now()
        advisory.withdrawn_reason = clean
        # A withdrawn advisory no longer changes: its open revision, if any, is dropped.
        discarded, _rows = PendingRevision.objects.filter(advisory=advisory).delete()
        add_revision(advisory, summary_en=f"Withdrawn: {clean}", summary_zh=f"已撤回：{clean}", actor=actor)
        advisory.save()
        publish_csaf(advisory)
        record(
            action="advisory.withdrawn",
            actor=actor,
            request=request,
            target=advisory,
            data={"revision_discarded": True} if discarded else {},
        )
    return advisory
