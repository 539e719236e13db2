"""Changes the metrics app makes: a lead turns the public response statistics on or off."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.audit.services import record
from psirt.lib.access import require_lead
from psirt.metrics.exceptions import MetricsError, NotAllowed
from psirt.metrics.models import MIN_PUBLIC_COUNT, PublicStatistics

MAX_PUBLIC_COUNT = 10_000


def set_public_statistics(
    *, enabled: bool, min_count: int, actor: User, request: HttpRequest | None = None
) -> PublicStatistics:
    """A lead decides whether the public site shows the response statistics, and the minimum number of cases
    behind each figure (at least `MIN_PUBLIC_COUNT`, so no figure describes a single case). Audited."""
    require_lead(actor, NotAllowed)
    if not isinstance(min_count, int) or not MIN_PUBLIC_COUNT <= min_count <= MAX_PUBLIC_COUNT:
        raise MetricsError(
            _("The minimum number of cases must be between %(low)d and %(high)d.")
            % {"low": MIN_PUBLIC_COUNT, "high": MAX_PUBLIC_COUNT}
        )
    with transaction.atomic():
        setting = PublicStatistics.objects.select_for_update().filter(id=1).first() or PublicStatistics.get()
        setting.enabled = bool(enabled)
        setting.min_count = min_count
        setting.changed_at = timezone.now()
        setting.changed_by = actor
        setting.save()
        record(
            action="metrics.public_statistics_set",
            actor=actor,
            request=request,
            target_type="public_statistics",
            target_id="1",
            data={"enabled": setting.enabled, "min_count": min_count},
        )
    return setting
