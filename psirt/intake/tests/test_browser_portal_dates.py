"""The reporter portal's Dates panel in Chromium: every date on one line, in both languages, at the widths
people use (each date's box measured), and the portal's look kept as screenshots."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from psirt.intake.models import Report
from psirt.intake.services import IncomingFile
from psirt.tests.conftest import _media_url_for_live_server, chromium, live_server  # noqa: F401 - fixtures
from psirt.tests.factories import make_line, make_product, submit_test_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("PSIRT_SHOTS_DIR", "/work/shots/i12-people"))

MEASURE = """() => [...document.querySelectorAll('#portal-dates .date')].map(el => {
  const box = el.getBoundingClientRect();
  return {text: el.textContent, lines: el.getClientRects().length, height: box.height,
          font: parseFloat(getComputedStyle(el).fontSize)};
})"""


@pytest.fixture
def portal_token(transactional_db: None) -> str:
    product = make_product(make_line(position=1))
    submission = submit_test_report(
        product, files=(IncomingFile(name="capture.pcap", source=b"\xd4\xc3\xb2\xa1" + b"\0" * 100),)
    )
    now = timezone.now()
    today = timezone.localdate()
    Report.objects.filter(pk=submission.report.pk).update(
        acknowledged_at=now,
        remediation_due_at=now + dt.timedelta(days=90),
        proposed_disclosure_date=today + dt.timedelta(days=60),
        agreed_disclosure_date=today + dt.timedelta(days=95),
    )
    return submission.token


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_date_is_one_line_at_every_width(
    live_server: Any,  # noqa: F811 - the fixture
    chromium: Any,  # noqa: F811 - the fixture
    portal_token: str,
    language: str,
) -> None:
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/{language}/r/{portal_token}/")
    for width in (1024, 1280, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        dates = page.evaluate(MEASURE)
        assert len(dates) == 4, dates  # acknowledged, fix planned, proposed, agreed
        for date in dates:
            assert len(date["text"]) == 10, date
            assert date["lines"] == 1, f"{language} at {width}px: {date}"
            assert date["height"] < 1.8 * date["font"], f"{language} at {width}px: {date}"
        if width == 1024:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"portal-{language}-1024.png"), full_page=True)
    # The reporter's own file is a download link through the private link.
    link = page.get_attribute("#files-title + ul a", "href")
    assert link is not None and link.startswith(f"/{language}/r/{portal_token}/files/")
    context.close()
