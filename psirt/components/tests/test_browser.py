"""A customer asks "Am I affected?" about a CVE in OpenSSL inside the firmware, in a real browser, in both
languages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from psirt.accounts.models import User
from psirt.catalog.tests.factories import make_line, make_product, make_release
from psirt.components.models import Vulnerability
from psirt.components.services import decide, import_sbom
from psirt.components.tests.conftest import SAMPLES, sample
from psirt.tests.conftest import _media_url_for_live_server, chromium, live_server  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"


def test_am_i_affected_answers_a_third_party_cve(
    live_server: Any,  # noqa: F811
    chromium: Any,  # noqa: F811
    lead: User,
) -> None:
    product = make_product(make_line("cameras"), "cam-x5")
    old = make_release(product, "5.7.1", position=1)
    new = make_release(product, "5.8.0", position=2)
    import_sbom(release=old, data=sample("cyclonedx-1.6.json"), actor=lead)
    import_sbom(release=new, data=sample("cyclonedx-1.4.json"), actor=lead)
    call_command("import_vulns", str(SAMPLES / "osv"))
    vuln = Vulnerability.objects.get(vuln_id="OSV-2024-OPENSSL-1")
    decide(releases=[old], vulnerability=vuln, status="affected", action_statement="Update the firmware.", actor=lead)
    decide(releases=[new], vulnerability=vuln, status="fixed", actor=lead)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/en/affected/?product=cam-x5")
        page.get_by_label("Firmware version (as shown on your device)").or_(
            page.get_by_label("… or type the version shown on your device")
        ).fill("5.7.1")
        page.get_by_label("CVE in a third-party component (optional), e.g. OpenSSL").fill("CVE-2024-5535")
        page.get_by_role("button", name="Check").click()
        section = page.locator("#vex")
        assert section.get_by_role("heading", name="CVE-2024-5535 in Camera X5 5.7.1").is_visible()
        assert "Affected" in section.inner_text() and "Update the firmware." in section.inner_text()
        assert "5.8.0" in section.locator(".callout").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "vex-affected-en.png"), full_page=True)

        page.goto(f"{live_server.url}/zh-hans/affected/?product=cam-x5&version=5.8.0&cve=CVE-2024-5535")
        assert "已修复" in page.locator("#vex").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "vex-affected-zh.png"), full_page=True)
    finally:
        context.close()
