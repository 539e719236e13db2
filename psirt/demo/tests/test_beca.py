"""`psirt demo --vendor beca`: BECA's own site out of the box, idempotent, with an empty advisory list."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from conftest import client_for
from psirt.accounts.models import User
from psirt.advisories.models import Advisory
from psirt.audit.models import AuditEvent
from psirt.cases.models import Case
from psirt.catalog.models import FirmwareRelease, Product, ProductLine
from psirt.organization.models import OrganizationProfile
from psirt.pages.models import Page

pytestmark = pytest.mark.django_db

EMPTY_EN = "There is currently no information to display."
EMPTY_ZH = "当前没有可显示的信息。"


def _run(**kwargs):
    out = io.StringIO()
    call_command("demo", force=True, stdout=out, stderr=out, **kwargs)
    return out.getvalue()


def _counts():
    return (
        ProductLine.objects.count(),
        Product.objects.count(),
        FirmwareRelease.objects.count(),
        User.objects.count(),
        tuple(Page.objects.order_by("slug").values_list("updated_at", flat=True)),
        AuditEvent.objects.count(),
    )


def test_beca_loads_its_profile_texts_and_catalog_and_is_idempotent():
    output = _run(vendor="beca")
    assert "policy:" in output
    org = OrganizationProfile.get()
    assert (org.name_en, org.advisory_prefix, org.security_email) == ("BECA", "BECA", "security@beca.example")
    assert org.contact_hours_en and org.report_language == "en"
    assert "闽ICP备2021005967号-1" in org.footer_en and "闽ICP备2021005967号-1" in org.footer_zh
    assert set(ProductLine.objects.values_list("slug", flat=True)) == {
        "beca-thermostats",
        "beca-controllers",
        "beca-gateways",
    }
    assert FirmwareRelease.objects.exclude(variant="").exists()  # operator variants ship later
    assert all("download.beca.example" in url for url in FirmwareRelease.objects.values_list("download_url", flat=True))
    assert not Advisory.objects.exists() and not Case.objects.exists()
    first = _counts()
    _run(vendor="beca")
    assert _counts() == first
    assert OrganizationProfile.get().updated_at == org.updated_at


def test_pages_edited_by_a_lead_are_kept():
    page = Page.objects.get(slug="policy")
    page.body_en = "Our own words."
    page.save()
    _run(vendor="beca")
    assert Page.objects.get(slug="policy").body_en == "Our own words."
    assert "latest released firmware" in Page.objects.get(slug="guidelines").body_en


@pytest.mark.parametrize(
    ("path", "texts"),
    [
        (
            "/en/",
            ["BECA Product Security", "within five working days", "not currently operating a vulnerability bounty"],
        ),
        ("/zh-hans/", ["BECA 产品安全", "五个工作日", "未运营漏洞奖励计划"]),
        ("/en/guidelines/", ["preferably written in English", "latest released firmware", "bounty programme"]),
        ("/en/process/", ["usually within five business days", "typically takes up to 90 days"]),
        ("/en/policy/", ["rated CRITICAL", "may or may not include a full firmware patch"]),
        ("/zh-hans/policy/", ["严重", "可能包含也可能不包含完整的固件补丁"]),
        ("/en/updates/", ["device model and the operator variant"]),
        ("/en/contact/", ["security@beca.example", "Mon–Fri 9:00–18:00 (UTC+8)", "Preferably written in English"]),
        ("/zh-hans/contact/", ["周一至周五 9:00–18:00（UTC+8）", "最好使用英文撰写"]),
        ("/en/report/", ["Reports are preferably written in English"]),
    ],
)
def test_beca_public_pages_show_its_texts(client, path, texts):
    _run(vendor="beca")
    html = client.get(path).content.decode()
    for text in texts:
        assert text in html, text
    assert "闽ICP备2021005967号-1" in html


@pytest.mark.parametrize(("lang", "empty"), [("en", EMPTY_EN), ("zh-hans", EMPTY_ZH)])
def test_the_public_advisory_list_is_empty_and_says_so(client, lang, empty):
    _run(vendor="beca")
    html = client.get(f"/{lang}/advisories/").content.decode()
    assert empty in html
    assert 'id="first-advisory"' not in html


@pytest.mark.parametrize(
    ("lang", "empty", "hint"), [("en", EMPTY_EN, "To add the first one"), ("zh-hans", EMPTY_ZH, "如需添加第一条公告")]
)
def test_staff_see_how_to_add_the_first_advisory(lang, empty, hint):
    _run(vendor="beca")
    lead = User.objects.get(email="lead@demo.test")
    html = client_for(lead).get(f"/{lang}/advisories/").content.decode()
    assert empty in html and hint in html
    assert reverse("desk:advisories:create").replace("/en/", f"/{lang}/") in html


def test_engineers_get_no_hint_to_a_desk_they_cannot_open():
    _run(vendor="beca")
    engineer = User.objects.get(email="engineer@demo.test")
    assert 'id="first-advisory"' not in client_for(engineer).get("/en/advisories/").content.decode()


def test_an_unknown_vendor_is_refused_by_name():
    with pytest.raises(CommandError, match="unknown vendor 'acme'; use visiontek or beca"):
        _run(vendor="acme")
    assert not ProductLine.objects.exists()


def test_the_default_vendor_comes_from_the_setting(settings):
    settings.PSIRT_DEMO_VENDOR = "beca"
    _run()
    assert OrganizationProfile.get().name_en == "BECA"
    settings.PSIRT_DEMO_VENDOR = "visiontek"
    _run()
    assert ProductLine.objects.filter(slug="ip-cameras-recorders").exists()
