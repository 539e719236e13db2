"""Changes to the organization profile, audited in the same transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.http import HttpRequest

from psirt.audit.services import record
from psirt.lib.changes import apply_changes
from psirt.lib.pgp import fingerprint
from psirt.organization.models import OrganizationProfile

ORG_FIELDS = frozenset(
    {
        "name_en",
        "name_zh",
        "advisory_prefix",
        "security_email",
        "lab_email",
        "website",
        "pgp_public_key",
        "footer_en",
        "footer_zh",
        "calendar_country",
        "ack_business_days",
        "remediation_days",
    }
)


def update_organization(
    *, actor: AbstractBaseUser | AnonymousUser | None, request: HttpRequest | None = None, **changes: Any
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
