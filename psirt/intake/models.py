"""Vulnerability reports as they arrive (web form, API, e-mail), their messages, files and timeline.

Everything a reporter types is confidential: every free-text column is an `EncryptedTextField` and every
file is encrypted on disk (`psirt.lib.crypto`). The e-mail address is findable only through a keyed hash.
Public identifiers are UUIDs (staff URLs) and the reporter's token (portal); integer keys never leave the
server. The case desk builds on `Report` (docs/intake.md).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from psirt.lib.crypto import EncryptedTextField


class Source(models.TextChoices):
    WEB = "web", _("Web form")
    API = "api", _("API")
    EMAIL = "email", _("E-mail")


class InboxState(models.TextChoices):
    """Where the report is in the back office: `new` until a case takes it (then leads stop seeing it in
    the inbox and the case's people see it through the case)."""

    NEW = "new", _("New")
    TAKEN = "taken", _("In a case")


class Stage(models.TextChoices):
    """Progress as the reporter sees it in the portal. The case desk moves it; the exits are worded kindly."""

    RECEIVED = "received", _("Received")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    VALIDATING = "validating", _("Being validated")
    FIXING = "fixing", _("Fix in progress")
    PUBLISHED = "published", _("Advisory published")
    CLOSED = "closed", _("Closed")
    # Exits: the report ends without an advisory of its own.
    DUPLICATE = "duplicate", _("Already known to us")
    NOT_VULNERABILITY = "not_vulnerability", _("Not a vulnerability")
    OUT_OF_SCOPE = "out_of_scope", _("Outside our products")
    REJECTED = "rejected", _("Closed without action")


MAIN_STAGES = [Stage.RECEIVED, Stage.ACKNOWLEDGED, Stage.VALIDATING, Stage.FIXING, Stage.PUBLISHED, Stage.CLOSED]
EXIT_STAGES = [Stage.DUPLICATE, Stage.NOT_VULNERABILITY, Stage.OUT_OF_SCOPE, Stage.REJECTED]


class YesNoUnknown(models.TextChoices):
    UNKNOWN = "unknown", _("Don't know")
    NO = "no", _("No")
    YES = "yes", _("Yes")


class PublishPlan(models.TextChoices):
    UNDECIDED = "undecided", _("Undecided")
    NO = "no", _("No")
    YES = "yes", _("Yes")


# The counter of the tracking IDs (a psirt.counters Sequence per year).
SEQUENCE_SCOPE = "tracking"


class Report(models.Model):
    """One vulnerability report as received. Free text is encrypted at rest; `email_hash` finds it by address."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tracking_id = models.CharField(_("tracking ID"), max_length=20, unique=True, editable=False)
    year = models.PositiveSmallIntegerField(editable=False)
    # Null only inside the submitting transaction (see services.submit_report); never seen outside it.
    number = models.PositiveIntegerField(null=True, editable=False)
    source = models.CharField(_("received via"), max_length=10, choices=Source.choices, default=Source.WEB)
    language = models.CharField(_("language"), max_length=10, default="en")
    inbox_state = models.CharField(
        _("inbox state"), max_length=10, choices=InboxState.choices, default=InboxState.NEW, db_index=True
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.RECEIVED)
    created_at = models.DateTimeField(_("received"), default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Organization and contact
    reporter_name = EncryptedTextField(_("name"))
    reporter_email = EncryptedTextField(_("e-mail"))
    email_hash = models.CharField(max_length=64, db_index=True, editable=False)
    organization = EncryptedTextField(_("organization"), blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    # Reference information (CVE IDs, links to related reports…)
    references = EncryptedTextField(_("reference information"), blank=True)
    # Affected product: a catalog product, or free text when it is not in the catalog
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    product_other = EncryptedTextField(_("product (not in the list)"), blank=True)
    release = models.ForeignKey(
        "catalog.FirmwareRelease", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    version = EncryptedTextField(_("firmware version"), blank=True)
    # The report itself
    description = EncryptedTextField(_("description"))
    description_is_pgp = models.BooleanField(
        _("description is an OpenPGP message"), default=False, help_text=_("Encrypted to the team key.")
    )
    technical_details = EncryptedTextField(_("technical details"), blank=True)
    exploit_public = models.CharField(
        _("is an exploit public?"), max_length=10, choices=YesNoUnknown.choices, default=YesNoUnknown.UNKNOWN
    )
    public_exploit = EncryptedTextField(_("public exploit information"), blank=True)
    plans_to_publish = models.CharField(
        _("plans to publish?"), max_length=10, choices=PublishPlan.choices, default=PublishPlan.UNDECIDED
    )
    disclosure_plans = EncryptedTextField(_("disclosure plans"), blank=True)
    proposed_disclosure_date = models.DateField(_("proposed disclosure date"), null=True, blank=True)
    agreed_disclosure_date = models.DateField(_("agreed disclosure date"), null=True, blank=True)
    credit = EncryptedTextField(_("credit line"), blank=True)
    credit_anonymous = models.BooleanField(_("no public credit"), default=False)
    pgp_key = EncryptedTextField(_("reporter's OpenPGP public key"), blank=True)
    accepted_guidelines_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Deadlines that concern the reporter (the case desk may set the others)
    ack_due_at = models.DateTimeField(_("acknowledgment due"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    remediation_due_at = models.DateTimeField(_("remediation due"), null=True, blank=True)
    # The reporter's private link: only a SHA-256 of the token is kept.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_issued_at = models.DateTimeField(default=timezone.now, editable=False)
    # "Lost my link" mails a next token; the current one keeps working until the next one is first used, so
    # someone who only knows the reporter's address cannot lock them out. Empty when none is pending.
    next_token_hash = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [models.UniqueConstraint(fields=["year", "number"], name="report_unique_year_number")]
        # The leads' inbox: the new reports, newest first, a page at a time, read in index order whatever the
        # number of reports already taken.
        indexes = [models.Index(fields=["inbox_state", "created_at", "id"], name="intake_report_inbox_order")]

    def __str__(self) -> str:
        return self.tracking_id

    @property
    def product_label(self) -> str:
        """The catalog product's name, or what the reporter typed."""
        return self.product.name if self.product_id and self.product else self.product_other

    @property
    def is_open(self) -> bool:
        return self.stage not in {Stage.CLOSED, Stage.PUBLISHED, *EXIT_STAGES}


class AuthorKind(models.TextChoices):
    REPORTER = "reporter", _("Reporter")
    TEAM = "team", _("Security team")
    SYSTEM = "system", _("System")


class Via(models.TextChoices):
    PORTAL = "portal", _("Portal")
    EMAIL = "email", _("E-mail")
    API = "api", _("API")
    DESK = "desk", _("Back office")


class Message(models.Model):
    """A message on a report. Reporter ↔ team messages show in the portal; `is_internal` ones (staff notes)
    never do — every portal/mail query filters them out through `Message.objects.for_reporter()`."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="messages")
    author_kind = models.CharField(max_length=10, choices=AuthorKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = EncryptedTextField(_("message"))
    body_is_pgp = models.BooleanField(default=False)
    is_internal = models.BooleanField(_("internal note"), default=False)
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.PORTAL)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.report_id}/{self.public_id}"


class AttachmentKind(models.TextChoices):
    CAPTURE = "capture", _("Packet capture")
    IMAGE = "image", _("Image")
    ARCHIVE = "archive", _("Archive")
    DOCUMENT = "document", _("Document")
    TEXT = "text", _("Text")
    EXECUTABLE = "executable", _("Executable or script")
    OTHER = "other", _("Other")


class Attachment(models.Model):
    """A file on a report, encrypted on disk under a random name. `name` is the sanitised original name
    (encrypted too: names say a lot). `content_type` is what the bytes are (sniffed), not what the name
    claims; `name_mismatch` flags a file whose name lies (a .pcap that is an executable)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    name = EncryptedTextField(_("file name"))
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    kind = models.CharField(max_length=12, choices=AttachmentKind.choices, default=AttachmentKind.OTHER)
    name_mismatch = models.BooleanField(default=False)
    size = models.PositiveBigIntegerField(default=0)
    storage_name = models.CharField(max_length=80, editable=False)
    author_kind = models.CharField(max_length=10, choices=AuthorKind.choices, default=AuthorKind.REPORTER)
    is_internal = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return str(self.public_id)


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("Report received")
    STAGE = "stage", _("Status changed")
    MESSAGE = "message", _("Message")
    FILES = "files", _("Files added")
    DATE_PROPOSED = "date_proposed", _("Disclosure date proposed")
    DATE_AGREED = "date_agreed", _("Disclosure date agreed")
    CREDIT = "credit", _("Credit line changed")
    LINK = "link", _("New private link sent")


class ReportEvent(models.Model):
    """The report's timeline. `public` events show in the portal; their data never holds report text."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now, editable=False)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    public = models.BooleanField(default=True)
    by_reporter = models.BooleanField(default=False)
    date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.report_id} {self.kind} {self.at:%Y-%m-%d}"


class UploadStash(models.Model):
    """Files uploaded with a form that failed validation, kept (encrypted) so the visitor need not pick them
    again. Tied to the form by a random token in a hidden field (only its hash is stored); expires after a day."""

    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"stash {self.pk}"


class StashedFile(models.Model):
    stash = models.ForeignKey(UploadStash, on_delete=models.CASCADE, related_name="files")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = EncryptedTextField()
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    kind = models.CharField(max_length=12, choices=AttachmentKind.choices, default=AttachmentKind.OTHER)
    name_mismatch = models.BooleanField(default=False)
    size = models.PositiveBigIntegerField(default=0)
    storage_name = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return str(self.public_id)
