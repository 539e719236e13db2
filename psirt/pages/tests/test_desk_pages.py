"""Lead-only editors for the organization profile and the public pages; everyone else gets 404."""

from __future__ import annotations

import pysequoia
import pytest
from django.urls import reverse

from conftest import client_for
from psirt.audit.models import AuditEvent
from psirt.organization.models import OrganizationProfile
from psirt.pages.defaults import DEFAULT_PAGES
from psirt.pages.models import Page

pytestmark = pytest.mark.django_db

DESK_URLS = [
    ("desk:pages:organization", []),
    ("desk:pages:page_list", []),
    ("desk:pages:page_edit", ["policy"]),
]


def _org_form(**overrides):
    data = {
        "name_en": "Acme Devices",
        "name_zh": "艾克米",
        "advisory_prefix": "AC",
        "security_email": "psirt@acme.example",
        "lab_email": "",
        "website": "https://acme.example",
        "pgp_public_key": "",
        "footer_en": "Licence 1",
        "footer_zh": "许可证 1",
        "calendar_country": "CN",
        "ack_business_days": "5",
        "remediation_days": "90",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(("name", "args"), DESK_URLS)
@pytest.mark.parametrize("persona", ["handler", "engineer"])
def test_non_leads_get_404(request, persona, name, args):
    client = client_for(request.getfixturevalue(persona))
    url = reverse(name, args=args)
    assert client.get(url).status_code == 404
    assert client.post(url, _org_form()).status_code == 404
    assert OrganizationProfile.get().name_en != "Acme Devices"


@pytest.mark.parametrize(("name", "args"), DESK_URLS)
def test_anonymous_is_sent_to_sign_in(anonymous, name, args):
    response = anonymous.get(reverse(name, args=args))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_lead_edits_the_organization_profile(as_lead, lead, client):
    response = as_lead.post(reverse("desk:pages:organization"), _org_form(advisory_prefix="ac"))
    assert response.status_code == 302
    org = OrganizationProfile.get()
    assert (org.name_en, org.advisory_prefix, org.footer_zh) == ("Acme Devices", "AC", "许可证 1")
    event = AuditEvent.objects.get(action="pages.organization.update")
    assert event.actor == lead and "name_en" in event.data["fields"]
    assert "Acme Devices" in client.get(reverse("pages:home")).content.decode()


def test_lead_sets_contact_hours_and_report_language_shown_on_the_public_pages(as_lead, client):
    form = _org_form(contact_hours_en="Mon–Fri 9:00–18:00 (UTC+8)", contact_hours_zh="周一至周五 9:00–18:00")
    response = as_lead.post(reverse("desk:pages:organization"), {**form, "report_language": "en"})
    assert response.status_code == 302
    org = OrganizationProfile.get()
    assert (org.contact_hours_en, org.report_language) == ("Mon–Fri 9:00–18:00 (UTC+8)", "en")
    contact = client.get("/en/contact/").content.decode()
    assert "Contact hours" in contact and "Mon–Fri 9:00–18:00 (UTC+8)" in contact
    assert "Preferably written in English" in contact
    contact_zh = client.get("/zh-hans/contact/").content.decode()
    assert "周一至周五 9:00–18:00" in contact_zh and "最好使用英文撰写" in contact_zh
    report = client.get("/en/report/").content.decode()
    assert "Reports are preferably written in English; a report in another language is accepted too." in report
    assert "报告最好使用英文撰写" in client.get("/zh-hans/report/").content.decode()


def test_without_a_language_preference_no_hint_is_shown(client):
    assert OrganizationProfile.get().report_language == ""
    assert 'id="report-language"' not in client.get("/en/report/").content.decode()
    assert "Report language" not in client.get("/en/contact/").content.decode()
    assert "Contact hours" not in client.get("/en/contact/").content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("advisory_prefix", "VT-SA", "capital letters or digits"),
        ("advisory_prefix", "1X", "capital letters or digits"),
        ("security_email", "not-an-address", "valid email"),
        ("website", "javascript:alert(1)", "https://"),
        ("website", "ftp://acme.example", "https://"),
        ("calendar_country", "ZZ", "Select a valid choice"),
        ("ack_business_days", "0", "between 1 and 60"),
        ("ack_business_days", "99999999999", "between 1 and 60"),
        ("remediation_days", "-3", "between 1 and 730"),
        ("name_en", "", "required"),
        ("footer_en", "x" * 301, "at most 300"),
        ("contact_hours_en", "x" * 201, "at most 200"),
        ("contact_hours_zh", "x" * 201, "at most 200"),
        ("report_language", "fr", "Select a valid choice"),
        ("pgp_public_key", "hello", "BEGIN PGP PUBLIC KEY BLOCK"),
        (
            "pgp_public_key",
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 at all\n-----END PGP PUBLIC KEY BLOCK-----",
            "cannot be read",
        ),
    ],
)
def test_bad_profile_values_get_a_field_message(as_lead, field, value, message):
    response = as_lead.post(reverse("desk:pages:organization"), _org_form(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert OrganizationProfile.get().name_en != "Acme Devices"


def test_pasting_a_private_key_is_refused_loudly(as_lead):
    tsk = pysequoia.Tsk.generate("PSIRT <psirt@acme.example>")
    response = as_lead.post(reverse("desk:pages:organization"), _org_form(pgp_public_key=str(tsk)))
    assert response.status_code == 200
    assert "PRIVATE key" in response.content.decode()
    assert OrganizationProfile.get().pgp_public_key == ""


def test_a_public_key_is_stored_and_its_fingerprint_shown(as_lead, client):
    cert = pysequoia.Tsk.generate("PSIRT <psirt@acme.example>").extract_certificate()
    response = as_lead.post(reverse("desk:pages:organization"), _org_form(pgp_public_key=str(cert)))
    assert response.status_code == 302
    fpr = str(cert.fingerprint).upper()
    event = AuditEvent.objects.get(action="pages.organization.update")
    assert event.data["pgp_fingerprint"] == fpr
    contact = client.get(reverse("pages:contact")).content.decode()
    assert fpr[:4] + " " + fpr[4:8] in contact
    assert client.get(reverse("pages:pgp_key")).content.decode().startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")


def test_lead_sees_every_page_in_the_list(as_lead):
    html = as_lead.get(reverse("desk:pages:page_list")).content.decode()
    for slug in DEFAULT_PAGES:
        assert reverse("desk:pages:page_edit", args=[slug]) in html


def test_lead_edits_a_page_in_both_languages(as_lead, lead, client):
    url = reverse("desk:pages:page_edit", args=["policy"])
    data = {"title_en": "Our policy", "body_en": "# Hello\n\nWe fix.", "title_zh": "我们的策略"}
    data["body_zh"] = "我们修复。"
    response = as_lead.post(url, {**data, "action": "save"})
    assert response.status_code == 302
    assert "<h2>Hello</h2>" in client.get(reverse("pages:policy")).content.decode()
    assert "我们修复。" in client.get("/zh-hans/policy/").content.decode()
    event = AuditEvent.objects.get(action="pages.page.update")
    assert (event.actor, event.target_id) == (lead, "policy")
    assert "body_en" not in str(event.data.get("body", ""))  # the text itself is not copied into the log


def test_preview_renders_markdown_safely_and_saves_nothing(as_lead):
    url = reverse("desk:pages:page_edit", args=["contact"])
    before = Page.objects.get(slug="contact").body_en
    response = as_lead.post(
        url,
        {
            "title_en": "Contact",
            "body_en": "**bold** <script>alert(1)</script> [x](javascript:alert(1)) {vendor}",
            "title_zh": "",
            "body_zh": "",
            "action": "preview",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>bold</strong>" in html
    assert "<script>alert(1)</script> [x]" not in html  # not as markup in the preview
    assert 'href="javascript' not in html
    assert OrganizationProfile.get().name in html  # placeholders filled as on the public page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the textarea keeps what was typed
    assert Page.objects.get(slug="contact").body_en == before


def test_chinese_preview_uses_the_chinese_vendor_name(as_lead):
    from psirt.organization.services import update_organization

    update_organization(actor=None, name_en="Acme", name_zh="艾克米")
    response = as_lead.post(
        reverse("desk:pages:page_edit", args=["home"]),
        {"title_en": "T", "body_en": "EN {vendor}", "title_zh": "T", "body_zh": "中文 {vendor}", "action": "preview"},
    )
    html = response.content.decode()
    assert "EN Acme" in html and "中文 艾克米" in html


def test_restore_puts_the_default_text_back(as_lead):
    page = Page.objects.get(slug="guidelines")
    page.body_en = "changed"
    page.save()
    response = as_lead.post(reverse("desk:pages:page_edit", args=["guidelines"]), {"action": "restore"})
    assert response.status_code == 302
    assert Page.objects.get(slug="guidelines").body_en == DEFAULT_PAGES["guidelines"].body_en


def test_overlong_page_text_is_refused(as_lead):
    url = reverse("desk:pages:page_edit", args=["policy"])
    response = as_lead.post(url, {"title_en": "T", "body_en": "x" * 50_001, "action": "save"})
    assert response.status_code == 200
    assert "at most 50000" in response.content.decode()


def test_unknown_page_slug_is_404(as_lead):
    assert as_lead.get(reverse("desk:pages:page_edit", args=["nope"])).status_code == 404


def test_lead_sets_the_eu_member_state_for_cra_reports(as_lead):
    response = as_lead.post(
        reverse("desk:pages:organization"),
        {**_org_form(), "eu_member_state": "nl", "eu_reporting_basis": "importer"},
    )
    assert response.status_code == 302
    org = OrganizationProfile.get()
    assert (org.eu_member_state, org.eu_reporting_basis) == ("NL", "importer")
    bad = as_lead.post(reverse("desk:pages:organization"), {**_org_form(), "eu_member_state": "1x"})
    assert "Use a two-letter country code" in bad.content.decode()
    assert OrganizationProfile.get().eu_member_state == "NL"
