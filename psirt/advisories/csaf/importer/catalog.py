"""Writing the plan's products into the catalog: product lines, products and firmware releases (created when
missing, in the tree's order), and the affected table's rows with the vendor fix's download link and date."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils.text import slugify

from psirt.advisories.csaf.importer.base import Refused, fit_length, parse_date
from psirt.advisories.csaf.importer.parse import ImportPlan
from psirt.advisories.models import AffectedProduct
from psirt.catalog.models import (
    MAX_POSITION,
    FirmwareRelease,
    Product,
    ProductLine,
    validate_release_date,
)
from psirt.formats import model as fm
from psirt.lib.validators import validate_http_url

# New releases are numbered 10, 20, 30, … so a release named later (a range bound) can go between two of them.
POSITION_STEP = 10


def _unique_slug(model: type[ProductLine] | type[Product], base: str, *, hint: str = "") -> str:
    for candidate in (hint, base):
        candidate = candidate[:80].strip("-")
        valid = bool(candidate) and re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", candidate) is not None
        if valid and not model.objects.filter(slug=candidate).exists():
            return candidate
    stem = (slugify(base)[:70].strip("-") or "imported").lower()
    for n in range(1, 10_000):
        candidate = stem if n == 1 else f"{stem}-{n}"
        if not model.objects.filter(slug=candidate).exists():
            return candidate
    raise Refused("cannot find a free slug for a product")


def catalog_for(plan: ImportPlan) -> dict[tuple[str, str], tuple[Product, dict[tuple[str, str], FirmwareRelease]]]:
    """Product lines, products and releases of the document (created when missing), in the tree's order."""
    out = {}
    lines: dict[str, ProductLine] = {}
    for (line_name, product_name), pp in plan.products.items():
        line = lines.get(line_name) or ProductLine.objects.filter(name_en=line_name).order_by("id").first()
        if line is None:
            position = (ProductLine.objects.aggregate(m=Max("position"))["m"] or 0) + 1
            line = ProductLine.objects.create(
                slug=_unique_slug(ProductLine, slugify(line_name)),
                name_en=line_name,
                position=min(position, MAX_POSITION),
            )
        lines[line_name] = line
        product = Product.objects.filter(line=line, name=product_name).order_by("id").first()
        if product is None:
            product = Product.objects.create(
                line=line,
                slug=_unique_slug(Product, slugify(product_name), hint=pp.slug_hint),
                name=product_name,
                model_numbers=fit_length(", ".join(pp.model_numbers), 500),
                hardware_revisions=fit_length(", ".join(pp.hardware), 200),
            )
        else:
            changed = False
            for attr, values in (("model_numbers", pp.model_numbers), ("hardware_revisions", pp.hardware)):
                have = [v.strip() for v in getattr(product, attr).split(",") if v.strip()]
                merged = have + [v for v in values if v not in have]
                if merged != have:
                    setattr(product, attr, fit_length(", ".join(merged), 500 if attr == "model_numbers" else 200))
                    changed = True
            if changed:
                product.save()
        releases = {(r.variant, r.version): r for r in product.releases.all()}
        position = max((r.position for r in releases.values()), default=0)
        for (variant, version), release_hint in pp.versions.items():
            if (variant, version) in releases:
                continue
            position += POSITION_STEP
            if position > MAX_POSITION:
                raise Refused(f"{product_name} has too many releases to order")
            release = FirmwareRelease(product=product, version=version, variant=variant, position=position)
            if release_hint and not FirmwareRelease.objects.filter(public_id=release_hint).exists():
                release.public_id = release_hint  # psirt's own product IDs name the release: keep them stable
            release.save()
            releases[(variant, version)] = release
        out[(line_name, product_name)] = (product, releases)
    return out


def _range_bounds(text: str) -> tuple[str | None, str | None] | None:
    """(first affected version, fixed version) of a `vers` range, or None when it is not one psirt can bound."""
    try:
        lower, upper, inclusive = fm.VersionRange(text).bounds
    except ValueError:
        return None
    return lower, (None if inclusive else upper)


