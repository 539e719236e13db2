"""Changes to the organization profile and to the leads' business-day calendar, audited in the same
transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from psirt.audit.services import record
from psirt.lib.access import require_lead
from psirt.lib.changes import apply_changes
from psirt.lib.pgp import fingerprint
from psirt.organization.exceptions import InvalidInput, KeysDoNotMatch, NotAllowed
from psirt.organization.models import KEY_CANARY_TEXT, CalendarDay, CalendarDayKind, KeyCanary, OrganizationProfile
from psirt.organization.queries import key_problem

ORG_FIELDS = frozenset(
    {
        "name_en",
        "name_zh",
        "advisory_prefix",
        "security_email",
        "lab_email",
        "contact_hours_en",
        "contact_hours_zh",
        "report_language",
        "website",
        "pgp_public_key",
        "footer_en",
        "footer_zh",
        "calendar_country",
        "ack_business_days",
        "remediation_days",
        "eu_member_state",
        "eu_reporting_basis",
    }
)


def update_organization(
    *, actor: AbstractBaseUser | AnonymousUser | None, request: HttpRequest | None = None, **changes: object
) -> OrganizationProfile:
    """Change the organization profile (names from ORG_FIELDS). Raises ValidationError on bad values."""
    with transaction.atomic():
        profile = OrganizationProfile.objects.select_for_update().filter(id=1).first() or OrganizationProfile.get()
        changed = apply_changes(profile, changes, ORG_FIELDS)
        if not changed:
            return profile
        profile.full_clean()
        profile.save()
        data: dict[str, Any] = {"fields": changed}
        if "pgp_public_key" in changed:
            # Which key is published matters for later questions ("what did reporters encrypt to?").
            data["pgp_fingerprint"] = fingerprint(profile.pgp_public_key)
        record(action="pages.organization.update", actor=actor, request=request, target=profile, data=data)
    return profile


def set_calendar_day(
    *, date: dt.date, kind: str, actor: AbstractBaseUser, note: str = "", request: HttpRequest | None = None
) -> CalendarDay:
    """A lead marks a date as an extra day off or a (make-up) working day."""
    require_lead(actor, NotAllowed)
    if kind not in CalendarDayKind.values:
        raise InvalidInput(_("Choose a day off or a working day."))
    if not isinstance(date, dt.date) or not 1990 <= date.year <= 2200:
        raise InvalidInput(_("Enter a real date."))
    with transaction.atomic():
        day, _created = CalendarDay.objects.update_or_create(date=date, defaults={"kind": kind, "note": note[:200]})
        record(
            action="calendar.day_set",
            actor=actor,
            request=request,
            target_type="calendar_day",
            target_id=date.isoformat(),
            data={"kind": kind},
        )
    return day


def remove_calendar_day(*, date: dt.date, actor: AbstractBaseUser, request: HttpRequest | None = None) -> None:
    """A lead takes back a correction: the date follows the public holiday calendar again."""
    require_lead(actor, NotAllowed)
    with transaction.atomic():
        if CalendarDay.objects.filter(date=date).delete()[0]:
            record(
                action="calendar.day_removed",
                actor=actor,
                request=request,
                target_type="calendar_day",
                target_id=date.isoformat(),
            )


def ensure_key_canary() -> KeyCanary:
    """The key canary, stored now if the database has none: encrypted with the first key, once the keys were
    shown to read whatever is already stored. Refuses (KeysDoNotMatch) rather than bless keys that cannot: a
    canary made with wrong keys would hide the mismatch from every later check. Not audited: it is no one's
    action and holds nothing but the known text."""
    problem = key_problem()
    if problem is not None:
        raise KeysDoNotMatch(problem)
    with transaction.atomic():
        canary, _created = KeyCanary.objects.get_or_create(pk=1, defaults={"value": KEY_CANARY_TEXT})
    return canary
