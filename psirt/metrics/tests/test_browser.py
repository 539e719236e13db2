"""The metrics page in a real browser (Debian's Chromium, JavaScript off): both languages, no CSP violation,
charts drawn, a screenshot of each for people to look at, and the page printed to PDF by Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from conftest import client_for
from psirt.accounts.models import User
from psirt.metrics.tests.conftest import History
from psirt.tests.conftest import _media_url_for_live_server, chromium, live_server  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
QUERY = "?from=2026-01-01&to=2026-04-15"


def test_the_metrics_page_in_both_languages_and_printed(
    live_server: Any,  # noqa: F811
    chromium: Any,  # noqa: F811
    lead: User,
    history: History,
) -> None:
    session = client_for(lead).cookies["sessionid"].value
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        for language, heading, month_line in (
            ("en", "Response metrics", "IP cameras"),
            ("zh-hans", "响应指标", "网络摄像机"),
        ):
            response = page.goto(f"{live_server.url}/{language}/desk/metrics/{QUERY}")
            assert response is not None and response.status == 200
            assert page.get_by_role("heading", name=heading, exact=True).is_visible()
            charts = page.locator("svg.chart")
            assert charts.count() >= 8
            # Drawn, not blank: the acknowledgment histogram has its bars, each chart its accessible name.
            assert page.locator("#table-distribution-acknowledge").is_visible()
            assert charts.first.get_attribute("aria-labelledby")
            assert page.locator("svg.chart rect.bar").count() > 5
            assert page.locator("#table-by-line").get_by_text(month_line).is_visible()
            page.screenshot(path=str(SCREENSHOTS / f"metrics-{language}.png"), full_page=True)
        assert errors == [], errors  # a CSP violation is a console error
        page.emulate_media(media="print")
        page.goto(f"{live_server.url}/en/desk/metrics/{QUERY}")
        assert not page.locator(".desk-nav").is_visible()
        assert page.locator("svg.chart").first.is_visible()
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
        (SCREENSHOTS / "metrics-print.pdf").write_bytes(pdf)
    finally:
        context.close()
