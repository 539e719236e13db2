"""In Chromium: a lead opens a case from an inbox report for a handler, who triages it into a confirmed,
scored case with the forms of the case page (the forms need no JavaScript; the page's tabs use it)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from conftest import _make_user, client_for
from psirt.accounts.models import Role
from psirt.cases.models import Case
from psirt.tests.conftest import _media_url_for_live_server, chromium, live_server  # noqa: F401 - fixtures
from psirt.tests.factories import make_line, make_product, make_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def inbox_report(transactional_db: None) -> Any:
    return make_report(
        make_product(make_line(position=1)),
        reporter_name="Ada",
        description="Unauthenticated RCE: the NTP field of the web UI is passed to a shell.",
    )


def signed_in_context(browser: Any, user: Any, origin: str) -> Any:
    """A browser context carrying a signed-in session (password and 2FA done, as after the sign-in forms)."""
    client = client_for(user)
    context = browser.new_context()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": origin}])
    return context


def watch(page: Any, origin: str) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on(
        "request", lambda req: foreign.append(req.url) if urlsplit(req.url).netloc != urlsplit(origin).netloc else None
    )
    return errors, foreign


def test_handler_triages_a_report_into_a_confirmed_scored_case(
    live_server: Any,  # noqa: F811
    chromium: Any,  # noqa: F811
    inbox_report: Any,
) -> None:
    origin = live_server.url
    lead = _make_user("lead@browser.test", Role.LEAD)
    handler = _make_user("handler@browser.test", Role.HANDLER)

    # The lead opens a case from the inbox report and assigns the handler.
    lead_page = signed_in_context(chromium, lead, origin).new_page()
    errors, foreign = watch(lead_page, origin)
    lead_page.goto(f"{origin}/en/desk/cases/triage/{inbox_report.public_id}/")
    assert "Triage a report" in lead_page.content()
    lead_page.fill("#id_title", "RCE through the NTP server field")
    lead_page.select_option("#id_assignees", label=f"{handler} <{handler.email}>")
    lead_page.click("text=Open case")
    lead_page.wait_for_url(re.compile(r"/en/desk/cases/[0-9a-f-]{36}/$"))
    case = Case.objects.get()
    assert case.title == "RCE through the NTP server field"

    # The handler moves it forward, scores it with the calculator and picks the weakness.
    page = signed_in_context(chromium, handler, origin).new_page()
    h_errors, h_foreign = watch(page, origin)
    case_url = f"{origin}/en/desk/cases/{case.public_id}/"
    page.goto(case_url)
    for state in ("acknowledged", "triage", "confirmed"):
        page.select_option("#id_to_state", state)
        page.click("text=Move the case")
        page.wait_for_url(re.compile(r"#workflow$"))
    page.click("a[data-tab='scoring']")  # the case page's sections are tabs with the script
    for metric, value in {"AV": "N", "AC": "L", "PR": "N", "UI": "N", "S": "U", "C": "H", "I": "H", "A": "H"}.items():
        page.select_option(f"#id_v31-m_{metric}", value)
    page.click("text=Score v3.1")
    page.wait_for_url(re.compile(r"#risk$"))
    page.fill("#id_cwe", "CWE-78")
    page.click("text=Save weakness")
    page.wait_for_url(re.compile(r"#risk$"))

    text = page.inner_text("main").lower()  # badges may be styled upper-case
    assert "confirmed" in text and "9.8" in text and "critical" in text
    assert "cwe-78" in text
    assert page.input_value("#id_v31-vector") == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    case.refresh_from_db()
    assert (case.state, case.severity, case.cwe_id) == ("confirmed", "Critical", 78)
    assert case.remediation_due_at is not None
    shots = Path(settings.BASE_DIR) / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "desk-case-confirmed.png"), full_page=True)
    assert not errors + h_errors, errors + h_errors  # no CSP violation, no script error
    assert not foreign + h_foreign
