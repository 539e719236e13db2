"""Cases: the handled form of one or more reports.

A case is confidential: it is reached only through `psirt.cases.access.get_case_for`. Its people are the
leads, its assigned handlers, product engineers invited to it, and product engineers of its product line
(`User.product_lines`, set by a lead on the desk's user page or in the admin).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from psirt.cases.services.workflow import FINISHED, CaseState
from psirt.catalog.models import FirmwareRelease
from psirt.lib.i18n import pick_language
from psirt.lib.severity import Severity  # the one vocabulary; re-exported for the apps above
from psirt.lib.severity import label as severity_label


class Exploitation(models.TextChoices):
    NONE = "none", _("None known")
    POC = "poc", _("Proof of concept")
    ACTIVE = "active", _("Actively exploited")


# The counter of the case keys (a psirt.counters Sequence per year).
SEQUENCE_SCOPE = "case"


class DeadlineKind(models.TextChoices):
    ACKNOWLEDGMENT = "ack", _("Acknowledgment")
    REMEDIATION = "remediation", _("Remediation")
    DISCLOSURE = "disclosure", _("Disclosure")


# The states in which each deadline binds (is owed and can pass); `psirt.cases.services.deadlines` states the
# whole rule (done, overdue, due soon) on top of these.
ACK_STATES = (CaseState.NEW,)
REMEDIATION_STATES = (CaseState.CONFIRMED, CaseState.REMEDIATION)
DISCLOSURE_STATES = (CaseState.REMEDIATION, CaseState.AWAITING_DISCLOSURE)


def _values(states: tuple[CaseState, ...]) -> list[str]:
    return [str(state.value) for state in states]  # plain strings: the stored column's migration names them


def deadline_binds_q(kind: str) -> models.Q:
    """SQL for: the deadline of `kind` binds in the case's state (acknowledgment: new and not acknowledged)."""
    if kind == DeadlineKind.ACKNOWLEDGMENT:
        return models.Q(state__in=_values(ACK_STATES), acknowledged_at__isnull=True)
    if kind == DeadlineKind.REMEDIATION:
        return models.Q(state__in=_values(REMEDIATION_STATES))
    if kind == DeadlineKind.DISCLOSURE:
        return models.Q(state__in=_values(DISCLOSURE_STATES))
    raise ValueError(f"unknown deadline kind {kind!r}")


def next_due_expression() -> models.Case:
    """SQL for the next deadline of a case as an instant: the acknowledgment while it binds, the remediation
    while it binds (the two never bind at once), else none. The agreed disclosure date is a day, not an
    instant, and is not part of it."""
    return models.Case(
        models.When(deadline_binds_q(DeadlineKind.ACKNOWLEDGMENT), then=models.F("ack_due_at")),
        models.When(deadline_binds_q(DeadlineKind.REMEDIATION), then=models.F("remediation_due_at")),
        default=models.Value(None),
        output_field=models.DateTimeField(),
    )


