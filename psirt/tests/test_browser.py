"""The public shell in a real browser (Debian's Chromium through Playwright), with JavaScript switched off:
home, software updates and policy, in English and Chinese, on a desktop and a phone. Every page must show
its key text, load nothing from another host, raise no console error (CSP violations are console errors),
fit the phone's width, and leave a full-page screenshot in var/screenshots/ for people to look at."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from psirt.catalog.models import FirmwareRelease
from psirt.organization.models import OrganizationProfile
from psirt.pages.models import Page
from psirt.tests.factories import make_line, make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

VIEWPORTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}

VENDOR_EN, VENDOR_ZH = "Northwind Devices", "北风智能设备"
ICP = "沪ICP备2024000001号-1"


@pytest.fixture
def site_content(db: None) -> None:
    """A vendor, its policy page and a small catalog: one line, one product, two releases."""
    org = OrganizationProfile.get()
    org.name_en, org.name_zh = VENDOR_EN, VENDOR_ZH
    org.footer_en = org.footer_zh = ICP
    org.security_email = "psirt@northwind.example"
    org.save()
    Page.objects.update_or_create(
        slug="policy",
        defaults={
            "title_en": "Vulnerability disclosure policy",
            "title_zh": "漏洞披露政策",
            "body_en": "We publish an advisory when a fix or a sufficient mitigation is available.",
            "body_zh": "当修复或充分的缓解措施可用时，我们发布安全公告。",
        },
    )
    product = make_product(
        make_line("ip-cameras", "IP cameras and recorders", name_zh="网络摄像机与录像机"),
        "nc-2100",
        "NC-2100 Dome Camera",
        model_numbers="NC-2100, NC-2100-W",
        hardware_revisions="A1",
    )
    for position, (version, day) in enumerate([("V5.7.2 build 240311", 11), ("V5.7.3 build 240502", 2)], start=1):
        FirmwareRelease.objects.create(
            product=product,
            version=version,
            position=position,
            release_date=datetime.date(2024, 3 + 2 * (position - 1), day),
            notes_en="Fixes a buffer overflow in the web interface.",
            notes_zh="修复网页界面中的缓冲区溢出。",
        )


class Visit:
    """One page load that records every request, console error and page error."""

    def __init__(self, page: Any, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.foreign: list[str] = []
        self.failed: list[str] = []
        self.console_errors: list[str] = []
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("requestfailed", lambda req: self.failed.append(req.url))
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))

    def _request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign.append(request.url)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")

    def open(self, path: str) -> None:
        response = self.page.goto(self.origin + path, wait_until="load")
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"

    def check_clean(self, label: str) -> None:
        assert self.foreign == [], f"{label}: requests to other hosts: {self.foreign}"
        assert self.failed == [], f"{label}: failed requests: {self.failed}"
        assert self.console_errors == [], f"{label}: console errors: {self.console_errors}"


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def browser_page(chromium: Any, viewport: str) -> Iterator[Any]:
    # JavaScript off: the public site must work without it (and has none).
    context = chromium.new_context(java_script_enabled=False, locale="en-US", **VIEWPORTS[viewport])
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def _looks_styled_and_fits(page: Any, label: str, phone: bool) -> None:
    header_bg = page.locator(".site-header").evaluate(
        "e => getComputedStyle(e).backgroundImage + getComputedStyle(e).backgroundColor"
    )
    assert "gradient" in header_bg or "rgba(0, 0, 0, 0)" not in header_bg, f"{label}: stylesheet not applied"
    if phone:
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{label}: page is {overflow}px wider than the phone screen"


PAGES = [
    # (name, path, English key texts, Chinese key texts)
    ("home", "", [VENDOR_EN, "Security Response Center"], [VENDOR_ZH]),
    (
        "updates",
        "updates/",
        ["NC-2100 Dome Camera", "V5.7.3 build 240502"],
        ["NC-2100 Dome Camera", "V5.7.3 build 240502"],
    ),
    ("policy", "policy/", ["Vulnerability disclosure policy"], ["漏洞披露政策", "当修复或充分的缓解措施可用时"]),
]


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_public_pages_render_cleanly_in_both_languages(
    live_server: Any, site_content: None, browser_page: Any, viewport: str, lang: str
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visit = Visit(browser_page, live_server.url)
    for name, path, texts_en, texts_zh in PAGES:
        label = f"{name} {lang} {viewport}"
        visit.open(f"/{lang}/{path}")
        assert browser_page.locator("html").get_attribute("lang") == ("zh-Hans" if lang == "zh-hans" else "en")
        for text in texts_zh if lang == "zh-hans" else texts_en:
            assert browser_page.get_by_text(text, exact=False).first.is_visible(), f"{label}: {text!r} not visible"
        # The header, the language toggle (current language marked) and the footer line are always there.
        current = browser_page.locator(".lang-switch a[aria-current='true']").inner_text()
        assert current == ("中文" if lang == "zh-hans" else "English")
        assert browser_page.locator(".site-footer").get_by_text(ICP).is_visible()
        # The interface itself is translated (the compiled catalogue is served), not only the content.
        nav_label = "软件更新" if lang == "zh-hans" else "Software updates"
        assert browser_page.locator(".main-nav").get_by_text(nav_label, exact=True).is_visible(), label
        _looks_styled_and_fits(browser_page, label, viewport == "phone")
        browser_page.screenshot(path=str(SCREENSHOTS / f"{name}-{lang}-{viewport}.png"), full_page=True)
        visit.check_clean(label)


def test_language_toggle_keeps_the_page_without_javascript(live_server: Any, site_content: None, chromium: Any) -> None:
    context = chromium.new_context(java_script_enabled=False, **VIEWPORTS["desktop"])
    try:
        page = context.new_page()
        visit = Visit(page, live_server.url)
        visit.open("/en/updates/")
        page.locator(".lang-switch a[lang='zh-Hans']").click()
        page.wait_for_url("**/zh-hans/updates/")
        assert page.locator("html").get_attribute("lang") == "zh-Hans"
        page.locator(".lang-switch a[lang='en']").click()
        page.wait_for_url("**/en/updates/")
        visit.check_clean("language toggle")
    finally:
        context.close()
