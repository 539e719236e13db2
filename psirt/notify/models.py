"""Notifications about advisories: subscribers, webhooks, customers, and the fan-out's rows in the outbox."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from psirt.lib.crypto import EncryptedTextField
from psirt.lib.severity import MinimumSeverity
from psirt.mail.models import OutboxMessage


class Subscription(models.Model):
    """A mail subscription to advisories. Created unconfirmed by the public form; only a confirmed row receives
    advisories, and an unconfirmed one is deleted after a while. The address is encrypted at rest;
    `email_hash` (keyed) finds it. At most one confirmed row per address: confirming a new request replaces
    the choices of the old one."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = EncryptedTextField()
    email_hash = models.CharField(max_length=64, db_index=True, editable=False)
    language = models.CharField(_("language"), max_length=10, default="en")
    min_severity = models.CharField(
        _("minimum severity"), max_length=10, choices=MinimumSeverity.choices, default=MinimumSeverity.ANY
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
    """A known customer, which receives direct notices: the products it runs decide which advisories reach it."""

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


class DeliveryManager(models.Manager["Delivery"]):
    def get_queryset(self) -> models.QuerySet[Delivery]:
        return super().get_queryset().filter(kind__in=DeliveryKind.values)


class Delivery(OutboxMessage):
    """One notification to one recipient about one advisory revision: the fan-out's rows of the outbox
    (`psirt.mail`), which make sending exactly-once. The outbox's unique key (kind, reference = the advisory
    ID, revision, recipient_key) means a second fan-out of the same revision adds nothing.

    The context holds the advisory's public essentials (it is published, not confidential); the recipient
    is referenced by its public id (`recipient_key`), never copied, so an unsubscribe before sending cancels
    the mail."""

    objects: ClassVar[DeliveryManager] = DeliveryManager()

    class Meta:
        proxy = True
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    @property
    def kind_label(self) -> str:
        return str(DeliveryKind(self.kind).label)

    @property
    def subscription(self) -> Subscription | None:
        """The subscriber of a subscriber delivery (None once unsubscribed)."""
        if self.kind != DeliveryKind.SUBSCRIBER:
            return None
        return Subscription.objects.filter(public_id=self.recipient_key).first()

    @property
    def contact(self) -> CustomerContact | None:
        """The customer contact of a customer delivery (None once deleted)."""
        if self.kind != DeliveryKind.CUSTOMER:
            return None
        return CustomerContact.objects.select_related("organization").filter(public_id=self.recipient_key).first()

    @property
    def webhook(self) -> Webhook | None:
        """The endpoint of a webhook delivery (None once deleted)."""
        if self.kind != DeliveryKind.WEBHOOK:
            return None
        return Webhook.objects.filter(public_id=self.recipient_key).first()

    def __str__(self) -> str:
        return f"{self.kind} {self.reference} r{self.revision} ({self.status})"
