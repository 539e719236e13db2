"""The editable public pages, and the token that changes with anything a cached public page shows."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from psirt.lib.i18n import pick_language


class PageSlug(models.TextChoices):
    HOME = "home", _("Home")
    POLICY = "policy", _("Disclosure policy")
    PROCESS = "process", _("Response process")
    GUIDELINES = "guidelines", _("Reporting guidelines")
    ACKNOWLEDGMENTS = "acknowledgments", _("Acknowledgments")
    CONTACT = "contact", _("Security lab and contact")
    # Not a page of its own: the introduction shown on the Software updates page.
    UPDATES = "updates", _("Software updates introduction")


# Pages with their own public address /<lang>/<slug>/ (home is /, the updates text sits on /updates/).
STANDALONE_PAGES = [
    PageSlug.POLICY,
    PageSlug.PROCESS,
    PageSlug.GUIDELINES,
    PageSlug.ACKNOWLEDGMENTS,
    PageSlug.CONTACT,
]


class Page(models.Model):
    """An editable public page in both languages, written in Markdown (rendered safely)."""

    slug = models.CharField(_("page"), max_length=40, choices=PageSlug.choices, unique=True)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    body_en = models.TextField(_("text (English, Markdown)"), blank=True)
    body_zh = models.TextField(_("text (Chinese, Markdown)"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("page")
        verbose_name_plural = _("pages")

    def __str__(self) -> str:
        return self.title_en

    @property
    def title(self) -> str:
        return pick_language(self.title_en, self.title_zh)

    @property
    def body(self) -> str:
        return pick_language(self.body_en, self.body_zh)


class SiteGeneration(models.Model):
    """One row (id=1) whose token changes, in the same transaction, with every change of anything a cached public
    page shows besides advisories (catalog, organization profile, pages): see `psirt.pages.generation`."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    n = models.BigIntegerField(default=0)
    # A fresh random value per change rather than the count alone: a rolled-back transaction or a database
    # restored from a backup brings an old count back with other data behind it, never an old token.
    token = models.CharField(max_length=32, default="")

    class Meta:
        verbose_name = _("site generation")
        verbose_name_plural = _("site generation")

    def __str__(self) -> str:
        return f"{self.n} ({self.token})"
