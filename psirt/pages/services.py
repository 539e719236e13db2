"""Changes to the public pages, each audited in the same transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from psirt.accounts.models import User
from psirt.audit.services import record
from psirt.lib.changes import apply_changes
from psirt.pages.defaults import DEFAULT_PAGES
from psirt.pages.models import Page

PAGE_FIELDS = frozenset({"title_en", "title_zh", "body_en", "body_zh"})


def update_page(*, actor: User | None, page: Page, request: HttpRequest | None = None, **changes: Any) -> Page:
    """Change a page's titles and texts (names from PAGE_FIELDS). Raises ValidationError on bad values."""
    changed = apply_changes(page, changes, PAGE_FIELDS)
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


def restore_default_page(*, actor: User | None, page: Page, request: HttpRequest | None = None) -> Page:
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
