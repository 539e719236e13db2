"""The vendor's catalog: product lines, products and their firmware releases.

Everything later (reports, cases, advisories, CSAF product trees, "am I affected") refers to these rows, so
their public identifiers (slugs) are stable and their ordering is explicit."""

from __future__ import annotations

import datetime
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from psirt.lib.i18n import pick_language
from psirt.lib.validators import validate_http_url

# Orders and positions are small numbers people type; anything bigger is a typo (and would overflow
# PostgreSQL's integer on the way in).
MAX_POSITION = 1_000_000
EARLIEST_DATE = datetime.date(1990, 1, 1)

validate_slug = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z",
    _("Use lower-case letters, digits and single hyphens between them, e.g. ip-camera-x5."),
    code="invalid_slug",
)
validate_position = MaxValueValidator(MAX_POSITION, _("Use a number up to %(limit_value)s."))


def validate_catalog_date(value: datetime.date) -> None:
    """Dates in the catalog are real dates of this era; year 9999 or 1900 is a typo."""
    if value < EARLIEST_DATE:
        raise ValidationError(_("This date is too early: use %(date)s or later."), params={"date": EARLIEST_DATE})
    latest = timezone.localdate() + datetime.timedelta(days=50 * 366)
    if value > latest:
        raise ValidationError(_("This date is too far in the future."))


def validate_release_date(value: datetime.date) -> None:
    """A release date may be planned up to a year ahead, not further."""
    validate_catalog_date(value)
    if value > timezone.localdate() + datetime.timedelta(days=366):
        raise ValidationError(_("A release date can be at most one year ahead."))


# Member States are named by their ISO 3166 alpha-2 codes, comma-separated (the EU list itself is regulatory data).
validate_member_states = RegexValidator(
    r"^([A-Z]{2}(,[A-Z]{2})*)?$",
    _("Use two-letter country codes separated by commas, e.g. DE,FR,NL."),
)


class ProductLine(models.Model):
    """A family of products, e.g. "IP cameras and recorders". Product engineers are invited per line."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True, validators=[validate_slug])
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0, validators=[validate_position])
    # db_default: rows written by code that predates the column (older migrations' data steps) get False too.
    sboms_public = models.BooleanField(
        _("SBOMs public"),
        default=False,
        db_default=False,
        help_text=_(
            "List the components of each public release on its public page and offer its SBOM, as uploaded, for "
            'download. "Am I affected?" then also answers "not affected, component not present" when no '
            "component of the release matches a vulnerability nobody has decided on yet."
        ),
    )
    # Where the line is sold in the EU: the "Member States where the product is available" of a CRA Art. 14 report.
    # db_default: rows written by code that predates the column (older migrations' data steps) get "" too.
    eu_member_states = models.CharField(
        _("EU Member States where available"),
        max_length=200,
        blank=True,
        default="",
        db_default="",
        validators=[validate_member_states],
        help_text=_("Two-letter codes separated by commas, e.g. DE,FR,NL; empty when not sold in the EU."),
    )

    class Meta:
        ordering = ["position", "name_en"]
        verbose_name = _("product line")
        verbose_name_plural = _("product lines")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return pick_language(self.name_en, self.name_zh)

    @property
    def description(self) -> str:
        return pick_language(self.description_en, self.description_zh)


class Product(models.Model):
    """One device model (or a family of model names sharing firmware)."""

    line = models.ForeignKey(ProductLine, on_delete=models.PROTECT, related_name="products", verbose_name=_("line"))
    slug = models.SlugField(
        _("slug"),
        max_length=80,
        unique=True,
        validators=[validate_slug],
        help_text=_("Part of the public address /updates/<slug>/."),
    )
    name = models.CharField(_("name"), max_length=200)
    model_numbers = models.CharField(
        _("model numbers"), max_length=500, blank=True, help_text=_("Comma-separated model names sold under it.")
    )
    hardware_revisions = models.CharField(
        _("hardware revisions"), max_length=200, blank=True, help_text=_("Comma-separated, e.g. A1, A2.")
    )
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    end_of_support = models.DateField(
        _("end of support"),
        null=True,
        blank=True,
        validators=[validate_catalog_date],
        help_text=_("The last day firmware updates, including security fixes, are provided."),
    )
    is_public = models.BooleanField(_("listed publicly"), default=True)

    class Meta:
        ordering = ["line__position", "name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.name

    @property
    def description(self) -> str:
        return pick_language(self.description_en, self.description_zh)

    @property
    def model_number_list(self) -> list[str]:
        return [m.strip() for m in self.model_numbers.split(",") if m.strip()]


class FirmwareRelease(models.Model):
    """A firmware version of a product. `position` orders releases within a product (and variant):
    version strings of device vendors do not sort reliably by themselves (V5.5.0 build 210318 …)."""

    # The identifier used in desk URLs: integer keys never appear in a URL.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="releases", verbose_name=_("product"))
    version = models.CharField(_("version"), max_length=100)
    variant = models.CharField(
        _("variant"),
        max_length=100,
        blank=True,
        help_text=_("Region or operator variant, empty for the standard build."),
    )
    position = models.PositiveIntegerField(
        _("order"), validators=[validate_position], help_text=_("Higher is newer, within the product.")
    )
    release_date = models.DateField(_("release date"), null=True, blank=True, validators=[validate_release_date])
    download_url = models.URLField(_("download URL"), max_length=500, blank=True, validators=[validate_http_url])
    notes_en = models.TextField(_("release notes (English)"), blank=True)
    notes_zh = models.TextField(_("release notes (Chinese)"), blank=True)
    is_public = models.BooleanField(_("listed publicly"), default=True)

    class Meta:
        ordering = ["product", "-position"]
        verbose_name = _("firmware release")
        verbose_name_plural = _("firmware releases")
        constraints = [
            models.UniqueConstraint(fields=["product", "version", "variant"], name="release_unique_version"),
            models.UniqueConstraint(fields=["product", "variant", "position"], name="release_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} {self.version}" + (f" ({self.variant})" if self.variant else "")

    @property
    def notes(self) -> str:
        return pick_language(self.notes_en, self.notes_zh)
