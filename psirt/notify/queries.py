"""Read-side selectors of the notification desk."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, QuerySet

from psirt.mail.models import OutboxStatus, TransportPause
from psirt.mail.transports import MAIL, pauses
from psirt.notify.models import Delivery, DeliveryKind, Webhook
from psirt.notify.services.webhooks import receiver_name

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


@dataclass(frozen=True)
class Outage:
    """The ways out the workers paused: the mail server's pause, and each paused webhook receiver's with the names
    of its webhooks (never their addresses)."""

    mail: TransportPause | None = None
    receivers: list[tuple[TransportPause, list[str]]] = field(default_factory=list)


def outage() -> Outage:
    """What is paused now (`psirt.mail.transports`), for the desk's notice."""
    paused = pauses()
    if not paused:
        return Outage()
    names: dict[str, list[str]] = {}
    for hook in Webhook.objects.filter(active=True).only("name", "url").order_by("name"):
        names.setdefault(receiver_name(hook.url), []).append(hook.name)
    return Outage(
        mail=next((row for row in paused if row.transport == MAIL), None),
        receivers=[(row, names.get(row.transport, [])) for row in paused if row.transport != MAIL],
    )


def webhooks_with_failures() -> list[Webhook]:
    """Every webhook with `failing`: how many of its deliveries failed or gave up; and `paused_until`: when its
    receiver, paused by the workers, is tried again (None: not paused)."""
    failing = dict(
        Delivery.objects.filter(kind=DeliveryKind.WEBHOOK, status__in=PROBLEMS)
        .values_list("recipient_key")
        .annotate(n=Count("id"))
        .order_by()
    )
    hooks = list(Webhook.objects.prefetch_related("products"))
    paused = {row.transport: row.retry_at for row in pauses() if row.transport != MAIL}
    for hook in hooks:
        hook.failing = failing.get(str(hook.public_id), 0)  # type: ignore[attr-defined]
        hook.paused_until = paused.get(receiver_name(hook.url)) if paused else None  # type: ignore[attr-defined]
    return hooks
