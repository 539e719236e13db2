"""“Am I affected?”: a product and a firmware version → the published advisories that affect it, with
the lowest release that fixes all of them. Shared by the public page and `GET /api/v1/affected`.

Versions are ordered by the catalog's `position`, never by comparing version strings. A version that is not
in the catalog is answered honestly: we cannot place it in the order, so we say so and name the nearest known
releases by a natural reading of the version text, clearly labelled as a guess. Three queries per answer.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from psirt.advisories.models import SEVERITY_RANK, Advisory, AdvisoryState, AffectedProduct
from psirt.catalog.models import FirmwareRelease, Product

MAX_VERSION_CHARS = 100
MAX_PRODUCT_QUERY = 100


def normalise_version(text: str) -> str:
    """Compare versions as people type them: trimmed, case-folded, full-width folded, an optional leading
    "v" ignored ("v5.5.0" = "V5.5.0" = "5.5.0")."""
    value = unicodedata.normalize("NFKC", text).strip().casefold()
    value = " ".join(value.split())
    return value[1:] if value.startswith("v") and value[1:2].isdigit() else value


def _natural_key(text: str) -> tuple[Any, ...]:
    """A guess at version order for versions the catalog does not know: digit runs compare as numbers."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|[^\d.\-_ ]+", text))


@dataclass
class AffectedQuery:
    """The question as asked (GET parameters of the page or the API), with field errors."""

    product_slug: str = ""
    release_id: str = ""
    version: str = ""
    product_q: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Any) -> AffectedQuery:
        q = cls()
        slug = str(params.get("product", "") or "")
        if slug and (len(slug) > 80 or not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug)):
            q.errors["product"] = _("Choose a product from the list.")
        else:
            q.product_slug = slug
        release = str(params.get("release", "") or "")
        if release:
            try:
                q.release_id = str(uuid.UUID(release))
            except ValueError:
                q.errors["release"] = _("Choose a version from the list, or type it.")
        version = str(params.get("version", "") or "")
        if len(version) > MAX_VERSION_CHARS:
            q.errors["version"] = _("A firmware version has at most %(n)d characters.") % {"n": MAX_VERSION_CHARS}
        else:
            q.version = "".join(ch for ch in version if unicodedata.category(ch)[0] != "C").strip()
        product_q = str(params.get("q", "") or "")
        if len(product_q) > MAX_PRODUCT_QUERY:
            q.errors["q"] = _("The search text is too long (at most %(n)d characters).") % {"n": MAX_PRODUCT_QUERY}
        else:
            q.product_q = " ".join(product_q.split())
        return q

    @property
    def ready(self) -> bool:
        return bool(self.product_slug and (self.release_id or self.version) and not self.errors)


@dataclass
class Hit:
    """One advisory that affects the version asked about."""

    advisory: Advisory
    row: AffectedProduct

    @property
    def fixed(self) -> FirmwareRelease | None:
        return self.row.fixed


@dataclass
class AffectedAnswer:
    product: Product | None
    version: str
    release: FirmwareRelease | None = None
    hits: list[Hit] = field(default_factory=list)
    update_to: FirmwareRelease | None = None
    update_is_clean: bool = False
    latest: FirmwareRelease | None = None
    older: FirmwareRelease | None = None
    newer: FirmwareRelease | None = None
    unknown_product: bool = False
    # Every public release of the product (variant, then catalog order): the page's version list reuses it.
    releases: list[FirmwareRelease] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return self.release is not None

    @property
    def unfixed(self) -> list[Hit]:
        return [h for h in self.hits if h.fixed is None]


def _public_product(slug: str) -> Product | None:
    return Product.objects.filter(slug=slug, is_public=True).select_related("line").first()


def _rows(product: Product) -> list[AffectedProduct]:
    return list(
        AffectedProduct.objects.filter(product=product, advisory__state=AdvisoryState.PUBLISHED)
        .select_related("advisory", "introduced", "fixed")
        .order_by("-advisory__published_at")
    )


