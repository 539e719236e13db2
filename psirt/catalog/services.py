"""Every change to the catalog. The desk views, the admin, the API and `psirt demo` call these; each validates
the row, saves it and writes its audit event in one transaction.

Validation problems raise Django's `ValidationError` (field → messages, so forms can show them next to the
field); refusals that are not about one field raise a `CatalogError` whose message says what to do instead."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Max, ProtectedError, RestrictedError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from psirt.accounts.models import User
from psirt.audit.services import record
from psirt.catalog.exceptions import CatalogConflict, CatalogInUse
from psirt.catalog.models import MAX_POSITION, FirmwareRelease, Product, ProductLine
from psirt.lib.changes import apply_changes

LINE_FIELDS = frozenset(
    {"slug", "name_en", "name_zh", "description_en", "description_zh", "position", "eu_member_states"}
)
PRODUCT_FIELDS = frozenset(
    {
        "line",
        "slug",
        "name",
        "model_numbers",
        "hardware_revisions",
        "description_en",
        "description_zh",
        "end_of_support",
        "is_public",
    }
)
RELEASE_FIELDS = frozenset(
    {"version", "variant", "position", "release_date", "download_url", "notes_en", "notes_zh", "is_public"}
)


def _save(
    obj: models.Model, *, action: str, actor: User | None, request: HttpRequest | None, data: dict[str, Any]
) -> None:
    obj.full_clean()
    try:
        with transaction.atomic():
            obj.save()
            record(action=action, actor=actor, request=request, target=obj, data=data)
    except IntegrityError:
        # full_clean checked uniqueness a moment ago; only a concurrent save gets here.
        raise CatalogConflict(
            _("Someone saved a clashing entry at the same moment. Reload the page and try again.")
        ) from None


def _delete(
    obj: models.Model, *, action: str, actor: User | None, request: HttpRequest | None, data: dict[str, Any]
) -> None:
    target_type = obj._meta.label_lower
    target_id = str(getattr(obj, "public_id", None) or getattr(obj, "slug", None) or obj.pk)
    try:
        with transaction.atomic():
            obj.delete()
            record(action=action, actor=actor, request=request, target_type=target_type, target_id=target_id, data=data)
    except (ProtectedError, RestrictedError):
        raise CatalogInUse(
            _(
                "This entry cannot be deleted because reports, cases or advisories refer to it. "
                "Untick “listed publicly” to hide it from the public pages instead."
            )
        ) from None


# Product lines -------------------------------------------------------------------------------------------


def create_product_line(
    *,
    actor: User | None,
    slug: str,
    name_en: str,
    name_zh: str = "",
    description_en: str = "",
    description_zh: str = "",
    position: int = 0,
    eu_member_states: str = "",
    request: HttpRequest | None = None,
) -> ProductLine:
    """Add a product line."""
    line = ProductLine(
        slug=slug,
        name_en=name_en,
        name_zh=name_zh,
        description_en=description_en,
        description_zh=description_zh,
        position=position,
        eu_member_states=eu_member_states,
    )
    _save(line, action="catalog.line.create", actor=actor, request=request, data={"slug": slug})
    return line


def update_product_line(
    *, actor: User | None, line: ProductLine, request: HttpRequest | None = None, **changes: Any
) -> ProductLine:
    """Change fields of a product line (names from LINE_FIELDS); nothing is written when nothing changed."""
    changed = apply_changes(line, changes, LINE_FIELDS)
    if changed:
        _save(line, action="catalog.line.update", actor=actor, request=request, data={"fields": changed})
    return line


def delete_product_line(*, actor: User | None, line: ProductLine, request: HttpRequest | None = None) -> None:
    """Delete an empty product line. A line with products is refused: its products would be orphaned."""
    count = line.products.count()
    if count:
        raise CatalogInUse(
            ngettext(
                "This product line still has %(count)d product. Move it to another line or delete it first.",
                "This product line still has %(count)d products. Move them to another line or delete them first.",
                count,
            )
            % {"count": count}
        )
    _delete(line, action="catalog.line.delete", actor=actor, request=request, data={"slug": line.slug})


# Products ------------------------------------------------------------------------------------------------


def create_product(
    *,
    actor: User | None,
    line: ProductLine,
    slug: str,
    name: str,
    model_numbers: str = "",
    hardware_revisions: str = "",
    description_en: str = "",
    description_zh: str = "",
    end_of_support: datetime.date | None = None,
    is_public: bool = True,
    request: HttpRequest | None = None,
) -> Product:
    """Add a product to a line."""
    product = Product(
        line=line,
        slug=slug,
        name=name,
        model_numbers=model_numbers,
        hardware_revisions=hardware_revisions,
        description_en=description_en,
        description_zh=description_zh,
        end_of_support=end_of_support,
        is_public=is_public,
    )
    _save(product, action="catalog.product.create", actor=actor, request=request, data={"slug": slug})
    return product


def update_product(
    *, actor: User | None, product: Product, request: HttpRequest | None = None, **changes: Any
) -> Product:
    """Change fields of a product (names from PRODUCT_FIELDS)."""
    changed = apply_changes(product, changes, PRODUCT_FIELDS)
    if changed:
        _save(product, action="catalog.product.update", actor=actor, request=request, data={"fields": changed})
    return product


def delete_product(*, actor: User | None, product: Product, request: HttpRequest | None = None) -> None:
    """Delete a product and its firmware releases. Refused when anything else (cases, advisories) refers to
    the product or one of its releases; hiding it from the public list is the alternative."""
    releases = product.releases.count()
    _delete(
        product,
        action="catalog.product.delete",
        actor=actor,
        request=request,
        data={"slug": product.slug, "releases": releases},
    )


# Firmware releases ---------------------------------------------------------------------------------------


def next_release_position(*, product: Product, variant: str = "") -> int:
    """The order number a new, newest release of this product and variant gets by default."""
    top = product.releases.filter(variant=variant).aggregate(top=Max("position"))["top"]
    return min((top or 0) + 1, MAX_POSITION)


def release_conflicts(
    *, product: Product, version: str, variant: str, position: int | None, exclude: FirmwareRelease | None = None
) -> dict[str, str]:
    """Field errors for a release clashing with another release of the same product and variant. Shared by
    the forms and the services so the message is the same wherever the clash is found."""
    others = FirmwareRelease.objects.filter(product=product, variant=variant)
    if exclude is not None and exclude.pk:
        others = others.exclude(pk=exclude.pk)
    variant_label = variant or _("standard build")
    errors: dict[str, str] = {}
    if version and others.filter(version=version).exists():
        errors["version"] = str(
            _("%(product)s already has version %(version)s (%(variant)s).")
            % {"product": product.name, "version": version, "variant": variant_label}
        )
    if position is not None:
        clash = others.filter(position=position).first()
        if clash is not None:
            errors["position"] = str(
                _(
                    "Order %(position)d is already used by %(version)s (%(variant)s). Each release of a product "
                    "and variant needs its own number; higher is newer. The next free number is %(free)d."
                )
                % {
                    "position": position,
                    "version": clash.version,
                    "variant": variant_label,
                    "free": next_release_position(product=product, variant=variant),
                }
            )
    return errors


def _check_release(release: FirmwareRelease) -> None:
    errors = release_conflicts(
        product=release.product,
        version=release.version,
        variant=release.variant,
        position=release.position,
        exclude=release,
    )
    if errors:
        raise ValidationError(errors)


def create_release(
    *,
    actor: User | None,
    product: Product,
    version: str,
    position: int | None = None,
    variant: str = "",
    release_date: datetime.date | None = None,
    download_url: str = "",
    notes_en: str = "",
    notes_zh: str = "",
    is_public: bool = True,
    request: HttpRequest | None = None,
) -> FirmwareRelease:
    """Add a firmware release. Without `position` it becomes the newest release of its product and variant."""
    if position is None:
        position = next_release_position(product=product, variant=variant)
    release = FirmwareRelease(
        product=product,
        version=version,
        variant=variant,
        position=position,
        release_date=release_date,
        download_url=download_url,
        notes_en=notes_en,
        notes_zh=notes_zh,
        is_public=is_public,
    )
    _check_release(release)
    _save(
        release,
        action="catalog.release.create",
        actor=actor,
        request=request,
        data={"product": product.slug, "version": version, "variant": variant},
    )
    return release


def update_release(
    *, actor: User | None, release: FirmwareRelease, request: HttpRequest | None = None, **changes: Any
) -> FirmwareRelease:
    """Change fields of a firmware release (names from RELEASE_FIELDS)."""
    changed = apply_changes(release, changes, RELEASE_FIELDS)
    if changed:
        _check_release(release)
        _save(
            release,
            action="catalog.release.update",
            actor=actor,
            request=request,
            data={"product": release.product.slug, "fields": changed},
        )
    return release


def delete_release(*, actor: User | None, release: FirmwareRelease, request: HttpRequest | None = None) -> None:
    """Delete a firmware release; refused when cases or advisories refer to it."""
    _delete(
        release,
        action="catalog.release.delete",
        actor=actor,
        request=request,
        data={"product": release.product.slug, "version": release.version, "variant": release.variant},
    )
