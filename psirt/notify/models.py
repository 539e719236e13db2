"""Outgoing mail (the outbox): a mail is stored in the same transaction as the change it reports, and a
background worker renders and sends it. A report never waits for the mail server, and a mail about a change
that rolled back is never sent."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from psirt.lib.crypto import EncryptedTextField


class MailStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMail(models.Model):
    """One mail to send. Recipients, context and key are encrypted at rest; once sent, the context (which
    may hold a private link) and the key are wiped, keeping only who/what/when."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    template = models.CharField(max_length=200)
    language = models.CharField(max_length=10, default="en")
    to = EncryptedTextField()  # JSON list of addresses
    reply_to = EncryptedTextField(blank=True)  # JSON list
    context = EncryptedTextField(blank=True)  # JSON object of plain values
    pgp_key = EncryptedTextField(blank=True)
    status = models.CharField(max_length=10, choices=MailStatus.choices, default=MailStatus.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    send_after = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("outgoing mail")

    def __str__(self) -> str:
        return f"{self.template} ({self.status})"


# --- notifications about advisories: subscribers, webhooks, customers and the delivery outbox ---------------


class MinSeverity(models.TextChoices):
    """The lowest severity a subscriber wants to hear about (FIRST's ratings; "None" = every advisory)."""

    NONE = "None", _("Every advisory")
    LOW = "Low", _("Low and above")
    MEDIUM = "Medium", _("Medium and above")
    HIGH = "High", _("High and above")
    CRITICAL = "Critical", _("Critical only")


class Subscription(models.Model):
    """A mail subscription. Created unconfirmed by the public form; only a confirmed row receives
    advisories, and an unconfirmed one is deleted after a while. The address is encrypted at rest;
    `email_hash` (keyed) finds it. At most one confirmed row per address: confirming a new request replaces
    the choices of the old one."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = EncryptedTextField()
    email_hash = models.CharField(max_length=64, db_index=True, editable=False)
    language = models.CharField(_("language"), max_length=10, default="en")
    min_severity = models.CharField(
        _("minimum severity"), max_length=10, choices=MinSeverity.choices, default=MinSeverity.NONE
    )
    all_products = models.BooleanField(_("every product"), default=False)
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+", verbose_name=_("products"))
    product_lines = models.ManyToManyField(
        "catalog.ProductLine", blank=True, related_name="+", verbose_name=_("product lines")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["email_hash"], condition=models.Q(confirmed_at__isnull=False), name="subscription_one_confirmed"
            )
        ]

    def __str__(self) -> str:
        return f"subscription {self.public_id}"


class Webhook(models.Model):
    """An integrator's endpoint, registered by a lead. The secret signs each POST; it is shown once and kept
    encrypted (the signature needs the secret itself, so it cannot be stored as a hash)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(_("URL"), max_length=500)
    secret = EncryptedTextField(editable=False)
    all_products = models.BooleanField(_("every product"), default=True)
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+", verbose_name=_("products"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name


class CustomerOrganization(models.Model):
    """A known customer (direct notices): the products it runs decide which advisories reach it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200, unique=True)
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+", verbose_name=_("products"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer organization")
        verbose_name_plural = _("customer organizations")

    def __str__(self) -> str:
        return self.name


class CustomerContact(models.Model):
    """A person at a customer organization who receives direct notices. Address encrypted at rest."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(CustomerOrganization, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = EncryptedTextField()
    email_hash = models.CharField(max_length=64, editable=False)
    language = models.CharField(_("language"), max_length=10, default="en")

    class Meta:
        ordering = ["organization", "name"]
        verbose_name = _("customer contact")
        verbose_name_plural = _("customer contacts")
        constraints = [
            models.UniqueConstraint(fields=["organization", "email_hash"], name="customer_contact_unique_email")
        ]

    def __str__(self) -> str:
        return f"contact {self.public_id}"


class DeliveryKind(models.TextChoices):
    SUBSCRIBER = "subscriber", _("Mail to a subscriber")
    CUSTOMER = "customer", _("Mail to a customer contact")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    GAVE_UP = "gave_up", _("Gave up")
    CANCELLED = "cancelled", _("Cancelled")


class Delivery(models.Model):
    """One notification to one recipient about one advisory revision: the outbox row that makes sending
    exactly-once. The unique key (kind, advisory, revision, recipient) means a second fan-out of the same
    revision adds nothing; a worker claims a row before sending, so a duplicated task sends nothing.

    `notice` holds the advisory's public essentials (it is published, not confidential); the recipient is
    referenced, never copied, so an unsubscribe before sending cancels the mail."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=12, choices=DeliveryKind.choices)
    event = models.CharField(max_length=40)  # advisory.published / advisory.revised
    advisory_ref = models.CharField(_("advisory"), max_length=40)
    revision = models.PositiveIntegerField(_("revision"))
    recipient_key = models.CharField(max_length=64)
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    contact = models.ForeignKey(
        CustomerContact, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    notice = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # After this moment a failure is final (PSIRT_NOTIFY_GIVE_UP_HOURS from queueing or from a lead's retry).
    give_up_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Which claim (one worker's batch) holds the row while it is sending.
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The kind of error only (exception class, SMTP code, HTTP status): never a message body or a secret.
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "advisory_ref", "revision", "recipient_key"], name="delivery_unique_recipient"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.advisory_ref} r{self.revision} ({self.status})"
