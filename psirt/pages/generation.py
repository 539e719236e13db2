"""The site generation: a token that every change of anything a cached public page shows, other than the
advisories themselves (they have their own stamp), replaces — catalog (product lines, products, firmware
releases), the organization profile and the editable pages, and whatever apps above add with `track` (VEX
decisions, SBOMs). The public page cache (`psirt.pages.pagecache`)
serves a stored page only while the token it was rendered under is still the current one, in every process.

The token is replaced inside the transaction of the change (an UPDATE of one row): a rolled-back change leaves the
old token, which still matches the old data, and a committed one moves data and token at the same instant. On
PostgreSQL the row stays locked until the change commits, so catalog, profile and page writes queue behind each
other (they are rare and short); readers never wait.

Driven by post_save/post_delete signals (connected in `PagesConfig.ready`). Signals are the exception to the house
style on purpose: this is cache invalidation, not business logic, and a signal cannot be forgotten by the next
code path that saves a product (the admin, the importer, the demo loader, the services). Writes that bypass
signals (QuerySet.update(), bulk_create/bulk_update, raw SQL) must call `bump()` themselves."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest

from psirt.catalog.models import FirmwareRelease, Product, ProductLine
from psirt.lib.kept import Kept
from psirt.organization.models import OrganizationProfile
from psirt.pages.models import Page, SiteGeneration

T = TypeVar("T")

# Values computed from the database, kept per process under the version (advisory stamp and site generation) they
# were read under; see `kept`.
KEPT_MAX_ENTRIES = 256
KEPT_MAX_AGE = 60.0  # seconds: a raw edit that moves no version still shows within a minute
_kept = Kept(max_entries=KEPT_MAX_ENTRIES, max_age=KEPT_MAX_AGE)


def kept(version: str, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, read once per process for each `version` — a page-cache version, which moves with every change
    of what the page shows, so the next request after a change reads afresh — and `key` (the arguments the value
    depends on besides the data), for at most KEPT_MAX_AGE seconds. The value must not be changed by the caller."""
    return _kept.get(version, key, compute)


# The request attribute where a view that read the site generation token (with its page-cache version) leaves it.
GENERATION_ATTRIBUTE = "_psirt_site_token"


def note(request: HttpRequest, token: str | None) -> None:
    """Remember on the request the site generation token read with the page's version (see `kept_for`)."""
    setattr(request, GENERATION_ATTRIBUTE, token or "-")


def kept_for(request: HttpRequest, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` of data the site generation covers (catalog, profile, pages), kept under the token the view
    read for this request (`note`); computed afresh when the request read none."""
    token: str | None = request.__dict__.get(GENERATION_ATTRIBUTE)
    return compute() if token is None else kept(f"site:{token}", key, compute)


def organization_profile(request: HttpRequest) -> OrganizationProfile:
    """The organization profile, kept under the site generation the view read (`kept_for`). The instance is
    shared: read only."""
    return kept_for(request, "organization-profile", OrganizationProfile.get)


def _table(using: str) -> str:
    return connections[using].ops.quote_name(SiteGeneration._meta.db_table)


def token_sql(using: str = DEFAULT_DB_ALIAS) -> str:
    """A scalar subquery giving the current token (NULL before the first change), to add to a statement the
    caller runs anyway: a cache hit stays one query."""
    return f"(SELECT token FROM {_table(using)} WHERE id = 1)"  # noqa: S608 — a quoted table name, no input


def bump(using: str = DEFAULT_DB_ALIAS) -> None:
    """Replace the token (and count the change), inside the caller's transaction when there is one."""
    token = secrets.token_hex(16)
    sql = f"UPDATE {_table(using)} SET n = n + 1, token = %s WHERE id = 1"  # noqa: S608 — quoted table name
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [token])
        if cursor.rowcount:
            return
    # The row is gone (a flushed database): put it back, then count. Another process may be doing the same; the
    # update after the conflict-tolerant insert makes sure this change still replaces the token.
    SiteGeneration.objects.using(using).bulk_create([SiteGeneration(id=1, n=0, token="")], ignore_conflicts=True)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [token])


def current() -> tuple[int, str]:
    """(count, token) now; (0, "") before the first change."""
    row = SiteGeneration.objects.filter(id=1).values_list("n", "token").first()
    return row if row is not None else (0, "")


def _changed(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    bump(using)


def tracked_models() -> list[type[models.Model]]:
    """The models whose rows cached public pages show (besides advisories)."""
    return [ProductLine, Product, FirmwareRelease, OrganizationProfile, Page]


def track(model: type[models.Model]) -> None:
    """Replace the token with every save and delete of `model` too. Apps above pages whose rows public pages
    show (components: VEX decisions and SBOMs on the public release page) call it from their `AppConfig.ready`."""
    post_save.connect(_changed, sender=model, dispatch_uid=f"site-generation-save-{model._meta.label_lower}")
    post_delete.connect(_changed, sender=model, dispatch_uid=f"site-generation-delete-{model._meta.label_lower}")


def connect() -> None:
    for model in tracked_models():
        track(model)
