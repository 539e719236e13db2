"""Fixtures of the export tests: a site with published advisories in both languages, its CSAF tree written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.models import Advisory
from psirt.advisories.tests.conftest import (
    approve,
    case,
    committed,
    draft,
    line,
    make_case,
    product,
    releases,
    yesterday,
)
from psirt.catalog.models import FirmwareRelease, Product

__all__ = ["case", "committed", "draft", "line", "product", "releases", "yesterday"]

APP_URL = "https://app.psirt.test"


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path, signing_key_file: Path) -> Path:
    settings.PSIRT_VAR_DIR = tmp_path / "var"
    settings.PSIRT_SIGNING_KEY_FILE = str(signing_key_file)
    settings.PSIRT_APP_URL = APP_URL
    return tmp_path / "var"


def publish_new(
    *,
    product: Product,
    releases: dict[str, FirmwareRelease],
    lead: User,
    handler: User,
    committed: Callable[..., Any],
    title: str,
) -> Advisory:
    """One more published advisory on `product`, through the services, with its CSAF documents written."""
    from django.utils import timezone

    case = make_case(product=product, disclosure_date=timezone.localdate(), assignee=handler, title=title)
    advisory = services.create_advisory(cases=[case], actor=lead)
    advisory = services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={"summary_en": f"{title}: a crafted request.", "title_zh": f"{title}（中文）", "summary_zh": "摘要"},
        affected=[services.AffectedInput(product=product, introduced=releases["V5.5.0"], fixed=releases["V5.6.0"])],
    )
    result: Advisory = committed(services.publish_advisory, advisory=approve(advisory, lead), actor=lead)
    return result


@pytest.fixture
def site(
    var_dir: Path,
    draft: Advisory,
    product: Product,
    releases: dict[str, FirmwareRelease],
    lead: User,
    handler: User,
    committed: Callable[..., Any],
) -> list[Advisory]:
    """Three published advisories (the first with a Chinese text) on one product line."""
    first: Advisory = committed(services.publish_advisory, advisory=approve(draft, lead), actor=lead)
    others = [
        publish_new(product=product, releases=releases, lead=lead, handler=handler, committed=committed, title=title)
        for title in ("Stored XSS in the viewer", "Path traversal in the firmware upload")
    ]
    return [first, *others]
