"""Staff accounts, roles and API tokens. Reporters and customers have no accounts."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    LEAD = "lead", _("Lead")
    HANDLER = "handler", _("Handler")
    ENGINEER = "engineer", _("Product engineer")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("role", Role.LEAD)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A member of the vendor's security or product team, signing in with an e-mail address."""

    # The identifier used in desk URLs: integer keys never appear in a URL.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("e-mail"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.HANDLER)
    product_lines = models.ManyToManyField(
        "catalog.ProductLine",
        blank=True,
        related_name="engineers",
        verbose_name=_("product lines"),
        help_text=_("For product engineers: they see every case of these lines."),
    )
    language = models.CharField(
        _("language"), max_length=10, choices=[("en", "English"), ("zh-hans", "简体中文")], default="en"
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def is_staff(self) -> bool:
        """Django admin ("raw data") is for leads only."""
        return self.is_active and self.role == Role.LEAD

    @property
    def is_lead(self) -> bool:
        return self.role == Role.LEAD

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        """Leads are the admin's only users and see all raw data there; no one else has model permissions.
        Roles, not Django permission rows, decide access everywhere else."""
        return bool(self.is_active and self.is_lead) or super().has_perm(perm, obj)

    def has_module_perms(self, app_label: str) -> bool:
        return bool(self.is_active and self.is_lead) or super().has_module_perms(app_label)

    @property
    def is_handler(self) -> bool:
        return self.role == Role.HANDLER

    @property
    def is_engineer(self) -> bool:
        return self.role == Role.ENGINEER


class ApiToken(models.Model):
    """An API token `psirt_<key_id>_<secret>`. Only a SHA-256 of the secret is stored; the full token is
    shown once, at creation."""

    key_id = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"psirt_{self.key_id}_… ({self.name})"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