def _release(
    product: Product,
    releases: dict[tuple[str, str], FirmwareRelease],
    variant: str,
    version: str,
    *,
    below: FirmwareRelease | None = None,
) -> FirmwareRelease:
    """The release `version` of `product` named by a range bound, created when missing: just before `below` (the
    range's upper bound) when there is room between it and the release before it, else after every release."""
    key = (variant, fit_length(version, 100))
    found = releases.get(key)
    if found is not None:
        return found
    same = sorted(r.position for (v, _version), r in releases.items() if v == variant)
    position = (same[-1] if same else 0) + POSITION_STEP
    if below is not None:
        previous = max((p for p in same if p < below.position), default=0)
        if below.position - previous > 1:
            position = below.position - max(1, (below.position - previous) // 2)
    if position > MAX_POSITION:
        raise Refused(f"{product.name} has too many releases to order")
    found = FirmwareRelease.objects.create(product=product, version=key[1], variant=variant, position=position)
    releases[key] = found
    return found


def _vendor_fix_for(
    fix: FirmwareRelease, variant: str, others: set[str], candidates: list[tuple[str, str, str]]
) -> tuple[str, str]:
    """(URL, date) of the vendor fix that is about `fix`: one remediation often names the products of several
    variants (psirt's do), so prefer the one whose text or URL names the fixed version and the variant (and, for
    the standard build, no other variant); the first one when none says."""

    def score(candidate: tuple[str, str, str]) -> int:
        text = f"{candidate[2]} {candidate[0]}"
        points = 2 if fix.version in text else 0
        if variant:
            points += 1 if variant in text else 0
        else:
            points += 0 if any(f"({other})" in text for other in others) else 1
        return points

    best = max(candidates, key=score)  # the first of equals: document order
    return best[0], best[1]


def _fill_release(release: FirmwareRelease, url: str, date: str) -> None:
    """The fixed release's download link and date from the vendor fix, where the catalog has none yet and they are
    ones the catalog accepts (an invalid one stays in the stored document only)."""
    changed = []
    if url and not release.download_url and len(url) <= 500:
        try:
            validate_http_url(url)
        except ValidationError:
            pass
        else:
            release.download_url = url
            changed.append("download_url")
    if date and release.release_date is None:
        try:
            day = parse_date(date, "remediation date").date()
            validate_release_date(day)
        except (Refused, ValidationError):
            pass
        else:
            release.release_date = day
            changed.append("release_date")
    if changed:
        release.save(update_fields=changed)


def affected_rows_for(
    plan: ImportPlan, catalog: dict[tuple[str, str], tuple[Product, dict[tuple[str, str], FirmwareRelease]]]
) -> list[AffectedProduct]:
    rows = []
    for (line_name, product_name, variant), status in plan.statuses.items():
        product, releases = catalog[(line_name, product_name)]

        affected = [v for v in status["known_affected"] if not v.startswith("range:")]
        ranges = [v[len("range:") :] for v in status["known_affected"] if v.startswith("range:")]
        fixed = [releases[(variant, v)] for v in status["first_fixed"] + status["fixed"] if (variant, v) in releases]
        whole = "" in affected
        introduced: FirmwareRelease | None = None
        fix: FirmwareRelease | None = None
        affected_releases = [releases[(variant, v)] for v in affected if v and (variant, v) in releases]
        for text in ranges:
            bounds = _range_bounds(text)
            if bounds is None:
                whole = True
                continue
            lower, upper = bounds
            upper_release = _release(product, releases, variant, upper) if upper is not None else None
            if upper_release is not None:
                fixed.append(upper_release)
            if lower is None:
                whole = True
            else:
                affected_releases.append(_release(product, releases, variant, lower, below=upper_release))
        if affected_releases and not whole:
            introduced = min(affected_releases, key=lambda r: r.position)
            newest = max(r.position for r in affected_releases)
            later = [r for r in fixed if r.position > newest]
            fix = min(later, key=lambda r: r.position) if later else None
        elif whole or affected_releases:
            newest = max((r.position for r in affected_releases), default=0)
            later = [r for r in fixed if r.position > newest]
            fix = min(later, key=lambda r: r.position) if later else None
        elif fixed:
            fix = min(fixed, key=lambda r: r.position)
        else:
            continue  # only "not affected": no row in the affected table
        if fix is not None and (line_name, product_name, variant) in plan.fixes:
            others = {v for v, _version in releases if v and v != variant}
            url, date = _vendor_fix_for(fix, variant, others, plan.fixes[(line_name, product_name, variant)])
            _fill_release(fix, url, date)
        rows.append(AffectedProduct(product=product, variant=variant, introduced=introduced, fixed=fix))
    return rows
