"""Changes to the organization profile and the public pages, each audited in the same transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from psirt.audit.services import record
from psirt.lib.pgp import fingerprint
from psirt.pages.defaults import DEFAULT_PAGES
from psirt.pages.models import OrganizationProfile, Page

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
PAGE_FIELDS = frozenset({"title_en", "title_zh", "body_en", "body_zh"})


def _apply(obj: Any, changes: dict[str, Any], allowed: frozenset[str]) -> list[str]:
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"unknown field(s) for {type(obj).__name__}: {', '.join(sorted(unknown))}")
    changed = []
    for name, value in changes.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return sorted(changed)


def update_organization(*, actor: Any, request: HttpRequest | None = None, **changes: Any) -> OrganizationProfile:
    """Change the organization profile (names from ORG_FIELDS). Raises ValidationError on bad values."""
    with transaction.atomic():
        profile = OrganizationProfile.objects.select_for_update().filter(id=1).first() or OrganizationProfile.get()
        changed = _apply(profile, changes, ORG_FIELDS)
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


def update_page(*, actor: Any, page: Page, request: HttpRequest | None = None, **changes: Any) -> Page:
    """Change a page's titles and texts (names from PAGE_FIELDS). Raises ValidationError on bad values."""
    changed = _apply(page, changes, PAGE_FIELDS)
    if changed:
        page.full_clean()
        with transaction.atomic():
            page.save()
            record(
                action="pages.page.update",
                actor=actor,
                request=request,
                target_type="pages.page",
                target_id=page.slug,
                data={"fields": changed},
            )
    return page


def restore_default_page(*, actor: Any, page: Page, request: HttpRequest | None = None) -> Page:
    """Put the installation's default titles and texts back (both languages)."""
    default = DEFAULT_PAGES[page.slug]
    return update_page(
        actor=actor,
        page=page,
        request=request,
        title_en=default.title_en,
        title_zh=default.title_zh,
        body_en=default.body_en,
        body_zh=default.body_zh,
    )
