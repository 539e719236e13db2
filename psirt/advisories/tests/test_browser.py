"""In a real browser without JavaScript: a lead publishes an advisory from the desk, then a customer finds it
on the public list, opens it, scores it for their environment, and checks "Am I affected?"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from conftest import client_for
from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.models import Advisory, AdvisoryState
from psirt.advisories.tests.conftest import make_case
from psirt.cases.models import CaseReference
from psirt.catalog.models import FirmwareRelease, Product
from psirt.lib.cvss import score_vector
from psirt.tests.conftest import _media_url_for_live_server, chromium, live_server  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def test_publish_then_find_score_and_check(
    live_server: Any,  # noqa: F811
    chromium: Any,  # noqa: F811
    product: Product,
    releases: dict[str, FirmwareRelease],
    lead: User,
    yesterday: Any,
) -> None:
    case = make_case(product=product, disclosure_date=yesterday, title="Authentication bypass in the web UI")
    CaseReference.objects.create(case=case, kind="cve", value="CVE-2026-31337")  # the advisory takes it from here
    advisory = services.create_advisory(cases=[case], actor=lead)
    services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={
            "summary_en": "A crafted request bypasses the login of the web interface.",
            "workarounds_en": "Restrict access to the web interface to a management network.",
            "credits_en": "Ada Researcher, Example Labs",
        },
        affected=[services.AffectedInput(product=product, introduced=releases["V5.5.0"], fixed=releases["V5.6.0"])],
    )
    session = client_for(lead).cookies["sessionid"].value
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        # The lead sends it for review, approves and publishes it on the desk.
        page.goto(f"{live_server.url}/en/desk/advisories/{advisory.public_id}/")
        page.get_by_role("button", name="Send for review").click()
        page.get_by_role("button", name="Approve", exact=True).click()
        page.get_by_role("button", name="Publish now").click()
        assert page.get_by_text("Published.").is_visible()
        advisory.refresh_from_db()
        assert advisory.state == AdvisoryState.PUBLISHED

        # A customer (signed out) finds it on the list by its CVE, opens it.
        context.clear_cookies()
        page.goto(f"{live_server.url}/en/advisories/")
        page.get_by_label("Search").fill("CVE-2026-31337")
        page.get_by_role("button", name="Apply").click()
        page.get_by_role("link", name=advisory.advisory_id).click()
        assert page.get_by_role("heading", name="Authentication bypass in the web UI").is_visible()
        assert page.locator(".badge.sev-critical").first.is_visible()
        page.screenshot(path=str(SCREENSHOTS / "advisory-en-desktop.png"), full_page=True)

        # Environmental score: confidentiality requirement High, attack only from the adjacent network.
        page.locator("#env-31-CR").select_option("H")
        page.locator("#env-31-MAV").select_option("A")
        page.locator("#env-31").get_by_role("button", name="Calculate").click()
        assert "env=CVSS:3.1/" in page.url
        expected = score_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/CR:H/MAV:A")
        assert page.locator(".env-score").inner_text() == str(expected.environmental)
        assert page.locator(".env-vector").inner_text() == expected.vector
        # The shared URL shows the same result to someone else.
        shared = page.url
        other = context.new_page()
        other.goto(shared)
        assert other.locator(".env-score").inner_text() == str(expected.environmental)
        other.close()

        # Am I affected? Search the product, pick it, pick the version.
        page.goto(f"{live_server.url}/en/affected/")
        page.get_by_label("Find your product").fill("X5-200")
        page.get_by_role("button", name="Find").click()
        page.get_by_label("Product", exact=True).select_option("cam-x5")
        page.get_by_role("button", name="Check").click()
        page.get_by_label("Firmware version").select_option(label="V5.5.2")
        page.get_by_role("button", name="Check").click()
        assert page.get_by_role("link", name=advisory.advisory_id).is_visible()
        assert page.locator(".callout").get_by_text("V5.6.0").is_visible()
        page.screenshot(path=str(SCREENSHOTS / "affected-en-desktop.png"), full_page=True)
        assert errors == []
    finally:
        context.close()


def test_draft_is_invisible_in_the_browser(
    live_server: Any,  # noqa: F811
    chromium: Any,  # noqa: F811
    draft: Advisory,
) -> None:
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        response = page.goto(f"{live_server.url}/en/advisories/{draft.advisory_id}/")
        assert response is not None and response.status == 404
        page.goto(f"{live_server.url}/en/advisories/")
        assert page.get_by_text("There is currently no information to display.").is_visible()
    finally:
        context.close()


def test_a_revision_goes_live_only_when_a_lead_publishes_it(
    live_server: Any,  # noqa: F811
    chromium: Any,  # noqa: F811
    published: Advisory,
    handler: User,
    lead: User,
) -> None:
    """A handler edits a published advisory in the browser; the public page stays as it was while the lead
    reviews the changes field by field, approves and publishes the revision; then the page shows them."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    public = f"{live_server.url}/en/advisories/{published.advisory_id}/"
    desk = f"{live_server.url}/en/desk/advisories/{published.public_id}/"
    impact = "An attacker on the network takes full control of the camera."
    handler_context = chromium.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    lead_context = chromium.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    visitors: list[Any] = []

    def public_page() -> Any:
        # A new visitor each time: public pages may be kept by a browser for their max-age.
        visitors.append(chromium.new_context(java_script_enabled=False))
        page = visitors[-1].new_page()
        page.goto(public)
        return page

    handler_context.add_cookies(
        [{"name": "sessionid", "value": client_for(handler).cookies["sessionid"].value, "url": live_server.url}]
    )
    lead_context.add_cookies(
        [{"name": "sessionid", "value": client_for(lead).cookies["sessionid"].value, "url": live_server.url}]
    )
    try:
        page = handler_context.new_page()
        page.goto(desk)
        page.get_by_role("link", name="Start a revision").first.click()
        page.get_by_label("Impact (English)").fill(impact)
        page.get_by_label("What changed (English)").fill("Impact described.")
        page.get_by_label("What changed (Chinese)").fill("补充影响说明。")
        page.get_by_role("button", name="Save").click()
        assert page.get_by_text("Saved in the draft revision").is_visible()
        assert page.locator(".revision-diff").get_by_text(impact).is_visible()
        page.get_by_role("button", name="Send for review").click()
        assert page.get_by_role("button", name="Approve", exact=True).count() == 0

        assert public_page().get_by_text(impact).count() == 0

        lead_page = lead_context.new_page()
        lead_page.goto(desk)
        lead_page.screenshot(path=str(SCREENSHOTS / "revision-review-en.png"), full_page=True)
        lead_page.goto(desk.replace("/en/", "/zh-hans/"))
        lead_page.screenshot(path=str(SCREENSHOTS / "revision-review-zh.png"), full_page=True)
        lead_page.goto(desk)
        lead_page.get_by_role("button", name="Approve", exact=True).click()
        assert public_page().get_by_text(impact).count() == 0
        lead_page.get_by_role("button", name="Publish the revision").click()
        assert lead_page.get_by_text("Revision published.").is_visible()

        page_now = public_page()
        assert page_now.get_by_text(impact).is_visible()
        assert page_now.get_by_text("Impact described.").is_visible()
    finally:
        handler_context.close()
        lead_context.close()
        for visitor in visitors:
            visitor.close()
