"""Template tags other apps use to show advisories.

`{% load psirt_advisories %}{% advisories_fixed_by release as fixed %}` — the published advisories a
firmware release fixes (the Software updates page). One query per product per rendering, whatever the
number of releases shown."""

from __future__ import annotations

from typing import Any

from django import template

from psirt.advisories.models import Advisory, AdvisoryState, AffectedProduct

register = template.Library()


@register.simple_tag(takes_context=True)
def advisories_fixed_by(context: Any, release: Any) -> list[Advisory]:
    """Published advisories whose affected table names `release` as the release that fixes it."""
    product_id = getattr(release, "product_id", None)
    if product_id is None:
        return []
    cache: dict[int, dict[int, list[Advisory]]] = context.render_context.setdefault("psirt_advisories_fixed_by", {})
    if product_id not in cache:
        by_release: dict[int, list[Advisory]] = {}
        rows = (
            AffectedProduct.objects.filter(
                product_id=product_id, advisory__state=AdvisoryState.PUBLISHED, fixed__isnull=False
            )
            .select_related("advisory")
            .order_by("-advisory__published_at")
        )
        for row in rows:
            advisories = by_release.setdefault(row.fixed_id, [])  # type: ignore[arg-type]
            if row.advisory not in advisories:
                advisories.append(row.advisory)
        cache[product_id] = by_release
    return cache[product_id].get(release.pk, [])
