"""Who may act and what an author may type: the limits and editable fields of an advisory, and the cleaning
every service applies before it writes (titles, texts, CVSS vectors, CWE, identifiers, references, the
affected table). Bad input raises `InvalidInput` with a message the author can act on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.advisories.access import can_edit_advisory
from psirt.advisories.exceptions import (
    InvalidInput,
    NotAllowed,
)
from psirt.advisories.models import Advisory
from psirt.cases.models import Exploitation
from psirt.catalog.models import FirmwareRelease, Product
from psirt.lib.cvss import CvssError, decisive_rating, score_vector
from psirt.lib.cwe import lookup as lookup_cwe
from psirt.lib.references import InvalidReference, classify_identifier, normalise_advisory_url

MAX_TITLE = 200


MAX_TEXT = 50_000


MAX_SUMMARY = 500


MAX_REASON = 2000


MAX_LIST_ITEMS = 50


TEXT_FIELDS = (
    "summary_en",
    "summary_zh",
    "description_en",
    "description_zh",
    "impact_en",
    "impact_zh",
    "workarounds_en",
    "workarounds_zh",
    "actions_en",
    "actions_zh",
    "credits_en",
    "credits_zh",
)


EDITABLE_FIELDS = frozenset(
    {
        "title_en",
        "title_zh",
        *TEXT_FIELDS,
        "cvss31_vector",
        "cvss40_vector",
        "cwe_id",
        "exploitation",
        "exploitation_aware_at",
        "identifiers",
        "reference_urls",
        "mitigation_sufficient",
        "public_concern",
    }
)


@dataclass(frozen=True)
class AffectedInput:
    """One row of the affected table: a product (and variant), first affected and fixing release."""

    product: Product
    variant: str = ""
    introduced: FirmwareRelease | None = None
    fixed: FirmwareRelease | None = None


def require_editor(actor: User, advisory: Advisory) -> None:
    if not can_edit_advisory(actor, advisory):
        raise NotAllowed(_("Only a lead or a handler of one of this advisory's cases can change it."))


def clean_line(value: object, *, label: str, limit: int, required: bool = False) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise InvalidInput(_("%(field)s is required.") % {"field": label})
    if len(text) > limit:
        raise InvalidInput(_("%(field)s is too long (at most %(n)d characters).") % {"field": label, "n": limit})
    return text


def clean_text(value: object, *, label: str) -> str:
    text = str(value or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(_("%(field)s is too long (at most %(n)d characters).") % {"field": label, "n": MAX_TEXT})
    return text


def clean_vector(value: object, version: str) -> tuple[str, Decimal | None]:
    text = str(value or "").strip()
    if not text:
        return "", None
    try:
        result = score_vector(text)
    except CvssError as exc:
        raise InvalidInput(_("CVSS v%(v)s vector: %(msg)s") % {"v": version, "msg": exc.message}) from None
    if result.version != version:
        raise InvalidInput(_("This field takes a CVSS v%(v)s vector (CVSS:%(v)s/…).") % {"v": version})
    return result.vector, Decimal(str(result.base))


def _clean_identifiers(value: object) -> str:
    items = value if isinstance(value, list | tuple) else str(value or "").replace(",", "\n").split()
    out: list[str] = []
    for item in items:
        if not str(item).strip():
            continue
        try:
            _kind, canonical = classify_identifier(str(item))
        except InvalidReference as exc:
            raise InvalidInput(f"{str(item)[:40]}: {exc.message}") from None
        if canonical not in out:
            out.append(canonical)
    if len(out) > MAX_LIST_ITEMS:
        raise InvalidInput(_("At most %(n)d identifiers per advisory.") % {"n": MAX_LIST_ITEMS})
    return "\n".join(out)


def _clean_urls(value: object) -> str:
    items = value if isinstance(value, list | tuple) else str(value or "").split()
    out: list[str] = []
    for item in items:
        if not str(item).strip():
            continue
        try:
            url = normalise_advisory_url(str(item))
        except InvalidReference as exc:
            raise InvalidInput(exc.message) from None
        if url not in out:
            out.append(url)
    if len(out) > MAX_LIST_ITEMS:
        raise InvalidInput(_("At most %(n)d references per advisory.") % {"n": MAX_LIST_ITEMS})
    return "\n".join(out)


def _clean_cwe(value: int | str | None) -> int | None:
    if value in (None, ""):
        return None
    entry = lookup_cwe(value)
    if entry is None:
        raise InvalidInput(_("Choose a CWE from the list (e.g. CWE-79)."))
    return int(entry.id)


def _clean_moment(value: object) -> dt.datetime | None:
    """A date and time with its zone (a naive one is taken as local time), never in the future."""
    if value in (None, ""):
        return None
    try:
        moment = value if isinstance(value, dt.datetime) else parse_datetime(str(value)[:40])
    except ValueError:
        moment = None
    if moment is None:
        raise InvalidInput(_("Give the awareness time as a date and time, e.g. 2026-03-01 14:30."))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > timezone.now() + dt.timedelta(minutes=5):
        raise InvalidInput(_("The team cannot become aware in the future."))
    return moment


def clean_changes(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(_("These fields cannot be changed here: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "title_en":
            clean[name] = clean_line(value, label=_("The English title"), limit=MAX_TITLE, required=True)
        elif name == "title_zh":
            clean[name] = clean_line(value, label=_("The Chinese title"), limit=MAX_TITLE)
        elif name in TEXT_FIELDS:
            clean[name] = clean_text(value, label=name)
        elif name == "cvss31_vector":
            clean[name], clean["cvss31_base"] = clean_vector(value, "3.1")
        elif name == "cvss40_vector":
            clean[name], clean["cvss40_base"] = clean_vector(value, "4.0")
        elif name == "cwe_id":
            clean[name] = _clean_cwe(value)
        elif name == "exploitation":
            if value not in Exploitation.values:
                raise InvalidInput(_("Choose an exploitation status from the list."))
            clean[name] = value
        elif name == "exploitation_aware_at":
            clean[name] = _clean_moment(value)
        elif name == "identifiers":
            clean[name] = _clean_identifiers(value)
        elif name == "reference_urls":
            clean[name] = _clean_urls(value)
        elif name in ("mitigation_sufficient", "public_concern"):
            clean[name] = bool(value)
    return clean


def apply_scores(advisory: Advisory) -> None:
    """The advisory's severity and sort score follow the one severity rule (`decisive_rating`: the v4.0 base +
    threat score when a v4.0 vector is set, else the v3.1 temporal score), as the case's do; no vector, no
    severity. A stored vector that no longer parses is refused with the reason, so it gets re-entered."""
    try:
        rating = decisive_rating(advisory.cvss31_vector, advisory.cvss40_vector)
    except CvssError as exc:
        raise InvalidInput(_("CVSS vector: %(msg)s") % {"msg": exc.message}) from None
    advisory.score = rating.score if rating else None
    advisory.severity = rating.severity if rating else ""


def validate_affected(rows: Sequence[AffectedInput]) -> list[AffectedInput]:
    seen: set[tuple[int, str]] = set()
    out = []
    if len(rows) > 200:
        raise InvalidInput(_("At most 200 affected products per advisory."))
    for row in rows:
        variant = clean_line(row.variant, label=_("Variant"), limit=100)
        key = (row.product.pk, variant)
        if key in seen:
            raise InvalidInput(
                _("%(product)s appears twice in the affected products; keep one row.") % {"product": row.product.name}
            )
        seen.add(key)
        for release in (row.introduced, row.fixed):
            if release is not None and (release.product_id != row.product.pk or release.variant != variant):
                raise InvalidInput(
                    _("Release %(v)s is not a release of %(product)s%(variant)s.")
                    % {
                        "v": release.version,
                        "product": row.product.name,
                        "variant": f" ({variant})" if variant else "",
                    }
                )
        if row.introduced is not None and row.fixed is not None and row.fixed.position <= row.introduced.position:
            raise InvalidInput(
                _("For %(product)s the fixing release must be newer than the first affected release.")
                % {"product": row.product.name}
            )
        out.append(AffectedInput(product=row.product, variant=variant, introduced=row.introduced, fixed=row.fixed))
    return out


# Derived from the vectors: never stored in a pending revision, recomputed when it is applied.
DERIVED_FIELDS = frozenset({"cvss31_base", "cvss40_base"})


def storable_changes(clean: dict[str, Any]) -> dict[str, Any]:
    """Cleaned changes as a pending revision keeps them (JSON values, nothing derived); `clean_changes` accepts
    them again unchanged when the revision is applied."""
    return {
        name: value.isoformat() if isinstance(value, dt.datetime) else value
        for name, value in clean.items()
        if name not in DERIVED_FIELDS
    }


def affected_to_json(rows: Sequence[AffectedInput]) -> list[dict[str, Any]]:
    """An affected table as a pending revision keeps it: ids only."""
    return [
        {
            "product": row.product.pk,
            "variant": row.variant,
            "introduced": row.introduced.pk if row.introduced is not None else None,
            "fixed": row.fixed.pk if row.fixed is not None else None,
        }
        for row in rows
    ]


def affected_from_json(data: Sequence[dict[str, Any]]) -> list[AffectedInput]:
    """The rows a pending revision keeps, as catalog objects; a product or release deleted since is refused."""
    products = Product.objects.in_bulk({row["product"] for row in data})
    releases = FirmwareRelease.objects.in_bulk(
        {row[key] for row in data for key in ("introduced", "fixed") if row.get(key) is not None}
    )
    out = []
    for row in data:
        product = products.get(row["product"])
        introduced = releases.get(row["introduced"]) if row.get("introduced") is not None else None
        fixed = releases.get(row["fixed"]) if row.get("fixed") is not None else None
        missing_release = (row.get("introduced") is not None and introduced is None) or (
            row.get("fixed") is not None and fixed is None
        )
        if product is None or missing_release:
            raise InvalidInput(
                _("A product or release of the revised affected table is no longer in the catalog; edit the table.")
            )
        out.append(AffectedInput(product=product, variant=row.get("variant", ""), introduced=introduced, fixed=fixed))
    return validate_affected(out)


def current_affected(advisory: Advisory) -> list[AffectedInput]:
    """The advisory's affected table as stored on its row."""
    return [
        AffectedInput(product=row.product, variant=row.variant, introduced=row.introduced, fixed=row.fixed)
        for row in advisory.affected.select_related("product", "introduced", "fixed").order_by("id")
    ]
