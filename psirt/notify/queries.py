"""Read-side selectors of the notification desk."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from psirt.mail.models import OutboxStatus
from psirt.notify.models import Delivery, DeliveryKind, Webhook

PROBLEMS = [OutboxStatus.FAILED, OutboxStatus.GAVE_UP]


def deliveries(status: str) -> tuple[str, QuerySet[Delivery]]:
    """The deliveries a status filter shows ("problems" = failed and given up, "all", or one status), newest
    first, with the filter actually applied (an unknown value shows all)."""
    rows = Delivery.objects.all()
    if status == "problems":
        rows = rows.filter(status__in=PROBLEMS)
    elif status in OutboxStatus.values:
        rows = rows.filter(status=status)
    else:
        status = "all"
    return status, rows.order_by("-created_at", "-id")


def delivery_counts() -> dict[str, int]:
    """How many deliveries are in each status."""
    return dict(Delivery.objects.values_list("status").annotate(n=Count("id")).order_by())


def webhooks_with_failures() -> list[Webhook]:
    """Every webhook with `failing`: how many of its deliveries failed or gave up."""
    failing = dict(
        Delivery.objects.filter(kind=DeliveryKind.WEBHOOK, status__in=PROBLEMS)
        .values_list("recipient_key")
        .annotate(n=Count("id"))
        .order_by()
    )
    hooks = list(Webhook.objects.prefetch_related("products"))
    for hook in hooks:
        hook.failing = failing.get(str(hook.public_id), 0)  # type: ignore[attr-defined]
    return hooks
