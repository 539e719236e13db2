"""In Chromium: the case page as a working surface — tabs that switch (with the script), every section reachable
by its anchor without it, the summary strip staying in view while scrolling, and the CVSS calculator showing the
score as metrics are picked (asked from the server). Screenshots in both languages land in var/screenshots."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import expect

from conftest import _make_user
from psirt.accounts.models import Role
from psirt.cases.models import Case
from psirt.cases.services import cases as case_services
from psirt.cases.services import messages as message_services
from psirt.cases.services import remediation
from psirt.cases.tests.test_browser_triage import signed_in_context, watch
from psirt.tests.conftest import _media_url_for_live_server, chromium, live_server  # noqa: F401 - fixtures
from psirt.tests.factories import make_line, make_product, make_release, make_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
WIDTH = 1280
STRIP_KINDS = ("ack", "remediation", "disclosure")


def busy_case() -> tuple[Case, Any]:
    """A confirmed case with a long report, scores, a range, mitigations, work items and a conversation."""
    lead = _make_user("lead@case-page.test", Role.LEAD)
    handler = _make_user("handler@case-page.test", Role.HANDLER)
    product = make_product(make_line(position=1), name="CAM-200 dome camera")
    first = make_release(product, "V5.4.0 build 240101", 1, release_date=dt.date(2024, 1, 1))
    fixed = make_release(product, "V5.5.2 build 250310", 2, release_date=dt.date(2025, 3, 10))
    text = "\n".join(
        ["The NTP server field of the web UI is passed to a shell without quoting."]
        + [f"Step {i}: send the request with `;id` appended and observe the output." for i in range(1, 12)]
    )
    report = make_report(product, reporter_name="Ada", description=text)
    case = case_services.open_case(report=report, actor=lead, title="RCE through the NTP field", assignees=[handler])
    for state in ("acknowledged", "triage", "confirmed"):
        case = case_services.transition(case=case, to_state=state, actor=lead)
    case_services.set_cvss(case=case, vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", actor=lead)
    case_services.set_cwe(case=case, cwe=78, actor=lead)
    case_services.set_disclosure_date(case=case, date=dt.date(2027, 3, 6), actor=lead)  # a Saturday
    remediation.set_affected_range(case=case, product=product, actor=lead, introduced=first, fixed=fixed)
    remediation.add_mitigation(case=case, actor=lead, text_en="Disable the NTP setting page for non-admins.")
    remediation.add_work_item(case=case, actor=lead, title="Quote the NTP field in the shell call", owner=handler)
    for i in range(4):
        message_services.post_message(
            case=case, report=report, actor=handler, body=f"Message {i}: thank you, we are looking into it."
        )
    case.refresh_from_db()
    return case, handler


def _strip_stays(page: Any) -> None:
    """The summary strip is visible at the top of the window after scrolling to the bottom."""
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(100)
    box = page.locator("#summary").bounding_box()
    assert box is not None and 0 <= box["y"] <= 2, box


def test_tabs_live_score_and_sticky_strip_with_the_script(
    live_server: Any,  # noqa: F811
    chromium: Any,  # noqa: F811
) -> None:
    case, handler = busy_case()
    origin = live_server.url
    context = signed_in_context(chromium, handler, origin)
    page = context.new_page()
    page.set_viewport_size({"width": WIDTH, "height": 900})
    errors, foreign = watch(page, origin)
    page.goto(f"{origin}/en/desk/cases/{case.public_id}/")

    # The report's own text opens the page; the strip holds state, severity, the deadlines and advisories.
    assert "passed to a shell without quoting" in page.inner_text("#report")
    strip = page.inner_text("#summary").lower()  # badges may be styled upper-case
    assert "confirmed" in strip and "critical" in strip and "2027-03-06 (saturday)" in strip
    for kind in STRIP_KINDS:
        assert page.locator(f"#summary [data-deadline='{kind}']").count() == 1

    # Tabs: one section at a time; a click switches and says so in the URL.
    assert page.is_visible("#triage") and not page.is_visible("#remediation")
    page.click("a[data-tab='remediation']")
    assert page.is_visible("#remediation") and not page.is_visible("#triage")
    assert page.url.endswith("#remediation")
    assert page.get_attribute("a[data-tab='remediation']", "aria-selected") == "true"
    _strip_stays(page)

    # The calculator shows the score as metrics are picked — the server's answer, not a script's sum.
    page.click("a[data-tab='scoring']")
    live = page.locator("#cvss31 [data-live]")
    live.wait_for(state="visible")
    assert "9.8" in live.inner_text()
    page.select_option("#id_v31-m_C", "N")
    page.select_option("#id_v31-m_I", "N")
    expect(live).to_contain_text("7.5")
    assert "high" in live.inner_text().lower()
    assert page.input_value("#id_v31-vector") == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"

    # A redirect to an anchor inside a section (#risk, after saving a score) opens that section's tab.
    page.goto(f"{origin}/en/desk/cases/{case.public_id}/#risk")
    assert page.is_visible("#risk") and not page.is_visible("#triage")

    heights = {}
    for language in ("en", "zh-hans"):
        page.goto(f"{origin}/{language}/desk/cases/{case.public_id}/")
        page.wait_for_timeout(200)
        heights[language] = page.evaluate("document.documentElement.scrollHeight")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"case-page-{language}-viewport.png"))
        page.screenshot(path=str(SHOTS / f"case-page-{language}-full.png"), full_page=True)
        page.click("a[data-tab='scoring']")
        page.locator("#cvss31 [data-live]").wait_for(state="visible")
        page.evaluate("document.getElementById('cvss31').scrollIntoView()")  # lands below the strip
        page.screenshot(path=str(SHOTS / f"case-page-{language}-scoring.png"))
    (SHOTS / "case-page-heights.txt").write_text(f"with script, {WIDTH}px: {heights}\n")
    assert max(heights.values()) < 7000, heights
    assert not errors, errors  # no CSP violation, no script error
    assert not foreign


def test_every_section_is_reachable_without_the_script(
    live_server: Any,  # noqa: F811
    chromium: Any,  # noqa: F811
) -> None:
    case, handler = busy_case()
    origin = live_server.url
    context = chromium.new_context(java_script_enabled=False)
    context.add_cookies(signed_in_context(chromium, handler, origin).cookies())
    page = context.new_page()
    page.set_viewport_size({"width": WIDTH, "height": 900})
    page.goto(f"{origin}/en/desk/cases/{case.public_id}/")
    # Nothing chosen: every section is on the page.
    for section in ("triage", "scoring", "remediation", "conversation", "history"):
        assert page.is_visible(f"#{section}"), section
    height = page.evaluate("document.documentElement.scrollHeight")
    # A section link shows that section alone (CSS :target), and the strip stays in view.
    page.click("a[href='#conversation']")
    assert re.search(r"#conversation$", page.url)
    assert page.is_visible("#conversation") and not page.is_visible("#triage")
    _strip_stays(page)
    page.screenshot(path=str(SHOTS / "case-page-en-nojs-conversation.png"))
    with (SHOTS / "case-page-heights.txt").open("a") as out:
        out.write(f"without script, {WIDTH}px, every section shown: {height}\n")
