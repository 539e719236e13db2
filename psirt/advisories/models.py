"""Security advisories: what customers read, written from one or more cases.

An advisory is confidential until it is published: drafts are reached only through
`psirt.advisories.access.get_advisory_for`, and the public pages show published (and withdrawn) advisories
only. Public URLs use the advisory ID (`VT-SA-2026-004`), desk URLs the random `public_id`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from psirt.cases.models import Exploitation  # one vocabulary: advisories take it from cases
from psirt.lib.i18n import pick_language
from psirt.lib.severity import MinimumSeverity, Severity  # the one severity vocabulary
from psirt.lib.severity import label as severity_label


class AdvisoryState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# States a visitor may see: a withdrawn advisory stays readable (with the reason) so old links still explain.
PUBLIC_STATES = (AdvisoryState.PUBLISHED, AdvisoryState.WITHDRAWN)


# The counter of the advisory IDs (a psirt.counters Sequence per year).
SEQUENCE_SCOPE = "advisory"


class RequiredRemedy(models.TextChoices):
    EITHER = "either", _("a fix or a sufficient mitigation")
    FIX = "fix", _("a fix")
    MITIGATION = "mitigation", _("a sufficient mitigation")
    BOTH = "both", _("a fix and a sufficient mitigation")


class PublicationPolicy(models.Model):
    """One version of the vendor's publication policy, as the gate evaluates it. A change writes a new row
    with the next `version`; rows are never edited, so an advisory's `published_under` keeps meaning what
    it meant on the day. The newest version is the policy in force."""

    version = models.PositiveIntegerField(unique=True, editable=False)
    # Normal publication.
    minimum_severity = models.CharField(
        _("minimum severity"), max_length=10, choices=MinimumSeverity.choices, default=MinimumSeverity.ANY
    )
    required_remedy = models.CharField(
        _("what must exist"), max_length=12, choices=RequiredRemedy.choices, default=RequiredRemedy.EITHER
    )
    require_disclosure_date = models.BooleanField(_("the agreed disclosure date must have come"), default=True)
    # Expedited publication.
    expedite_when_exploited = models.BooleanField(_("expedite when actively exploited"), default=True)
    expedite_when_public_concern = models.BooleanField(_("expedite when of public concern"), default=True)
    expedite_other_triggers = models.TextField(
        _("other reasons to expedite"), blank=True, help_text=_("One per line; the approving lead judges them.")
    )
    expedite_requires_fix = models.BooleanField(_("an expedited advisory needs a fix"), default=False)
    # Four eyes: a lead does not approve their own advisory (or revision) nor an expedite justification they
    # wrote. Applies only while the team has two or more active leads: a lone lead must still be able to publish.
    four_eyes = models.BooleanField(
        _("four eyes: a lead does not approve their own work (with two or more leads)"), default=True
    )

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        verbose_name = _("publication policy")
        verbose_name_plural = _("publication policies")

    def __str__(self) -> str:
        return f"publication policy v{self.version}"

    @property
    def other_trigger_list(self) -> list[str]:
        return [line.strip() for line in self.expedite_other_triggers.splitlines() if line.strip()]


class Advisory(models.Model):
    """One security advisory with its texts in English and (optionally) Simplified Chinese."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    advisory_id = models.CharField(_("advisory ID"), max_length=40, unique=True, editable=False)
    year = models.PositiveSmallIntegerField(editable=False)
    number = models.PositiveIntegerField(editable=False)
    state = models.CharField(_("state"), max_length=12, choices=AdvisoryState.choices, default=AdvisoryState.DRAFT)
    # Published or withdrawn: on the public pages. Computed by the database from `state` (it cannot drift); one
    # value to filter on, so the public list's indexes below serve its sort orders — with "state IN (…)" SQLite
    # sorted every public row for each page.
    listed = models.GeneratedField(
        expression=models.ExpressionWrapper(models.Q(state__in=PUBLIC_STATES), output_field=models.BooleanField()),
        output_field=models.BooleanField(),
        db_persist=True,
    )
    # The texts the public search looks in, joined by line breaks (a search text never holds one, so it matches
    # the joined text exactly when it matches one of them). Computed by the database on every write, so no save path
    # can leave it stale. On SQLite a partial index on it (migration 0012) lets a search read the index instead of
    # every row of this wide table.
    search_text = models.GeneratedField(
        expression=Concat(
            "title_en",
            models.Value("\n"),
            "title_zh",
            models.Value("\n"),
            "summary_en",
            models.Value("\n"),
            "summary_zh",
            models.Value("\n"),
            "identifiers",
            models.Value("\n"),
            "advisory_id",
            output_field=models.TextField(),
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    title_en = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    summary_en = models.TextField(_("summary (English)"), blank=True)
    summary_zh = models.TextField(_("summary (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    impact_en = models.TextField(_("impact (English)"), blank=True)
    impact_zh = models.TextField(_("impact (Chinese)"), blank=True)
    workarounds_en = models.TextField(_("workarounds and mitigations (English)"), blank=True)
    workarounds_zh = models.TextField(_("workarounds and mitigations (Chinese)"), blank=True)
    actions_en = models.TextField(_("what to do first (English)"), blank=True)
    actions_zh = models.TextField(_("what to do first (Chinese)"), blank=True)
    credits_en = models.TextField(_("acknowledgments (English)"), blank=True, help_text=_("One credit per line."))
    credits_zh = models.TextField(_("acknowledgments (Chinese)"), blank=True, help_text=_("One credit per line."))

    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, blank=True)
    cvss31_vector = models.CharField(_("CVSS v3.1 vector"), max_length=300, blank=True)
    cvss31_base = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    cvss40_vector = models.CharField(_("CVSS v4.0 vector"), max_length=300, blank=True)
    cvss40_base = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    # The highest score of the two, for sorting the list by severity in the database.
    score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    cwe_id = models.PositiveIntegerField(_("CWE"), null=True, blank=True)
    exploitation = models.CharField(
        _("exploitation"), max_length=10, choices=Exploitation.choices, default=Exploitation.NONE
    )
    # CVE / CNVD / CNNVD / EUVD IDs, one per line, canonical form; a text field so the list searches them in one query.
    identifiers = models.TextField(_("CVE, CNVD and CNNVD IDs"), blank=True)
    reference_urls = models.TextField(_("references"), blank=True, help_text=_("One web address per line."))
    # When the team became aware of the exploitation stated above (from the cases; the CSAF exploit-status date).
    exploitation_aware_at = models.DateTimeField(_("team aware of exploitation"), null=True, blank=True)

    # Publication policy inputs that are the author's judgement, approved by a lead.
    mitigation_sufficient = models.BooleanField(
        _("the workarounds are a sufficient mitigation"),
        default=False,
        help_text=_("Customers can remove the risk with the workarounds alone, without a firmware update."),
    )
    public_concern = models.BooleanField(_("of public concern"), default=False)
    expedite_justification = models.TextField(_("justification for expedited publication"), blank=True)
    # Who wrote the current justification (four eyes: they do not approve it themselves).
    expedite_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expedite_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expedite_approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    scheduled_for = models.DateTimeField(_("scheduled publication"), null=True, blank=True)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why the last scheduled attempt did not publish (shown on the desk); empty when it did or none ran.
    schedule_problem = models.TextField(blank=True)

    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    # The policy version the advisory was published under; set once, at publication.
    published_under = models.ForeignKey(
        PublicationPolicy, null=True, blank=True, editable=False, on_delete=models.PROTECT, related_name="advisories"
    )
    revised_at = models.DateTimeField(_("last revised"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_reason = models.TextField(_("reason for withdrawal"), blank=True)

    # The CSAF 2.0 document this advisory was imported from (`psirt import-csaf`), newest imported version, kept
    # whole: a foreign document can say more than these fields hold (several vulnerabilities with their own
    # scores, product trees we do not model), so psirt serves it as the advisory's CSAF until the advisory is
    # revised here (see `psirt.advisories.csaf.documents.imported_document`). None for advisories written in psirt.
    source_csaf = models.JSONField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cases: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        "cases.Case", through="AdvisoryCase", related_name="advisories", blank=True
    )

    class Meta:
        ordering = ["-published_at", "-created_at"]
        verbose_name = _("advisory")
        verbose_name_plural = _("advisories")
        constraints = [models.UniqueConstraint(fields=["year", "number"], name="advisory_unique_year_number")]
        indexes = [
            models.Index(fields=["state", "published_at"], name="advisory_state_published"),
            models.Index(fields=["state", "scheduled_for"], name="advisory_state_scheduled"),
            # The newest change of a public advisory is the list's Last-Modified, asked on every request.
            models.Index(fields=["state", "updated_at"], name="advisory_state_updated"),
            # The public list's sort orders (psirt.advisories.queries.SORTS), one page read in index order.
            models.Index(fields=["listed", "published_at", "id"], name="advisory_listed_published"),
            models.Index(fields=["listed", "score", "published_at", "id"], name="advisory_listed_score"),
            models.Index(fields=["listed", "year", "number"], name="advisory_listed_id"),
        ]

    def __str__(self) -> str:
        return self.advisory_id

    def get_absolute_url(self) -> str:
        return reverse("advisories:detail", args=[self.advisory_id])

    @property
    def is_public(self) -> bool:
        return self.state in PUBLIC_STATES

    @property
    def title(self) -> str:
        return pick_language(self.title_en, self.title_zh)

    @property
    def summary(self) -> str:
        return pick_language(self.summary_en, self.summary_zh)

    @property
    def description(self) -> str:
        return pick_language(self.description_en, self.description_zh)

    @property
    def impact(self) -> str:
        return pick_language(self.impact_en, self.impact_zh)

    @property
    def workarounds(self) -> str:
        return pick_language(self.workarounds_en, self.workarounds_zh)

    @property
    def actions(self) -> str:
        return pick_language(self.actions_en, self.actions_zh)

    @property
    def credit_lines(self) -> list[str]:
        return [line.strip() for line in pick_language(self.credits_en, self.credits_zh).splitlines() if line.strip()]

    @property
    def identifier_list(self) -> list[str]:
        return [line.strip() for line in self.identifiers.splitlines() if line.strip()]

    @property
    def cve_ids(self) -> list[str]:
        return [i for i in self.identifier_list if i.startswith("CVE-")]

    @property
    def product_names(self) -> list[str]:
        """The affected products' names, each once however many variants it has, in the rows' order."""
        return list(dict.fromkeys(row.product.name for row in self.affected.all()))

    @property
    def other_ids(self) -> list[str]:
        return [i for i in self.identifier_list if not i.startswith("CVE-")]

    @property
    def reference_list(self) -> list[str]:
        return [line.strip() for line in self.reference_urls.splitlines() if line.strip()]

    @property
    def severity_class(self) -> str:
        return f"sev-{(self.severity or 'none').lower()}"

    @property
    def severity_label(self) -> str:
        """`get_severity_display()`, in a tenth of its time (`psirt.lib.severity.label`)."""
        return severity_label(self.severity)

    @property
    def exploitation_label(self) -> str:
        """`get_exploitation_display()`: the status in the visitor's language, an unknown value as it is; without
        the hashing of every lazy label that `get_exploitation_display` does on each call."""
        try:
            return str(Exploitation(self.exploitation).label)
        except ValueError:
            return self.exploitation


class AdvisoryCase(models.Model):
    """A case an advisory was written from (one advisory may cover several cases)."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="case_links")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="advisory_links")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["advisory", "case"], name="advisory_case_unique")]

    def __str__(self) -> str:
        return f"{self.advisory_id} ← {self.case_id}"


class AffectedProduct(models.Model):
    """A product (and variant) the advisory affects: releases from `introduced` (inclusive; None = every
    earlier release) up to `fixed` (exclusive; None = no fix yet). Bounds are catalog releases, ordered by
    their `position`, never by comparing version strings."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="affected")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="advisory_rows")
    variant = models.CharField(_("variant"), max_length=100, blank=True)
    introduced = models.ForeignKey(
        "catalog.FirmwareRelease",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("first affected release"),
    )
    fixed = models.ForeignKey(
        "catalog.FirmwareRelease",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="advisories_fixed",
        verbose_name=_("fixed in"),
    )

    class Meta:
        ordering = ["product__name", "variant", "id"]
        constraints = [
            models.UniqueConstraint(fields=["advisory", "product", "variant"], name="affected_unique_product")
        ]
        # The advisories of a few products (the list's product and line filters, a search's matching products) read
        # from the index alone, not from each affected row.
        indexes = [models.Index(fields=["product", "advisory"], name="affected_product_advisory")]

    def __str__(self) -> str:
        return f"{self.advisory_id}: {self.product_id}/{self.variant}"

    def affects_position(self, position: int) -> bool:
        """Whether a release at `position` (same product and variant) lies in the affected range."""
        if self.introduced is not None and position < self.introduced.position:
            return False
        return self.fixed is None or position < self.fixed.position


class Revision(models.Model):
    """A numbered, dated change of a published advisory, summarised for customers."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    date = models.DateTimeField(default=timezone.now)
    summary_en = models.CharField(_("summary (English)"), max_length=500)
    summary_zh = models.CharField(_("summary (Chinese)"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["advisory", "number"], name="revision_unique_number")]

    def __str__(self) -> str:
        return f"{self.advisory_id} r{self.number}"

    @property
    def summary(self) -> str:
        return pick_language(self.summary_en, self.summary_zh)


class FactOverride(models.Model):
    """An author's decision that one fact of the advisory differs on purpose from what its cases say, with the
    reason. While it exists the fact is not derived from the cases and not reported as a difference; removing
    it returns the fact to the derived value. (See `psirt.advisories.services.case_facts.derived_facts`.)"""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="fact_overrides")
    fact = models.CharField(_("fact"), max_length=40)
    reason = models.TextField(_("reason"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["fact"]
        constraints = [models.UniqueConstraint(fields=["advisory", "fact"], name="fact_override_unique")]

    def __str__(self) -> str:
        return f"{self.advisory_id} {self.fact}"


class PendingRevision(models.Model):
    """The one open change of a published advisory, kept apart from the published row until it is published.

    Editing a published advisory writes here, never on the advisory: the public page, feeds, CSAF, the API and
    subscribers keep seeing the published version. `changes` holds the cleaned new values of the changed
    fields only (name → value, as `update_advisory` accepts them); `affected` the whole new affected table
    (rows of product, variant, introduced and fixed ids) or None when the table is unchanged. The revision goes
    through the same review as a first publication — draft → in review → approved by a lead, or an expedited
    publication with a written justification approved by a lead — and publishing it applies the changes, adds
    the next numbered `Revision` and deletes this row."""

    advisory = models.OneToOneField(Advisory, on_delete=models.CASCADE, related_name="pending_revision")
    state = models.CharField(_("state"), max_length=12, choices=AdvisoryState.choices, default=AdvisoryState.DRAFT)
    changes = models.JSONField(default=dict, blank=True)
    affected = models.JSONField(null=True, blank=True)
    summary_en = models.CharField(_("what changed (English)"), max_length=500)
    summary_zh = models.CharField(_("what changed (Chinese)"), max_length=500, blank=True)
    notify = models.BooleanField(_("tell subscribers"), default=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    expedite_justification = models.TextField(_("justification for expedited publication"), blank=True)
    # Who wrote the current justification (four eyes: they do not approve it themselves).
    expedite_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expedite_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expedite_approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("pending revision")
        verbose_name_plural = _("pending revisions")

    def __str__(self) -> str:
        return f"{self.advisory_id} pending revision"