class Case(models.Model):
    """One vulnerability as the team handles it, from the first report to publication."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    key = models.CharField(_("case"), max_length=20, unique=True, editable=False)
    year = models.PositiveSmallIntegerField(editable=False)
    number = models.PositiveIntegerField(editable=False)
    title = models.CharField(_("title"), max_length=200)
    state = models.CharField(_("state"), max_length=24, choices=CaseState.choices, default=CaseState.NEW)
    product_line = models.ForeignKey(
        "catalog.ProductLine",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        verbose_name=_("product line"),
    )
    product = models.ForeignKey(
        "catalog.Product",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        verbose_name=_("product"),
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )

    # Risk evaluation (B4). Scores are stored for lists and sorting; the vectors are the truth.
    cvss31_vector = models.CharField(_("CVSS v3.1 vector"), max_length=300, blank=True)
    cvss31_base = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    cvss31_temporal = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    cvss31_environmental = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    cvss40_vector = models.CharField(_("CVSS v4.0 vector"), max_length=300, blank=True)
    cvss40_base = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    cvss40_threat = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    cvss40_environmental = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, blank=True)
    cwe_id = models.PositiveIntegerField(_("CWE"), null=True, blank=True)
    exploitation = models.CharField(
        _("exploitation"), max_length=10, choices=Exploitation.choices, default=Exploitation.NONE
    )
    exploitation_aware_at = models.DateTimeField(_("team aware of exploitation"), null=True, blank=True)

    # Deadlines (B3), stored as instants.
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    ack_due_at = models.DateTimeField(_("acknowledgment due"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    remediation_due_at = models.DateTimeField(_("remediation due"), null=True, blank=True)
    disclosure_date = models.DateField(_("agreed disclosure date"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # The next deadline (`next_due_expression`), kept by the database itself from the columns above on every
    # insert and update (bulk ones too), so it can never drift from them; stored so that lists sort and
    # filter by it from an index. Read it from rows fetched after a change: an instance saved in this
    # process keeps the value it was loaded with.
    next_due = models.GeneratedField(
        expression=next_due_expression(),
        output_field=models.DateTimeField(_("next deadline"), null=True, blank=True),
        db_persist=True,
        null=True,  # NULL when no instant binds: `~Q(next_due__lte=…)` must keep those rows
    )

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignees: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Assignment",
        through_fields=("case", "user"),
        related_name="assigned_cases",
        blank=True,
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [models.UniqueConstraint(fields=["year", "number"], name="case_unique_year_number")]
        indexes = [
            models.Index(fields=["state", "ack_due_at"], name="case_state_ack_due"),
            models.Index(fields=["state", "remediation_due_at"], name="case_state_rem_due"),
            models.Index(fields=["state", "disclosure_date"], name="case_state_disclosure"),
            models.Index(fields=["next_due", "id"], name="case_next_due"),
            # The case list's default order (newest first) reads it backwards: a page, not a sort of every case.
            models.Index(fields=["created_at", "id"], name="case_created"),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def severity_label(self) -> str:
        """The rating in the active language, as every page and file names it (`psirt.lib.severity.label`)."""
        return severity_label(self.severity)

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED

    @property
    def fixed_releases(self) -> models.QuerySet[Any]:
        """The catalog releases that fix this case (the `fixed` ends of its affected ranges)."""
        return FirmwareRelease.objects.filter(case_fixes__case=self).distinct()

    @property
    def has_sufficient_mitigation(self) -> bool:
        """True when a recorded mitigation or workaround fully protects customers."""
        return self.mitigations.filter(sufficient=True).exists()


class Assignment(models.Model):
    """A handler (or lead) responsible for a case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="assignment_unique")]
        # A person's cases (`access.assigned_q`) are read from this index alone, without a row per assignment.
        indexes = [models.Index(fields=["user", "case"], name="assignment_user_case")]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.user_id}"


class CaseInvitation(models.Model):
    """A product engineer invited to one case (need-to-know)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="invitations")
    engineer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_invitations")
    invited_at = models.DateTimeField(default=timezone.now)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "engineer"], name="case_invitation_unique")]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.engineer_id}"


class CaseReport(models.Model):
    """A report belonging to a case: the one that opened it, or one attached later as a duplicate."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_reports")
    report = models.OneToOneField("intake.Report", on_delete=models.CASCADE, related_name="case_link")
    is_duplicate = models.BooleanField(default=False)
    # Whose name goes into the advisory's acknowledgments: the case's own reports, and a duplicate's reporter
    # when they reported before everyone already in the case (credited if they were first).
    credited = models.BooleanField(default=True)
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["added_at"]

    def __str__(self) -> str:
        return f"{self.case_id} ← {self.report_id}"


class StateChange(models.Model):
    """Who moved a case from which state to which, when and why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="state_changes")
    from_state = models.CharField(max_length=24, choices=CaseState.choices, blank=True)
    to_state = models.CharField(max_length=24, choices=CaseState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state or '∅'} → {self.to_state}"


class ReferenceKind(models.TextChoices):
    CVE = "cve", "CVE"
    CNVD = "cnvd", "CNVD"
    CNNVD = "cnnvd", "CNNVD"
    EUVD = "euvd", "EUVD"
    URL = "url", _("Advisory link")


class CaseReference(models.Model):
    """A CVE / CNVD / CNNVD / EUVD ID (unique across cases) or a link to a third-party advisory."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="references")
    kind = models.CharField(max_length=8, choices=ReferenceKind.choices)
    value = models.CharField(max_length=2000)
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            # An identifier names one vulnerability: it belongs to one case only.
            models.UniqueConstraint(
                fields=["kind", "value"], condition=~models.Q(kind="url"), name="reference_id_unique"
            ),
            models.UniqueConstraint(fields=["case", "kind", "value"], name="reference_unique_per_case"),
        ]

    def __str__(self) -> str:
        return self.value


