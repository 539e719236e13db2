"""What a notification says about an advisory, independent of the advisory model.

`AdvisoryNotice` carries only public facts (the advisory is published when anyone is notified); it is stored
as JSON in each delivery row, so a mail or webhook sent later says what was true when it was queued.
`notice_from_advisory` is the one adapter from `psirt.advisories.models.Advisory`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.urls import reverse
from django.utils import translation

from psirt.lib.http import absolute_url


@dataclass(frozen=True)
class AdvisoryNotice:
    """The essentials of one advisory for subscribers, customers and webhooks."""

    id: str  # the public advisory ID, e.g. VT-SA-2026-004
    title_en: str
    title_zh: str = ""
    summary_en: str = ""
    summary_zh: str = ""
    severity: str = ""  # None/Low/Medium/High/Critical, "" when unscored
    product_slugs: tuple[str, ...] = field(default_factory=tuple)
    product_line_slugs: tuple[str, ...] = field(default_factory=tuple)
    url: str = ""  # absolute URL of the public page (English)
    csaf_url: str = ""  # absolute URL of the CSAF document
    cves: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("product_slugs", "product_line_slugs", "cves"):
            data[name] = list(data[name])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AdvisoryNotice:
        known = {f: data[f] for f in cls.__dataclass_fields__ if f in data}
        for name in ("product_slugs", "product_line_slugs", "cves"):
            if name in known:
                known[name] = tuple(known[name])
        return cls(**known)

    def title_for(self, language: str) -> str:
        return self.title_zh if language.startswith("zh") and self.title_zh else self.title_en

    def summary_for(self, language: str) -> str:
        return self.summary_zh if language.startswith("zh") and self.summary_zh else self.summary_en

    def url_for(self, language: str) -> str:
        """The public page in the reader's language (the URL carries the language prefix)."""
        if language.startswith("zh") and "/en/" in self.url:
            return self.url.replace("/en/", "/zh-hans/", 1)
        return self.url


def notice_from_advisory(advisory: Any) -> AdvisoryNotice:
    """Adapter from `psirt.advisories.models.Advisory` (affected rows → product and line slugs)."""
    rows = advisory.affected.select_related("product__line")
    products = sorted({row.product.slug for row in rows})
    lines = sorted({row.product.line.slug for row in rows})
    with translation.override("en"):
        page = reverse("advisories:detail", args=[advisory.advisory_id])
    return AdvisoryNotice(
        id=advisory.advisory_id,
        title_en=advisory.title_en,
        title_zh=advisory.title_zh,
        summary_en=advisory.summary_en,
        summary_zh=advisory.summary_zh,
        severity=advisory.severity or "",
        product_slugs=tuple(products),
        product_line_slugs=tuple(lines),
        url=absolute_url(page),
        # The machine-readable document lives next to the page: /advisories/<ID>/csaf.json.
        csaf_url=absolute_url(f"/advisories/{advisory.advisory_id}/csaf.json"),
        cves=tuple(advisory.cve_ids),
    )
