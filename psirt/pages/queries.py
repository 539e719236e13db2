"""Editable page texts as visitors see them: the stored Markdown with the profile's placeholders filled in,
then rendered safely.

Placeholders are a closed list replaced literally (never `str.format`, which would let a page text reach
into Python objects): {vendor}, {security_email}, {lab_email}, {ack_days}, {remediation_days}."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.safestring import SafeString

from psirt.lib.markdown import escape_markdown, render_markdown
from psirt.organization.models import OrganizationProfile
from psirt.pages.defaults import DEFAULT_PAGES
from psirt.pages.models import Page

PLACEHOLDERS = ("{vendor}", "{security_email}", "{lab_email}", "{ack_days}", "{remediation_days}")


def placeholder_values(org: OrganizationProfile) -> dict[str, str]:
    """What each placeholder stands for, in the current language."""
    return {
        # The name is text inside Markdown: escaped, so "Foo_Bar*" stays literally that.
        "{vendor}": escape_markdown(org.name),
        "{security_email}": org.security_email,
        "{lab_email}": org.lab_email or org.security_email,
        "{ack_days}": str(org.ack_business_days),
        "{remediation_days}": str(org.remediation_days),
    }


def fill_placeholders(text: str, org: OrganizationProfile) -> str:
    for key, value in placeholder_values(org).items():
        text = text.replace(key, value)
    return text


def get_page(slug: str) -> Page:
    """The page row, created from the default text when it is missing (a fresh database without the data
    migration's rows, or a page deleted in the admin)."""
    page = Page.objects.filter(slug=slug).first()
    if page is not None:
        return page
    default = DEFAULT_PAGES[slug]
    try:
        with transaction.atomic():
            return Page.objects.create(
                slug=slug,
                title_en=default.title_en,
                title_zh=default.title_zh,
                body_en=default.body_en,
                body_zh=default.body_zh,
            )
    except IntegrityError:  # created by a concurrent request
        return Page.objects.get(slug=slug)


@dataclass(frozen=True)
class RenderedPage:
    slug: str
    title: str
    html: SafeString


def render_page_text(page: Page, org: OrganizationProfile | None = None) -> SafeString:
    """The page's body in the current language, placeholders filled, as safe HTML."""
    return render_markdown(fill_placeholders(page.body, org or OrganizationProfile.get()))


def rendered_page(slug: str, org: OrganizationProfile | None = None) -> RenderedPage:
    page = get_page(slug)
    org = org or OrganizationProfile.get()
    return RenderedPage(slug=page.slug, title=page.title, html=render_page_text(page, org))