class RemediationPolicy(models.Model):
    """A lead's default remediation time for one severity: remediation due = confirmed + `days`.

    Severities without a row use the organization profile's `remediation_days` (90 by default)."""

    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, unique=True)
    days = models.PositiveSmallIntegerField(_("remediate within (days)"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["severity"]
        verbose_name = _("remediation time")
        verbose_name_plural = _("remediation times")

    def __str__(self) -> str:
        return f"{self.severity}: {self.days}"


class ReminderAudience(models.TextChoices):
    ASSIGNEES = "assignees", _("Assigned handlers (the working day before)")
    LEADS = "leads", _("Leads (deadline passed)")


class DeadlineReminder(models.Model):
    """One reminder sent: the row is written in the transaction that queues the mail, and its uniqueness
    (case, deadline kind, audience, deadline instant) makes the reminder task idempotent. A moved deadline
    is a new instant, so it gets its own reminder."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=12, choices=DeadlineKind.choices)
    audience = models.CharField(max_length=10, choices=ReminderAudience.choices)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "audience", "due_at"], name="deadline_reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} → {self.audience}"


class AffectedRange(models.Model):
    """A product (and variant) the case affects: releases from `introduced` (inclusive; None = every
    earlier release) up to `fixed` (exclusive; None = no fix yet), ordered by the catalog's `position` —
    the same convention as the advisory's affected table, so an advisory can be prefilled from it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="affected")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="case_ranges")
    variant = models.CharField(_("variant"), max_length=100, blank=True)
    introduced = models.ForeignKey(
        "catalog.FirmwareRelease",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("introduced in"),
    )
    fixed = models.ForeignKey(
        "catalog.FirmwareRelease",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="case_fixes",
        verbose_name=_("fixed in"),
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["product__name", "variant", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "product", "variant"], name="case_range_unique")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.product_id}/{self.variant}"


class MitigationKind(models.TextChoices):
    MITIGATION = "mitigation", _("Mitigation")
    WORKAROUND = "workaround", _("Workaround")


class Mitigation(models.Model):
    """A mitigation or workaround customers can apply before (or instead of) updating, in both languages.
    `sufficient` says it fully protects — the publication policy may then allow an advisory without a fix."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="mitigations")
    kind = models.CharField(_("kind"), max_length=12, choices=MitigationKind.choices, default=MitigationKind.MITIGATION)
    text_en = models.TextField(_("text (English)"))
    text_zh = models.TextField(_("text (Chinese)"), blank=True)
    sufficient = models.BooleanField(_("fully protects"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"

    @property
    def text(self) -> str:
        return pick_language(self.text_en, self.text_zh)


class WorkItem(models.Model):
    """A task for the product team (fix, build, test, release) with an owner and a due date."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="work_items")
    title = models.CharField(_("task"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="case_work_items",
        verbose_name=_("owner"),
    )
    due_date = models.DateField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["done_at", "due_date", "id"]
        indexes = [models.Index(fields=["owner", "done_at"], name="workitem_owner_open")]

    def __str__(self) -> str:
        return self.title


class ReporterContactShare(models.Model):
    """What a lead decided to show the product engineers who see one case, beyond its technical content
    (need-to-know): `contacts`, the reporters' names, addresses and phone numbers; `notes`, the team's internal
    notes and their files. One row per case holds both decisions; a row with neither shared is deleted. Every
    change is audited."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="contact_share")
    contacts = models.BooleanField(_("reporters' contact details shared"), default=True)
    notes = models.BooleanField(_("internal notes shared"), default=False)
    shared_at = models.DateTimeField(default=timezone.now)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.case_id} contacts shared"
