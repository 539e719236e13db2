"""One-line fields (name, organization, phone, product, version, credit) refuse line breaks and control
characters with a message, through the form, the API and the portal; long text areas keep them."""

from __future__ import annotations

import json

import pytest

from psirt.intake.models import Report
from psirt.intake.tests.conftest import valid_post
from psirt.tests.factories import make_report_and_token

pytestmark = pytest.mark.django_db

BREAKS = ["\r\n", "\n", "\r", "\u2028", "\u2029", "\x0b", "\x0c", "\x85"]
HEADER_INJECTION = "Ada\r\nBcc: everyone@example.com"


@pytest.mark.parametrize("field", ["reporter_name", "organization", "phone", "version", "credit"])
@pytest.mark.parametrize("brk", BREAKS)
def test_the_form_refuses_a_line_break_in_a_one_line_field(public, catalog, report_url, field, brk):
    value = {"phone": "+86 592{}555 0100"}.get(field, "Ada{}Lovelace").format(brk)
    response = public.post(report_url, valid_post(**{field: value}))
    assert response.status_code == 422
    assert "one line" in " ".join(response.context["form"].errors[field])
    assert not Report.objects.exists()


def test_the_form_says_it_in_chinese(public, catalog):
    response = public.post("/zh-hans/report/", valid_post(reporter_name=HEADER_INJECTION))
    assert response.status_code == 422
    assert "一行" in " ".join(response.context["form"].errors["reporter_name"])


@pytest.mark.parametrize("field", ["reporter_name", "organization", "phone", "credit", "product"])
def test_the_api_refuses_a_line_break_in_a_one_line_field(public, catalog, field):
    data = {
        "reporter_name": "Ada",
        "reporter_email": "ada@research.test",
        "product": "Garage opener",
        "description": "RCE",
        "accept_guidelines": True,
    }
    data[field] = HEADER_INJECTION
    response = public.post("/api/v1/reports", json.dumps(data), content_type="application/json")
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert not Report.objects.exists()


def test_long_text_areas_keep_their_lines(public, catalog, report_url):
    response = public.post(report_url, valid_post(description="line one\r\nline two\n\x1b[31mred\x1b[0m"))
    assert response.status_code == 302
    assert "line two" in Report.objects.get().description


def test_a_one_line_value_with_spaces_and_unicode_is_accepted(public, catalog, report_url):
    response = public.post(report_url, valid_post(reporter_name="张 三 (Zhang San)", credit="Zhang San, Lab 7"))
    assert response.status_code == 302


@pytest.mark.parametrize("brk", ["\r\n", "\n", "\u2028"])
def test_the_portal_refuses_a_credit_with_a_line_break(anonymous, brk):
    report, token = make_report_and_token()
    before = report.credit
    response = anonymous.post(f"/en/r/{token}/", {"action": "credit", "credit": f"Ada{brk}Bcc: x@example.com"})
    assert response.status_code == 422
    report.refresh_from_db()
    assert report.credit == before
