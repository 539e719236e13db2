"""In Chromium: a case goes from "actively exploited" to a filed early warning — the obligation appears on the
case page, the lead confirms it reportable, copies fields with the copy buttons (read back from the clipboard),
and marks the early warning as submitted with the platform's reference. Screenshots of /desk/regulatory/ and the
obligation page in English and Chinese land in var/screenshots."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from conftest import _make_user
from psirt.accounts.models import Role
from psirt.cases.services import cases as case_services
from psirt.cases.services import remediation
from psirt.cases.tests.test_browser_triage import signed_in_context, watch
from psirt.organization.models import OrganizationProfile
from psirt.regulatory.models import Filing, Obligation
from psirt.tests.conftest import _media_url_for_live_server, chromium, live_server  # noqa: F401 - fixtures
from psirt.tests.factories import make_line, make_product, make_release, make_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def test_exploited_case_to_filed_early_warning(live_server: Any, chromium: Any) -> None:  # noqa: F811
    lead = _make_user("lead@reg-browser.test", Role.LEAD)
    handler = _make_user("handler@reg-browser.test", Role.HANDLER)
    profile = OrganizationProfile.get()
    profile.eu_member_state = "NL"
    profile.save()
    product = make_product(make_line(position=1, eu_member_states="DE,NL"), name="CAM-200 dome camera")
    first = make_release(product, "V5.4.0", 1, release_date=dt.date(2024, 1, 1))
    fixed = make_release(product, "V5.5.2", 2, release_date=dt.date(2026, 11, 30))
    report = make_report(product, reporter_name="Ada", description="Unauthenticated RCE in the NTP field")
    case = case_services.open_case(report=report, actor=lead, title="RCE through the NTP field", assignees=[handler])
    case_services.add_reference(case=case, value="CVE-2026-7777", actor=lead)
    remediation.set_affected_range(case=case, product=product, actor=lead, introduced=first, fixed=fixed)

    origin = live_server.url
    context = signed_in_context(chromium, lead, origin)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    errors, foreign = watch(page, origin)

    # The handler's news: exploited in the wild. Recorded on the case page.
    page.goto(f"{origin}/en/desk/cases/{case.public_id}/#scoring")
    form = page.locator("form[action$='/exploitation/']")
    form.locator("select[name$='status']").select_option("active")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()

    # The case page now shows the obligation with its running 24 h clock.
    page.goto(f"{origin}/en/desk/cases/{case.public_id}/")
    panel = page.locator("#regulatory")
    assert "Early warning (24 h)" in panel.inner_text()
    assert "left" in panel.inner_text()
    panel.locator("a").first.click()
    page.wait_for_load_state()
    assert "/desk/regulatory/" in page.url

    # The lead confirms it reportable with the evidence.
    page.check("input[name=reportable][value=yes]")
    page.fill("textarea[name=evidence]", "Partner CERT saw the exploit used against a hospital's cameras.")
    page.click("#decide button[type=submit]")
    page.wait_for_load_state()
    assert "Reportable" in page.inner_text("#decision")

    # Fields are prefilled from the case; the copy buttons put them on the clipboard.
    stage = page.locator("#stage-early_warning")
    product_field = stage.locator("#id-early_warning-product_name")
    assert product_field.input_value() == "CAM-200 dome camera"
    assert stage.locator("#id-early_warning-member_states").input_value() == "Germany, Netherlands"
    assert stage.locator("#id-early_warning-cve_id").input_value() == "CVE-2026-7777"
    copied = []
    for key in ("product_name", "product_versions", "member_states"):
        button = stage.locator(f"button[data-copy='id-early_warning-{key}']")
        assert button.is_visible()
        button.click()
        copied.append(page.evaluate("navigator.clipboard.readText()"))
        assert button.inner_text() == "Copied"
    assert copied == ["CAM-200 dome camera", "CAM-200 dome camera: V5.4.0 up to before V5.5.2", "Germany, Netherlands"]

    SHOTS.mkdir(parents=True, exist_ok=True)
    obligation = Obligation.objects.get(case=case)
    for language in ("en", "zh-hans"):
        page.goto(f"{origin}/{language}/desk/regulatory/{obligation.public_id}/")
        page.screenshot(path=str(SHOTS / f"regulatory-obligation-{language}.png"), full_page=True)
        page.goto(f"{origin}/{language}/desk/regulatory/")
        page.screenshot(path=str(SHOTS / f"regulatory-list-{language}.png"), full_page=True)

    # Submitted on the platform: marked here with its reference; the record keeps the fields as sent.
    page.goto(f"{origin}/en/desk/regulatory/{obligation.public_id}/")
    stage = page.locator("#stage-early_warning")
    stage.locator("textarea[name='f-summary']").fill("RCE through the NTP field exploited in the wild.")
    stage.locator("input[name=reference]").fill("SRP-2026-000123")
    stage.locator("button[value=submit]").click()
    page.wait_for_load_state()
    assert "SRP-2026-000123" in page.inner_text("#record")
    assert "submitted" in page.locator("tr[data-stage='early_warning']").inner_text()
    filing = Filing.objects.get(obligation=obligation)
    assert filing.reference == "SRP-2026-000123"
    assert filing.csirt == "NCSC-NL"
    assert ["summary", "Summary", "RCE through the NTP field exploited in the wild."] in filing.fields
    assert not errors, errors  # no CSP violation, no script error
    assert not foreign
