"""Remediation of a case: affected ranges from the catalog, mitigations and workarounds, and work
items for the product team. Keyword-only services, audited in the same transaction.

Leads and assigned handlers change everything; a product engineer with need-to-know may mark the work items
they own as done (and undo that) — the one change an engineer makes on a case.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.audit.services import record
from psirt.cases.access import can_edit_case, can_view_case, require_case_editor
from psirt.cases.exceptions import InvalidInput, NotAllowed
from psirt.cases.models import AffectedRange, Case, Mitigation, MitigationKind, WorkItem
from psirt.catalog.models import FirmwareRelease, Product

MAX_TEXT = 10_000
MAX_ROWS = 200


# --- affected ranges --------------------------------------------------------------------------------------


def set_affected_range(
    *,
    case: Case,
    product: Product,
    actor: User,
    variant: str = "",
    introduced: FirmwareRelease | None = None,
    fixed: FirmwareRelease | None = None,
    request: HttpRequest | None = None,
) -> AffectedRange:
    """Record (or replace) the affected range of one product and variant. Both ends must be releases of that
    product and variant; the fixing release must be newer than the first affected one."""
    require_case_editor(actor, case)
    variant = " ".join((variant or "").split())[:100]
    for release in (introduced, fixed):
        if release is not None and (release.product_id != product.pk or release.variant != variant):
            raise InvalidInput(
                _("Choose releases of %(product)s%(variant)s for both ends of the range.")
                % {"product": product.name, "variant": f" ({variant})" if variant else ""}
            )
    if introduced is not None and fixed is not None and fixed.position <= introduced.position:
        raise InvalidInput(_("The fixing release must be newer than the first affected release."))
    with transaction.atomic():
        existing = AffectedRange.objects.filter(case=case, product=product, variant=variant).first()
        if existing is None and AffectedRange.objects.filter(case=case).count() >= MAX_ROWS:
            raise InvalidInput(_("At most %(n)d affected products per case.") % {"n": MAX_ROWS})
        row, _created = AffectedRange.objects.update_or_create(
            case=case, product=product, variant=variant, defaults={"introduced": introduced, "fixed": fixed}
        )
        record(
            action="case.affected_set",
            actor=actor,
            request=request,
            target=case,
            data={
                "product": product.slug,
                "variant": variant,
                "introduced": introduced.version if introduced else None,
                "fixed": fixed.version if fixed else None,
            },
        )
    return row


def remove_affected_range(*, row: AffectedRange, actor: User, request: HttpRequest | None = None) -> None:
    require_case_editor(actor, row.case)
    with transaction.atomic():
        record(
            action="case.affected_removed",
            actor=actor,
            request=request,
            target=row.case,
            data={"product": row.product.slug, "variant": row.variant},
        )
        row.delete()


# --- mitigations ------------------------------------------------------------------------------------------


def add_mitigation(
    *,
    case: Case,
    actor: User,
    text_en: str,
    text_zh: str = "",
    kind: str = MitigationKind.MITIGATION,
    sufficient: bool = False,
    request: HttpRequest | None = None,
) -> Mitigation:
    require_case_editor(actor, case)
    if kind not in MitigationKind.values:
        raise InvalidInput(_("Choose mitigation or workaround."))
    en, zh = (text_en or "").strip(), (text_zh or "").strip()
    if not en:
        raise InvalidInput(_("Describe the mitigation in English (Chinese is optional)."))
    if len(en) > MAX_TEXT or len(zh) > MAX_TEXT or "\x00" in en + zh:
        raise InvalidInput(_("Keep the text under %(n)d characters, without control characters.") % {"n": MAX_TEXT})
    with transaction.atomic():
        item = Mitigation.objects.create(
            case=case, kind=kind, text_en=en, text_zh=zh, sufficient=bool(sufficient), created_by=actor
        )
        record(
            action="case.mitigation_added",
            actor=actor,
            request=request,
            target=case,
            data={"kind": kind, "sufficient": bool(sufficient)},
        )
    return item


def remove_mitigation(*, item: Mitigation, actor: User, request: HttpRequest | None = None) -> None:
    require_case_editor(actor, item.case)
    with transaction.atomic():
        record(action="case.mitigation_removed", actor=actor, request=request, target=item.case)
        item.delete()


# --- work items -------------------------------------------------------------------------------------------


def _check_owner(case: Case, owner: User | None) -> None:
    if owner is None:
        return
    if not owner.is_active or not can_view_case(owner, case):
        raise InvalidInput(
            _("The owner must be someone who can see this case: an assigned handler, a lead or an invited engineer.")
        )


def add_work_item(
    *,
    case: Case,
    actor: User,
    title: str,
    owner: User | None = None,
    due_date: dt.date | None = None,
    request: HttpRequest | None = None,
) -> WorkItem:
    """A task for the product team. The owner must already have need-to-know of the case (invite the
    engineer first): assigning work never widens who sees a case."""
    require_case_editor(actor, case)
    text = " ".join((title or "").split())
    if not text or len(text) > 200 or "\x00" in text:
        raise InvalidInput(_("Give the task a short title (at most 200 characters)."))
    if due_date is not None and not 2000 <= due_date.year <= 2200:
        raise InvalidInput(_("Enter a real date."))
    _check_owner(case, owner)
    with transaction.atomic():
        if WorkItem.objects.filter(case=case).count() >= MAX_ROWS:
            raise InvalidInput(_("At most %(n)d work items per case.") % {"n": MAX_ROWS})
        item = WorkItem.objects.create(case=case, title=text, owner=owner, due_date=due_date, created_by=actor)
        record(
            action="case.work_item_added",
            actor=actor,
            request=request,
            target=case,
            data={"item": str(item.public_id), "owner": str(owner.public_id) if owner else None},
        )
    return item


def set_work_item_done(*, item: WorkItem, done: bool, actor: User, request: HttpRequest | None = None) -> WorkItem:
    """Mark a work item done (or not): editors of the case, and the item's owner."""
    is_owner = item.owner_id is not None and item.owner_id == actor.pk
    if not (can_edit_case(actor, item.case) or (is_owner and can_view_case(actor, item.case))):
        raise NotAllowed(_("Only the owner of this task, a lead or an assigned handler can change it."))
    with transaction.atomic():
        item.done_at = timezone.now() if done else None
        item.save(update_fields=["done_at"])
        record(
            action="case.work_item_done" if done else "case.work_item_reopened",
            actor=actor,
            request=request,
            target=item.case,
            data={"item": str(item.public_id)},
        )
    return item


def remove_work_item(*, item: WorkItem, actor: User, request: HttpRequest | None = None) -> None:
    require_case_editor(actor, item.case)
    with transaction.atomic():
        record(
            action="case.work_item_removed",
            actor=actor,
            request=request,
            target=item.case,
            data={"item": str(item.public_id)},
        )
        item.delete()
