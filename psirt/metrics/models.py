"""What the metrics app stores: only the leads' decision to publish response statistics."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Below this many cases a share or a median could describe one identifiable case: never published.
MIN_PUBLIC_COUNT = 5


class PublicStatistics(models.Model):
    """One row (id 1): whether the public home and policy pages show the response statistics of the last 12
    months, and how many cases each figure needs before it is shown. Off by default: publishing how fast the
    team answers is the vendor's decision, made by a lead, audited."""

    enabled = models.BooleanField(_("show response statistics on the public site"), default=False)
    min_count = models.PositiveSmallIntegerField(_("minimum number of cases behind a figure"), default=10)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("public response statistics")
        verbose_name_plural = _("public response statistics")

    def __str__(self) -> str:
        return "on" if self.enabled else "off"

    @classmethod
    def get(cls) -> PublicStatistics:
        obj, _created = cls.objects.get_or_create(id=1)
        return obj
