"""Reporting obligations to authorities and the record of what was filed.

An `Obligation` is one duty to report: an actively exploited vulnerability of a case (EU CRA Art. 14(1)), a
severe incident (Art. 14(3), not tied to a report), or a vulnerability report to China's MIIT. Its clocks are
computed from its triggers by `psirt.regulatory.clocks` — nothing here is a timer.

`Filing` rows are the record: each submission (frozen copy of the fields), each CSIRT request and answer, each
notice to users or to an upstream supplier. They are append-only: a saved row is never changed or deleted, here
or through the ORM's bulk paths, and reporting records are kept at least `RETENTION_DAYS`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from psirt.lib.crypto import EncryptedTextField
from psirt.regulatory.clocks import Stage, Track
from psirt.regulatory.data import field_label

# China's Provisions (Art. 7) keep vulnerability-report logs at least 6 months; no obligation or evidence may be
# deleted before this many days after the obligation's last fact (`Obligation.retained_until`); filings never.
RETENTION_DAYS = 183


class Retained(Exception):
    """An attempt to delete a reporting record before its retention period ended."""


def _refuse_retained(obligations: Iterable[Obligation], now: dt.datetime) -> None:
    for obligation in obligations:
        if now < obligation.retained_until():
            raise Retained(
                _("Reporting records are kept until %(date)s (at least %(days)d days): they cannot be deleted yet.")
                % {"date": obligation.retained_until().date().isoformat(), "days": RETENTION_DAYS}
            )


class ObligationQuerySet(models.QuerySet["Obligation"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        _refuse_retained(self, timezone.now())
        return super().delete()


class Decision(models.TextChoices):
    PENDING = "pending", _("To decide")
    REPORTABLE = "reportable", _("Reportable")
    NOT_REPORTABLE = "not_reportable", _("Not reportable")


class Obligation(models.Model):
    """One duty to report to an authority, with the lead's decision and the facts its clocks start from."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    track = models.CharField(_("track"), max_length=16, choices=Track.choices)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="obligations")
    title = models.CharField(_("title"), max_length=200)
    aware_at = models.DateTimeField(_("became aware (UTC)"))
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices, default=Decision.PENDING)
    # The evidence that makes it reportable, or the reason it is not: report data, encrypted at rest.
    evidence = EncryptedTextField(_("evidence"), blank=True)
    reason = EncryptedTextField(_("reason it is not reportable"), blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # When a corrective or mitigating measure became available (starts the vulnerability's final-report clock):
    # prefilled from the case's fixed release or sufficient mitigation, editable by a lead.
    measure_available_at = models.DateTimeField(_("measure available since"), null=True, blank=True)
    # Stage values typed on the desk before submission (the filing freezes its own copy).
    draft = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ObligationQuerySet.as_manager()

    class Meta:
        ordering = ["aware_at"]
        constraints = [
            # One obligation of a track per case: exploitation becoming active twice raises no second one.
            models.UniqueConstraint(fields=["case", "track"], name="reg_one_obligation_per_case_track"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        """Clocks run (and remind) from awareness until a lead decides it is not reportable."""
        return self.decision != Decision.NOT_REPORTABLE

    def retained_until(self) -> dt.datetime:
        """The end of the retention period: `RETENTION_DAYS` after the latest of awareness, the decision, the last
        filing and the last evidence file. Deleting the obligation or its evidence is refused before then (here,
        in the querysets, and by a database trigger on PostgreSQL); filings are never deleted."""
        moments = [self.aware_at, *([self.decided_at] if self.decided_at else [])]
        if self.pk is not None:
            moments += list(Filing.objects.filter(obligation=self).values_list("recorded_at", flat=True))
            moments += list(EvidenceFile.objects.filter(obligation=self).values_list("added_at", flat=True))
        return retention_until(max(moments))

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        _refuse_retained([self], timezone.now())
        return super().delete(*args, **kwargs)


class EvidenceQuerySet(models.QuerySet["EvidenceFile"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        _refuse_retained({e.obligation for e in self.select_related("obligation")}, timezone.now())
        return super().delete()


class EvidenceFile(models.Model):
    """A file attached to the reportability decision, encrypted in the shared encrypted file store."""

    obligation = models.ForeignKey(Obligation, on_delete=models.PROTECT, related_name="evidence_files")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    filename = EncryptedTextField()
    storage_name = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = EvidenceQuerySet.as_manager()

    def __str__(self) -> str:
        return str(self.public_id)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        _refuse_retained([self.obligation], timezone.now())
        return super().delete(*args, **kwargs)


class FilingKind(models.TextChoices):
    SUBMISSION = "submission", _("Submission")
    CSIRT_REQUEST = "csirt_request", _("CSIRT request")
    CSIRT_ANSWER = "csirt_answer", _("Answer to the CSIRT")
    NOTICE_DRAFTED = "notice_drafted", _("Customer notice drafted (Art. 14(8))")
    USERS_INFORMED = "users_informed", _("Users informed (Art. 14(8))")
    SUPPLIER_NOTICE = "supplier_notice", _("Upstream supplier notified")


class NoteCode(models.TextChoices):
    """The notes psirt writes on a filing itself (worded per language by `Filing.note_text`)."""

    NOTICE_DRAFTED = "notice_drafted"
    ADVISORY_PUBLISHED = "advisory_published"
    DIRECT_NOTICE = "direct_notice"


class AppendOnlyQuerySet(models.QuerySet["Filing"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly(_("Filings are append-only: record a new filing instead of changing one."))

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly(_("Filings are append-only: they cannot be deleted."))


class AppendOnly(Exception):
    """An attempt to change or delete an append-only record."""


class Filing(models.Model):
    """One entry of the reporting record; never changed or deleted once saved."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    obligation = models.ForeignKey(Obligation, on_delete=models.PROTECT, related_name="filings")
    kind = models.CharField(max_length=16, choices=FilingKind.choices)
    stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    # The exact values submitted, in the platform's order: [[key, label, value], ...].
    fields = models.JSONField(default=list, blank=True)
    fields_version = models.CharField(max_length=40, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"))
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    csirt = models.CharField(_("coordinator CSIRT"), max_length=120, blank=True)
    member_state = models.CharField(max_length=2, blank=True)
    reference = models.CharField(_("platform reference"), max_length=120, blank=True)
    # A CSIRT request's due date (its intermediate report's clock); an answer points at its request.
    due_at = models.DateTimeField(null=True, blank=True)
    answers = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="answered_by")
    note = EncryptedTextField(blank=True)
    # A note psirt writes itself is stored as a code and its facts, and worded in the reader's language
    # (`note_text`); a note a person typed is kept as typed.
    note_code = models.CharField(max_length=32, blank=True, default="", db_default="")
    recipients = models.PositiveIntegerField(null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["submitted_at", "recorded_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.stage}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly(_("Filings are append-only: record a new filing instead of changing one."))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly(_("Filings are append-only: they cannot be deleted."))

    def labelled_fields(self) -> list[tuple[str, str, str]]:
        """The fields as submitted, (key, label, value), each labelled in the active language when psirt holds the
        version of the fields the filing was made under, else as stored (the label the submitter saw). The values
        are what was submitted, in whatever language they were written."""
        rows = []
        for key, stored, value in self.fields or []:
            label = field_label(str(key), self.fields_version)
            rows.append((str(key), str(stored) if label is None else label, str(value)))
        return rows

    def note_text(self) -> str:
        """The note in the active language: psirt's own notes from their code, a typed note as typed."""
        ref = self.reference
        if self.note_code == NoteCode.NOTICE_DRAFTED:
            return gettext("Expedited advisory %(ref)s drafted; publication goes through the policy gate.") % {
                "ref": ref
            }
        if self.note_code == NoteCode.ADVISORY_PUBLISHED:
            return gettext("Advisory %(ref)s published (public page, CSAF, subscribers notified).") % {"ref": ref}
        if self.note_code == NoteCode.DIRECT_NOTICE:
            n = self.recipients or 0
            return ngettext(
                "Direct notice %(ref)s queued to %(n)d customer contact.",
                "Direct notice %(ref)s queued to %(n)d customer contacts.",
                n,
            ) % {"ref": ref, "n": n}
        return self.note


class ReminderSent(models.Model):
    """One reminder of one clock threshold, inserted in the transaction that queues its mails: the unique key
    makes a second worker's insert fail, so each threshold is mailed once however many workers run."""

    obligation = models.ForeignKey(Obligation, on_delete=models.CASCADE, related_name="reminders")
    stage = models.CharField(max_length=16)
    clock_key = models.CharField(max_length=40, blank=True)  # the intermediate request's id
    due_at = models.DateTimeField()  # a moved deadline is a new clock with its own reminders
    threshold = models.CharField(max_length=16)  # "50", "80", "due", "overdue-<hours>"
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["obligation", "stage", "clock_key", "due_at", "threshold"], name="reg_reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.threshold}"


def retention_until(last: dt.datetime) -> dt.datetime:
    return last + dt.timedelta(days=RETENTION_DAYS)
