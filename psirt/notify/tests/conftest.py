"""Fixtures of the notification tests: a small catalog, confirmed subscribers, an advisory notice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from psirt.notify.models import Subscription
from psirt.notify.services import AdvisoryNotice, email_hash
from psirt.tests.factories import make_line, make_product


@pytest.fixture
def catalog(db: None) -> dict[str, Any]:
    cams = make_line(name_en="Cameras", name_zh="摄像机")
    routers = make_line("routers", "Routers", name_zh="路由器")
    return {
        "cameras": cams,
        "routers": routers,
        "cam-1": make_product(cams, "cam-1", "Cam 1"),
        "cam-2": make_product(cams, "cam-2", "Cam 2"),
        "rt-1": make_product(routers, "rt-1", "Router 1"),
    }


@pytest.fixture
def subscriber(catalog: dict[str, Any]) -> Callable[..., Subscription]:
    def make(
        email: str,
        *,
        products: tuple[str, ...] = (),
        lines: tuple[str, ...] = (),
        everything: bool = False,
        min_severity: str = "None",
        language: str = "en",
        confirmed: bool = True,
    ) -> Subscription:
        sub = Subscription.objects.create(
            email=email,
            email_hash=email_hash(email),
            language=language,
            min_severity=min_severity,
            all_products=everything,
            confirmed_at=timezone.now() if confirmed else None,
        )
        sub.products.set([catalog[p] for p in products])
        sub.product_lines.set([catalog[line] for line in lines])
        return sub

    return make


def make_notice(**overrides: Any) -> AdvisoryNotice:
    values: dict[str, Any] = {
        "id": "VT-SA-2026-001",
        "title_en": "Buffer overflow in the web server",
        "title_zh": "网页服务器缓冲区溢出",
        "summary_en": "An attacker on the network can run code.",
        "summary_zh": "网络上的攻击者可以执行代码。",
        "severity": "High",
        "product_slugs": ("cam-1",),
        "product_line_slugs": ("cameras",),
        "url": "https://psirt.test/en/advisories/VT-SA-2026-001/",
        "csaf_url": "https://psirt.test/advisories/VT-SA-2026-001/csaf.json",
        "cves": ("CVE-2026-0001",),
    }
    values.update(overrides)
    return AdvisoryNotice(**values)


@pytest.fixture
def notice() -> AdvisoryNotice:
    return make_notice()
