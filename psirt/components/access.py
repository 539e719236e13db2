"""Who may see and decide what about components (need-to-know).

Which components a firmware contains and which third-party vulnerabilities it is exposed to is confidential until a
decision is published. Leads see every release; every other staff member sees the releases of the product lines
they belong to (`User.product_lines`, as for cases) and may record decisions on them. To anyone else such a release
does not exist on the desk: 404, and the attempt is audited. Uploading an SBOM is a catalog change: leads and
handlers (`psirt.catalog.access.can_edit_catalog`), within the same visibility."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from psirt.accounts.access import Viewer, active_account
from psirt.audit.services import deny_access
from psirt.catalog.access import can_edit_catalog
from psirt.catalog.models import FirmwareRelease


def visible_releases(user: Viewer) -> QuerySet[FirmwareRelease]:
    """Every release whose components and decisions `user` may see, as one query."""
    account = active_account(user)
    if account is None:
        return FirmwareRelease.objects.none()
    if account.is_lead:
        return FirmwareRelease.objects.all()
    return FirmwareRelease.objects.filter(product__line__in=account.product_lines.values("pk"))


def can_view_release(user: Viewer, release: FirmwareRelease) -> bool:
    account = active_account(user)
    if account is None:
        return False
    return account.is_lead or account.product_lines.filter(pk=release.product.line_id).exists()


def can_decide(user: Viewer, release: FirmwareRelease) -> bool:
    """Leads and members of the release's product line record VEX decisions: the line's engineers know whether
    vulnerable code is present or reachable."""
    return can_view_release(user, release)


def can_upload_sbom(user: Viewer, release: FirmwareRelease) -> bool:
    account = active_account(user)
    return account is not None and can_edit_catalog(account) and can_view_release(account, release)


def has_component_desk(user: Viewer) -> bool:
    """Leads, and staff with at least one product line; to others the components desk does not exist."""
    account = active_account(user)
    return account is not None and (account.is_lead or account.product_lines.exists())


def get_release_for(user: Viewer, public_id: object, *, request: HttpRequest | None = None) -> FirmwareRelease:
    """The release with this public id if `user` may see its components; Http404 otherwise (audited when it
    exists)."""
    try:
        key = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except (ValueError, TypeError, AttributeError):
        raise Http404 from None
    release = FirmwareRelease.objects.select_related("product", "product__line").filter(public_id=key).first()
    if release is None:
        raise Http404
    if not can_view_release(user, release):
        deny_access(user=user, target=release, request=request)
    return release
