"""`psirt demo --vendor beca`: BECA's own site out of the box, idempotent, with an empty advisory list."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone, translation

from conftest import client_for
from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.exceptions import LeadApprovalRequired, SeverityBelowPolicy
from psirt.advisories.models import Advisory, AdvisoryState, PublicationPolicy
from psirt.advisories.tests.conftest import approve, make_case
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
    # VisionTek is what the setting now asks for: refused here, as a database holds one reference vendor.
    with pytest.raises(CommandError, match="holds the beca demo; load visiontek into a database of its own"):
        _run()
    assert not ProductLine.objects.filter(slug="ip-cameras-recorders").exists()


# --- BECA's publication policy, as its page states it and the gate enforces it ---------------------------------

LOW_VECTOR = "CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"


def _beca_advisory(*, exploitation: str = "none", vector: str = LOW_VECTOR) -> tuple[Advisory, User]:
    """A draft advisory on a BECA thermostat (its case assigned to the demo's first handler), with a sufficient
    mitigation and no fixed release."""
    _run(vendor="beca")
    lead = User.objects.get(email="lead@demo.test")
    handler = User.objects.get(email="handler1@demo.test")
    product = Product.objects.filter(line__slug="beca-thermostats").order_by("pk")[0]
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    case = make_case(
        product=product,
        disclosure_date=yesterday,
        cvss31_vector=vector,
        exploitation=exploitation,
        assignee=handler,
    )
    advisory = services.create_advisory(cases=[case], actor=lead)
    services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={"workarounds_en": "Block port 8080 at the gateway.", "mitigation_sufficient": True},
        affected=[services.AffectedInput(product=product)],
    )
    advisory.refresh_from_db()
    return advisory, lead


def test_beca_sets_its_publication_policy_once():
    _run(vendor="beca")
    policy = services.current_policy()
    assert (policy.minimum_severity, policy.required_remedy, policy.expedite_requires_fix) == (
        "Critical",
        "mitigation",
        False,
    )
    versions = PublicationPolicy.objects.count()
    _run(vendor="beca")
    assert PublicationPolicy.objects.count() == versions


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "An advisory is published only when its severity is CRITICAL."),
        ("zh-hans", "仅当公告的严重等级为 CRITICAL 时才会发布。"),
    ],
)
def test_beca_policy_page_states_the_critical_rule(client, lang, text):
    _run(vendor="beca")
    assert text in client.get(f"/{lang}/policy/").content.decode()


def test_a_low_beca_advisory_is_refused_naming_the_critical_rule():
    advisory, lead = _beca_advisory()
    advisory = approve(advisory, lead)
    with (
        translation.override("en"),
        pytest.raises(SeverityBelowPolicy, match="only CRITICAL advisories; this one is LOW"),
    ):
        services.publish_advisory(advisory=advisory, actor=lead)
    advisory.refresh_from_db()
    assert advisory.state != AdvisoryState.PUBLISHED


def test_an_actively_exploited_beca_advisory_is_expedited_without_a_patch_after_a_lead_approves():
    advisory, lead = _beca_advisory(exploitation="active")
    handler = User.objects.get(email="handler1@demo.test")
    advisory = services.set_expedite_justification(
        advisory=advisory, actor=handler, justification="Exploited against building gateways this week."
    )
    with pytest.raises(LeadApprovalRequired):
        services.publish_advisory(advisory=advisory, actor=lead, expedite=True)
    advisory = services.approve_expedite(advisory=advisory, actor=lead)
    published = services.publish_advisory(advisory=advisory, actor=lead, expedite=True)
    assert published.state == AdvisoryState.PUBLISHED
    assert not published.affected.exclude(fixed=None).exists()  # no firmware patch
    assert published.published_under == services.current_policy()


def test_visiontek_demo_states_and_enforces_a_fix_and_a_mitigation(client):
    """VisionTek's page says "precautionary measures and fix patches"; its gate asks for both, and the
    generated conditions beside the prose say the same."""
    _run(vendor="visiontek")
    assert services.current_policy().required_remedy == "both"
    english = client.get("/en/policy/").content.decode()
    chinese = client.get("/zh-hans/policy/").content.decode()
    body = Page.objects.get(slug="policy").body_en
    assert "and both a fix" in body and "a fix\n   or mitigation" not in body
    assert "and both a fix" in english
    assert "only when a fix and a sufficient mitigation is available" in english
    assert "修复方案和足以帮助客户消除安全风险的预防措施均已具备" in chinese
    assert Advisory.objects.filter(state=AdvisoryState.PUBLISHED).exists()  # its own advisories pass its gate
