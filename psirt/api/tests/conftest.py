"""Fixtures of the API tests: the demo data set (published, revised, withdrawn and draft advisories over a
catalog with public and unlisted rows), loaded through the same services as `psirt demo`."""

from __future__ import annotations

from typing import Any

import pytest

from psirt.advisories.models import Advisory
from psirt.demo import catalog as catalog_demo
from psirt.demo.advisories import load_demo_advisories


def load_demo(settings: Any) -> None:
    settings.PSIRT_DEMO_PASSWORD = "demo-password-Quokka-42"
    lines: list[str] = []
    catalog_demo.load_organization(lines.append)
    catalog_demo.load_catalog(lines.append)
    catalog_demo.load_accounts(lines.append)
    load_demo_advisories(lines.append)


@pytest.fixture
def demo(db: None, settings: Any) -> dict[str, Advisory]:
    """The demo data; returns one advisory per state (published, withdrawn, draft), the published one revised."""
    load_demo(settings)
    published = (
        Advisory.objects.filter(state="published", revisions__number=2).order_by("advisory_id").distinct().first()
    )
    assert published is not None
    return {
        "published": published,
        "withdrawn": Advisory.objects.get(state="withdrawn"),
        "draft": Advisory.objects.filter(state="draft").first(),  # type: ignore[dict-item]
    }
