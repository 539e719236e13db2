"""Fixtures of the shell tests: a live server and a real Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]


@pytest.fixture(scope="session")
def _media_url_for_live_server() -> Iterator[None]:
    """Django's live server wraps a media handler that needs MEDIA_URL to be a string; psirt serves no
    media URL at all (attachments go through access-checked views), so give it one nothing answers."""
    from django.conf import settings

    if settings.MEDIA_URL is not None:
        yield
        return
    with override_settings(MEDIA_URL="/_no-media/"):
        yield


@pytest.fixture(scope="session")
def live_server(_media_url_for_live_server: None, live_server: Any) -> Any:
    """pytest-django's live server, started after the MEDIA_URL shim above."""
    return live_server


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright's sync API, one browser per test module.

    Never downloads a browser. Skips (loudly) only when /usr/bin/chromium is absent; CI installs it."""
    if not CHROMIUM.exists():
        pytest.skip(
            "BROWSER TESTS SKIPPED: /usr/bin/chromium is missing. Install Debian's chromium "
            "(apt-get install chromium fonts-noto-cjk); .ci/run does."
        )
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as mp:
        # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run "inside"
        # one unless told that this thread is still synchronous (it is: greenlets, no concurrency).
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                yield browser
            finally:
                browser.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "scaleout: several psirt processes against one PostgreSQL database (skipped without TEST_DATABASE_URL)",
    )
