"""A researcher files a report with an attachment in Chromium and follows the private link."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from psirt.intake.models import Report
from psirt.tests.conftest import _media_url_for_live_server, chromium, live_server  # noqa: F401 - fixtures
from psirt.tests.factories import make_line, make_product, make_release

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalog_live(transactional_db: None) -> None:
    line = make_line(position=1)
    make_release(make_product(line), "V5.6.1", 2)
    make_release(make_product(line, "nvr-8", "Recorder 8"), "V4.0.0", 1)


def test_report_with_attachment_then_portal(live_server: Any, chromium: Any, catalog_live: None, tmp_path) -> None:  # noqa: F811
    capture = tmp_path / "capture.pcap"
    capture.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\0" * 200)
    context = chromium.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    foreign: list[str] = []
    page.on(
        "request",
        lambda req: foreign.append(req.url) if urlsplit(req.url).netloc != urlsplit(live_server.url).netloc else None,
    )

    page.goto(live_server.url + "/en/report/")
    page.fill("#id_reporter_name", "Ada Researcher")
    page.fill("#id_reporter_email", "ada@research.test")
    page.select_option("#id_product", "cam-x5")
    # The script narrows the firmware list to the chosen product.
    assert page.locator("#id_release option", has_text="V4.0.0").is_hidden()
    page.select_option("#id_release", label="V5.6.1")
    page.fill("#id_description", "Unauthenticated <script>alert(1)</script> RCE in the web UI.")
    page.fill("#id_technical_details", "Send a long DESCRIBE request.")
    page.set_input_files("#id_attachments", str(capture))
    page.check("#id_accept_guidelines")
    page.click("form.report-form button[type=submit]")
    page.wait_for_load_state()
    if "/thanks/" not in page.url:
        raise AssertionError(page.url + "\n" + page.inner_text("main")[:3000])
    tracking_id = page.inner_text("#tracking-id")
    assert re.fullmatch(r"VR-\d{4}-\d{4}", tracking_id)
    link = page.get_attribute("#portal-link", "href")
    assert link is not None
    report = Report.objects.get()
    assert report.tracking_id == tracking_id
    assert [a.name for a in report.attachments.all()] == ["capture.pcap"]
    assert report.release is not None and report.release.version == "V5.6.1"

    # Follow the private link (PSIRT_BASE_URL is the public address; here the live server answers).
    page.goto(live_server.url + urlsplit(link).path)
    assert tracking_id in page.inner_text("h1")
    assert "capture.pcap" in page.content()
    page.fill("#id_body", "A second capture is coming.")
    page.click("form:has(input[value=message]) button[type=submit]")
    page.wait_for_load_state()
    assert "Your message was sent to the security team." in page.content()
    assert "A second capture is coming." in page.content()
    assert errors == [] and foreign == []
    context.close()
