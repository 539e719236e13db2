"""The vendor's profile (one per deployment) and the leads' corrections to its business-day calendar.

Every app reads these: names and contacts on pages and mails, the advisory prefix, the acknowledgment and
remediation times, and the calendar deadlines are counted in (`psirt.organization.queries.organization_calendar`).
"""

from __future__ import annotations

import secrets
from typing import Any

import django
from django.core.validators import RegexValidator
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.utils import DJANGO_VERSION_PICKLE_KEY
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from psirt.lib.crypto import EncryptedTextField
from psirt.lib.i18n import pick_language
from psirt.lib.kept import Kept


class ReportLanguage(models.TextChoices):
    """The language the vendor prefers reports in: a hint shown to reporters, never a reason to refuse one."""

    ANY = "", _("No preference")
    ENGLISH = "en", _("English")
    CHINESE = "zh-hans", _("Chinese")


class OrganizationProfile(models.Model):
    """Who the vendor is and its defaults. Exactly one row (id=1); `OrganizationProfile.get()` creates it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    name_en = models.CharField(_("vendor name (English)"), max_length=200, default="Example Devices")
    name_zh = models.CharField(_("vendor name (Chinese)"), max_length=200, blank=True)
    advisory_prefix = models.CharField(
        _("advisory ID prefix"),
        max_length=12,
        default="PSIRT",
        validators=[RegexValidator(r"^[A-Z][A-Z0-9]{1,11}$", _("Use 2–12 capital letters or digits, e.g. VT."))],
        help_text=_("Advisories are numbered <PREFIX>-SA-<YEAR>-<NNN>."),
    )
    security_email = models.EmailField(_("security contact e-mail"), default="security@example.com")
    lab_email = models.EmailField(_("security lab e-mail"), blank=True)
    contact_hours_en = models.CharField(
        _("contact hours (English)"),
        max_length=200,
        blank=True,
        help_text=_("When the team answers, e.g. Mon–Fri 9:00–18:00 (UTC+8)."),
    )
    contact_hours_zh = models.CharField(_("contact hours (Chinese)"), max_length=200, blank=True)
    report_language = models.CharField(
        _("preferred report language"),
        max_length=10,
        choices=ReportLanguage.choices,
        blank=True,
        default=ReportLanguage.ANY,
        help_text=_("Shown to reporters as a preference; reports in any language are still accepted."),
    )
    website = models.URLField(_("vendor website"), blank=True)
    pgp_public_key = models.TextField(_("team OpenPGP public key"), blank=True)
    footer_en = models.CharField(_("footer line (English)"), max_length=300, blank=True)
    footer_zh = models.CharField(_("footer line (Chinese)"), max_length=300, blank=True)
    calendar_country = models.CharField(
        _("calendar country"), max_length=2, default="CN", help_text=_("ISO 3166 code for public holidays.")
    )
    ack_business_days = models.PositiveSmallIntegerField(_("acknowledge within (business days)"), default=5)
    remediation_days = models.PositiveSmallIntegerField(_("remediate within (days)"), default=90)
    # CRA Art. 14(7): reports go to the coordinator CSIRT of this Member State. `eu_reporting_basis` says why this
    # State: the main establishment in the EU, or, without one, the first of the fallbacks the article lists.
    eu_member_state = models.CharField(
        _("EU Member State for CRA reports"),
        max_length=2,
        blank=True,
        validators=[RegexValidator(r"^([A-Z]{2})?$", _("Use a two-letter country code, e.g. DE."))],
        help_text=_("Where cybersecurity decisions are mainly taken (main establishment), or the fallback below."),
    )
    eu_reporting_basis = models.CharField(
        _("basis of that choice (CRA Art. 14(7))"),
        max_length=32,
        choices=[
            ("main_establishment", _("Main establishment in the EU")),
            ("authorised_representative", _("Authorised representative")),
            ("importer", _("Importer")),
            ("distributor", _("Distributor")),
            ("most_users", _("Member State with the most users")),
        ],
        default="main_establishment",
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Replaced by a fresh random value in the transaction of every change of the profile or of a calendar day
    # (`bump_change_token`), so a copy read under one value is the current one while that value is current.
    change_token = models.CharField(max_length=32, default="", editable=False)

    class Meta:
        verbose_name = _("organization profile")
        verbose_name_plural = _("organization profile")

    def __str__(self) -> str:
        return self.name_en

    @classmethod
    def get(cls) -> OrganizationProfile:
        """The profile (created on first use). Every report and deadline reads it, so a copy is kept per
        process and handed out while the row's change token is still the one it was read under (and for
        `KEEP_AT_MOST` seconds at most): one small query instead of reading the row. Each caller gets its own
        copy to change."""
        return read_profile()[0]

    @property
    def name(self) -> str:
        return pick_language(self.name_en, self.name_zh)

    @property
    def contact_hours(self) -> str:
        return pick_language(self.contact_hours_en, self.contact_hours_zh)

    @property
    def report_language_name(self) -> str:
        """The preferred report language by name in the page's language ("" without a preference)."""
        return str(ReportLanguage(self.report_language).label) if self.report_language else ""

    @property
    def footer(self) -> str:
        return pick_language(self.footer_en, self.footer_zh)


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Day off")
    WORKDAY = "workday", _("Working day")


