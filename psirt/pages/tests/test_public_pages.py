"""The public Security Response Center pages: a real home page, the editable pages with their
default texts from a fresh install, both languages, and hostile text rendered inert."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from django.conf import settings
from django.template import engines
from django.urls import reverse
from django.utils import timezone

from psirt.organization.models import OrganizationProfile, bump_change_token
from psirt.organization.services import update_organization
from psirt.pages.models import STANDALONE_PAGES, Page, PageSlug
from psirt.pages.services import update_page
from psirt.pages.views import public

EMPTY = "There is currently no information to display."

pytestmark = pytest.mark.django_db


def test_a_fresh_install_has_every_page_in_both_languages():
    # Written by the data migration, without demo data.
    pages = {p.slug: p for p in Page.objects.all()}
    assert set(pages) == set(PageSlug.values)
    for page in pages.values():
        assert page.title_en and page.title_zh and page.body_en and page.body_zh


def test_home_page_is_a_landing_page(client):
    update_organization(actor=None, name_en="Acme Devices", security_email="psirt@acme.example")
    response = client.get(reverse("pages:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme Devices" in html
    assert "coordinated vulnerability disclosure" in html
    assert "Report a vulnerability" in html
    assert 'id="advisories"' in html and EMPTY in html
    assert reverse("catalog:updates") in html
    assert "psirt@acme.example" in html


def test_home_report_button_leads_to_the_report_form_or_the_guidelines(client):
    from django.urls import NoReverseMatch

    try:
        target = reverse("intake:report")
    except NoReverseMatch:
        target = reverse("pages:guidelines")
    html = client.get(reverse("pages:home")).content.decode()
    assert f'class="btn btn-primary" href="{target}"' in html


@pytest.mark.parametrize("slug", STANDALONE_PAGES)
def test_every_page_renders_in_both_languages(client, slug):
    response = client.get(reverse(f"pages:{slug}"))
    assert response.status_code == 200
    page = Page.objects.get(slug=slug)
    assert page.title_en in response.content.decode()
    response = client.get(f"/zh-hans/{slug}/")
    assert response.status_code == 200
    assert page.title_zh in response.content.decode()


def test_default_texts_carry_the_seed_requirements(client):
    update_organization(actor=None, name_en="Acme", ack_business_days=5, remediation_days=90)
    guidelines = client.get(reverse("pages:guidelines")).content.decode()
    for item in (
        "Organization and contact information",
        "Reference information",
        "Technical details",
        "Information about any public exploit",
        "disclosure plans",
    ):
        assert item in guidelines
    assert "does not currently operate a vulnerability bounty" in guidelines
    assert "within 5 business days" in guidelines
    policy = client.get(reverse("pages:policy")).content.decode()
    assert "actively exploited" in policy and "sufficient to help customers" in policy
    process = client.get(reverse("pages:process")).content.decode()
    assert "up to 90" in process


def test_placeholders_follow_the_profile_in_chinese(client):
    update_organization(actor=None, name_en="Acme", name_zh="艾克米", ack_business_days=3)
    html = client.get("/zh-hans/guidelines/").content.decode()
    assert "艾克米" in html and "3 个工作日" in html
    assert "{vendor}" not in html and "{ack_days}" not in html


def test_vendor_name_with_markdown_or_html_stays_literal(client):
    update_organization(actor=None, name_en="*Evil* <script>alert(1)</script>")
    html = client.get(reverse("pages:policy")).content.decode()
    assert "<script>alert(1)" not in html
    assert "<em>Evil</em>" not in html


@pytest.mark.parametrize("slug", [*STANDALONE_PAGES, PageSlug.HOME])
def test_html_and_script_in_page_texts_are_rendered_inert(client, slug):
    page = Page.objects.get(slug=slug)
    update_page(
        actor=None,
        page=page,
        title_en="<script>alert('t')</script>Title",
        body_en='<img src=x onerror="alert(1)"> [x](javascript:alert(2)) ![t](https://tracker.example/p.gif)',
    )
    url = reverse("pages:home") if slug == PageSlug.HOME else reverse(f"pages:{slug}")
    html = client.get(url).content.decode()
    assert "<script>alert('t')" not in html
    assert "<img src=x" not in html
    assert 'href="javascript' not in html
    assert 'src="https://tracker.example' not in html


def test_acknowledgments_page_says_so_when_nobody_is_credited_yet(client):
    assert EMPTY in client.get(reverse("pages:acknowledgments")).content.decode()


def test_footer_line_comes_from_the_profile(client):
    update_organization(actor=None, footer_en="Licence 123-EN", footer_zh="许可证 123")
    assert "Licence 123-EN" in client.get(reverse("pages:home")).content.decode()
    assert "许可证 123" in client.get("/zh-hans/").content.decode()


def test_missing_page_rows_are_recreated_from_the_defaults(client):
    Page.objects.filter(slug=PageSlug.POLICY).delete()
    response = client.get(reverse("pages:policy"))
    assert response.status_code == 200
    assert Page.objects.filter(slug=PageSlug.POLICY).exists()


def test_team_key_download(client):
    assert client.get(reverse("pages:pgp_key")).status_code == 404
    OrganizationProfile.objects.filter(id=OrganizationProfile.get().id).update(
        pgp_public_key="-----BEGIN PGP PUBLIC KEY BLOCK-----\n...\n-----END PGP PUBLIC KEY BLOCK-----\n"
    )
    bump_change_token()  # a write past the model's signals says so itself
    response = client.get(reverse("pages:pgp_key"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/pgp-keys")


def test_unknown_language_prefix_and_unknown_page_are_404(client):
    assert client.get("/xx/policy/").status_code == 404
    assert client.get("/en/no-such-page/").status_code == 404


def test_footer_and_vendor_name_with_html_are_rendered_inert(client):
    update_organization(actor=None, name_en="<b>Acme</b>", footer_en="<script>alert('icp')</script>")
    html = client.get(reverse("pages:home")).content.decode()
    assert "<script>alert('icp')" not in html and "&lt;script&gt;" in html
    assert "<b>Acme</b>" not in html


def test_lists_laid_out_as_stacks_have_no_bullets_and_identifiers_never_wrap():
    # The home page's advisory cards are a <ul class="stack">; IDs (CVE, CNVD, advisory) are <span class="id">.
    css = (settings.BASE_DIR / "psirt/static/psirt/css/psirt.css").read_text(encoding="utf-8")
    rules = {selector.strip(): body for selector, body in re.findall(r"^([^{}/\n][^{}\n]*)\{([^}]*)\}", css, re.M)}
    assert "list-style: none" in rules["ul.stack, ol.stack"]
    assert "padding-left: 0" in rules["ul.stack, ol.stack"]
    assert "white-space: nowrap" in rules[".id"]


# The cards of the latest advisories as the home page wrote them through the template language: `advisory_cards`
# must write the same bytes.
CARDS_TEMPLATE = """{% for advisory in advisories %}
    <li class="card"><a class="card-link" href="{{ advisory.get_absolute_url }}"><span class="id">{{ advisory.advisory_id }}</span> {{ advisory.title }}</a>
      <p class="card-meta">{% if advisory.severity %}<span class="badge sev-{{ advisory.severity|lower }}">{{ advisory.severity_label|default:advisory.severity }}</span>{% endif %}
      {% if advisory.published_at %}<time datetime="{{ advisory.published_at|date:'c' }}">{{ advisory.published_at|date:"Y-m-d" }}</time>{% endif %}</p></li>
    {% endfor %}"""  # noqa: E501


@dataclasses.dataclass
class Card:
    advisory_id: str
    title: str
    severity: str
    severity_label: str
    published_at: dt.datetime | None
    url: str

    def get_absolute_url(self) -> str:
        return self.url


HOSTILE = ['<script>alert("x")</script>', "漏洞 «引号» & 'q' \"dq\"", "100% _x_ {{ y }} {% z %}", "x" * 300]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_advisory_cards_write_what_the_template_wrote(zone: str) -> None:
    cards = [
        Card(
            advisory_id=f"BN-SA-2026-{i:05d}{text[:3]}",
            title=text,
            severity=["Critical", "", "Med<i>um", "High"][i % 4],
            severity_label=["严重", "", "", "High & <b>"][i % 4],
            published_at=None if i == 2 else dt.datetime(2026, 3, 9, 20 + i % 4, 30, 5, 123, tzinfo=dt.UTC),
            url=f"/en/advisories/{text}?a=1&b=2",
        )
        for i, text in enumerate(HOSTILE * 2)
    ]
    with timezone.override(zone):
        expected = engines["django"].from_string(CARDS_TEMPLATE).render({"advisories": cards})
        assert public.advisory_cards(cards) == expected
    assert "<script>" not in expected and "&lt;script&gt;" in expected
    assert public.advisory_cards([]) == ""


def test_the_home_page_shows_the_cards_in_the_list(client, monkeypatch):
    card = Card("BN-SA-2026-00001", "<b>Camera</b>", "High", "High", dt.datetime(2026, 3, 9, tzinfo=dt.UTC), "/x/")
    monkeypatch.setattr(public.sections, "latest_advisories", lambda limit: [card])
    html = client.get(reverse("pages:home")).content.decode()
    assert f'<ul class="stack">\n    {public.advisory_cards([card])}\n  </ul>' in html