def check_affected(query: AffectedQuery) -> AffectedAnswer:
    """Answer the question (see the module docstring)."""
    product = _public_product(query.product_slug)
    if product is None:
        return AffectedAnswer(product=None, version=query.version, unknown_product=True)
    releases = list(FirmwareRelease.objects.filter(product=product, is_public=True).order_by("variant", "position"))
    release = None
    # A typed version wins over the list: people type when the list does not show what their device says.
    if query.release_id and not query.version:
        release = next((r for r in releases if str(r.public_id) == query.release_id), None)
    if release is None and query.version:
        wanted = normalise_version(query.version)
        matches = [r for r in releases if normalise_version(r.version) == wanted]
        # The standard build first when a version exists in several variants.
        release = min(matches, key=lambda r: (r.variant != "", r.variant), default=None)
    version = release.version if release is not None else query.version
    answer = AffectedAnswer(product=product, version=version, release=release, releases=releases)
    if release is None:
        _nearest(answer, releases, query.version)
        return answer
    variant_releases = [r for r in releases if r.variant == release.variant]
    answer.latest = variant_releases[-1] if variant_releases else None
    rows = [r for r in _rows(product) if r.variant == release.variant]
    answer.hits = sorted(
        (Hit(advisory=r.advisory, row=r) for r in rows if r.affects_position(release.position)),
        key=lambda h: (-SEVERITY_RANK.get(h.advisory.severity, -1), h.advisory.advisory_id),
    )
    newer = [r for r in variant_releases if r.position > release.position]
    if answer.hits:
        # Lowest newer release outside every published range of this product; else the lowest one that
        # at least leaves every advisory affecting this version behind.
        clean = next((r for r in newer if not any(row.affects_position(r.position) for row in rows)), None)
        fixes_all = next((r for r in newer if not any(h.row.affects_position(r.position) for h in answer.hits)), None)
        answer.update_to = clean or fixes_all
        answer.update_is_clean = clean is not None
    return answer


def _nearest(answer: AffectedAnswer, releases: list[FirmwareRelease], typed: str) -> None:
    """For a version the catalog does not know: the nearest known releases by a natural reading of the text."""
    standard = [r for r in releases if r.variant == ""] or releases
    if not standard:
        return
    answer.latest = max(standard, key=lambda r: r.position)
    key = _natural_key(normalise_version(typed))
    ordered = sorted(standard, key=lambda r: _natural_key(normalise_version(r.version)))
    older = [r for r in ordered if _natural_key(normalise_version(r.version)) < key]
    newer = [r for r in ordered if _natural_key(normalise_version(r.version)) > key]
    answer.older = older[-1] if older else None
    answer.newer = newer[0] if newer else None


def product_choices(query: AffectedQuery, answer: AffectedAnswer | None = None) -> dict[str, Any]:
    """The form in two steps. Until a product is chosen: the product list as (slug, label) pairs, filtered by
    the search text. Once one is chosen: that product and its versions only, newest first — the list of every
    product is not sent again (with a large catalog it would be most of the page)."""
    chosen = answer.product if answer is not None else None
    if chosen is None and query.product_slug and "product" not in query.errors:
        chosen = _public_product(query.product_slug)
    if chosen is not None:
        releases = (
            answer.releases
            if answer is not None and answer.product is not None
            else list(FirmwareRelease.objects.filter(product=chosen, is_public=True).order_by("variant", "position"))
        )
        versions = sorted(releases, key=lambda r: (r.variant, -r.position))
        return {"products": [], "chosen": chosen, "versions": versions}
    products = Product.objects.filter(is_public=True).order_by("line__position", "name")
    if query.product_q:
        term = query.product_q
        products = products.filter(Q(name__icontains=term) | Q(model_numbers__icontains=term) | Q(slug__icontains=term))
    pairs = [
        (slug, f"{name} ({models})" if models else name)
        for slug, name, models in products.values_list("slug", "name", "model_numbers")[:2000]
    ]
    return {"products": pairs, "chosen": None, "versions": []}