class CalendarDay(models.Model):
    """A lead's correction to the business-day calendar: an extra day off, or a day worked (make-up day)."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=CalendarDayKind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.kind}"


# The text the canary holds. Knowing it helps no one: Fernet is not weakened by a known plaintext.
KEY_CANARY_TEXT = "psirt key canary: the encryption keys can read this deployment's data"


class KeyCanary(models.Model):
    """A known text encrypted with the deployment's encryption keys, stored once (id=1) when the database is
    first migrated. Start-up and the deployment checks decrypt it: keys that cannot are refused at once, instead
    of every report failing later. `psirt rotatekeys` re-encrypts it with the rest of the data."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    value = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="key_canary_single_row")]

    def __str__(self) -> str:
        return "key canary"


# --- the per-process copy of the profile and of what depends on it (the business-day calendar) ---------------

# A write that bypasses the token (raw SQL without `bump_change_token`) is seen within this bound all the same.
KEEP_AT_MOST = 60.0
_profiles = Kept(max_entries=4, max_age=KEEP_AT_MOST)
# Shared by the process's threads, as the holiday tables a calendar reads are
# (`psirt.lib.business_days.country_holidays`).
_derived = Kept(max_entries=16, max_age=KEEP_AT_MOST)


def _table(using: str) -> str:
    return connections[using].ops.quote_name(OrganizationProfile._meta.db_table)


# The token's SELECT per database alias: its text depends on nothing else, and every report reads the token.
_TOKEN_SQL = Kept(max_entries=8, max_age=float("inf"))


def current_change_token(using: str = DEFAULT_DB_ALIAS) -> str | None:
    """The profile row's change token now, as the caller's transaction sees it (None before the row exists)."""
    database = connections[using]
    sql = _TOKEN_SQL.get(
        "",
        (database.vendor, using),
        lambda: f"SELECT change_token FROM {_table(using)} WHERE id = 1",  # noqa: S608
    )
    with database.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return None if row is None else str(row[0])


def read_profile() -> tuple[OrganizationProfile, str | None]:
    """`OrganizationProfile.get()` and the change token read for it, which the profile is the current one under
    (None when the row was only just created: its token is replaced after the INSERT, so nothing may be kept
    under it). A caller that also needs what is kept under the token (`derived`) passes this one on instead of
    reading the token a second time."""
    token = current_change_token()
    if token is None:  # no row yet: the new row's token is replaced right after its INSERT, nothing to keep
        return OrganizationProfile.objects.get_or_create(id=1)[0], None
    profile = _profiles.get(token, "profile", lambda: OrganizationProfile.objects.get_or_create(id=1)[0])
    if profile.change_token != token:  # changed between the two reads: kept under a token it was not read at
        _profiles.clear()
        return OrganizationProfile.objects.get_or_create(id=1)[0], None
    return _copy(profile), token


def _copy(profile: OrganizationProfile) -> OrganizationProfile:
    """A copy of `profile` of its own, made as `copy.copy` makes it (Django's `__getstate__` and `__setstate__`:
    the instance's fields and a state of its own) without the generic reduce protocol around them."""
    state = profile.__getstate__()
    state[DJANGO_VERSION_PICKLE_KEY] = django.__version__
    twin = OrganizationProfile.__new__(OrganizationProfile)
    twin.__setstate__(state)  # type: ignore[attr-defined]  # Django's, missing from its stubs
    return twin


def derived(name: str, token: str | None, build: Any) -> Any:
    """`build()`, kept while the change token is `token` (None: not kept), for `KEEP_AT_MOST`
    seconds at most. For values computed from the profile and the calendar days only, which every change of
    either replaces the token of."""
    return build() if token is None else _derived.get(token, name, build)


def bump_change_token(using: str = DEFAULT_DB_ALIAS) -> None:
    """Replace the change token, in the caller's transaction: a rolled-back change leaves the old token (which
    still matches the old data), a committed one moves data and token together. Writes that bypass signals
    (QuerySet.update(), bulk writes, raw SQL) of the profile or the calendar days must call it themselves."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table(using)} SET change_token = %s WHERE id = 1",  # noqa: S608 — quoted table name
            [secrets.token_hex(16)],
        )


def _changed(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    bump_change_token(using)
