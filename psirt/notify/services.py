"""Notification services: subscriptions (double opt-in), the advisory fan-out, webhooks, customer notices,
and the lead's retry. Views, tasks and other apps call these; each state change is audited in its
transaction (never with an address, a secret or a token)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.audit.services import client_ip, record
from psirt.catalog.models import Product, ProductLine
from psirt.counters import ratelimit
from psirt.counters.exceptions import RateLimited
from psirt.counters.ratelimit import Limit
from psirt.lib.access import require_lead
from psirt.lib.crypto import keyed_hash
from psirt.lib.errors import DomainError
from psirt.notify import tokens
from psirt.notify.models import (
    CustomerContact,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    MinSeverity,
    Subscription,
    Webhook,
)
from psirt.notify.notices import AdvisoryNotice, notice_from_advisory

logger = logging.getLogger(__name__)

UNCONFIRMED_TTL = dt.timedelta(hours=48)
SEVERITY_RANK = {"None": 0, "Low": 1, "Medium": 2, "High": 3, "Critical": 4}
# Subscribe requests: per client address (a script), and per e-mail address (mail-bombing a stranger).
SUBSCRIBE_RATES = {"ip": (10, 3600), "email": (3, 3600)}
BATCH = 2000


class NotifyError(DomainError):
    """A refusal a person can act on; `message` says what to do."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_hash(email: str) -> str:
    return keyed_hash(normalise_email(email), purpose="notify.email")


def _language(code: str) -> str:
    return "zh-hans" if (code or "").startswith("zh") else "en"


def _subscribe_limit(scope: str, value: str) -> Limit:
    """The limit of subscription requests per client address ("ip") or per e-mail ("email")."""
    rate = getattr(settings, "PSIRT_NOTIFY_RATES", {}).get(scope, SUBSCRIBE_RATES[scope])
    return Limit(f"subscribe_{scope}", value, rate)


# --- subscriptions ---------------------------------------------------------------------------------------


def request_subscription(
    *,
    email: str,
    language: str,
    min_severity: str = MinSeverity.NONE,
    all_products: bool = False,
    products: Iterable[Product] = (),
    product_lines: Iterable[ProductLine] = (),
    request: HttpRequest | None = None,
) -> None:
    """Store an unconfirmed subscription and queue its confirmation mail. Does exactly the same whether or
    not the address is already subscribed (same rows, same task, same answer), so the form tells a stranger
    nothing. Raises RateLimited when the client address asks too often
    (counted in the database, so a burst from many workers at once gets no more than the limit)."""
    products, product_lines = list(products), list(product_lines)
    if not (all_products or products or product_lines):
        raise NotifyError(_("Choose at least one product or product line, or every product."))
    if min_severity not in MinSeverity.values:
        raise NotifyError(_("Choose a minimum severity from the list."))
    ip = client_ip(request)
    from psirt.notify.tasks import send_subscription_confirmation

    with transaction.atomic():
        if ip:
            ratelimit.hit(_subscribe_limit("ip", ip))  # raises RateLimited: nothing stored, nothing counted
        try:
            ratelimit.hit(_subscribe_limit("email", normalise_email(email)))
            quiet = False
        except RateLimited:
            quiet = True
        sub = Subscription.objects.create(
            email=normalise_email(email),
            email_hash=email_hash(email),
            language=_language(language),
            min_severity=min_severity,
            all_products=all_products,
        )
        sub.products.set(products)
        sub.product_lines.set(product_lines)
        record(action="notify.subscription_requested", request=request, target=sub)
    if quiet:
        # Too many requests for this address: answer the same, send nothing (the row expires unconfirmed).
        return
    send_subscription_confirmation.enqueue(subscription_id=str(sub.public_id))


def send_confirmation(*, subscription_id: str) -> bool:
    """Queue the confirmation mail of an unconfirmed subscription (run by a worker)."""
    from psirt.notify.mail import send_mail_bilingual
    from psirt.notify.messages import confirm_url

    sub = Subscription.objects.filter(public_id=subscription_id, confirmed_at__isnull=True).first()
    if sub is None:
        return False
    send_mail_bilingual(
        to=[sub.email],
        template="notify/mail/confirm",
        context={"confirm_url": confirm_url(sub), "hours": int(UNCONFIRMED_TTL.total_seconds() // 3600)},
        language=sub.language,
    )
    return True


def subscription_for_token(token: str, purpose: str) -> Subscription | None:
    """The subscription a link names (None for forged, malformed or dead links)."""
    public_id = tokens.parse(token, purpose)
    if public_id is None:
        return None
    return Subscription.objects.filter(public_id=public_id).first()


def confirm_subscription(*, token: str, request: HttpRequest | None = None) -> Subscription | None:
    """Confirm from the mailed link. A second subscription of the same address replaces the choices of the
    first (one confirmed row per address). Expired or unknown links give None."""
    sub = subscription_for_token(token, tokens.CONFIRM)
    if sub is None:
        return None
    if sub.confirmed_at is not None:
        return sub
    if sub.created_at < timezone.now() - UNCONFIRMED_TTL:
        return None
    with transaction.atomic():
        existing = (
            Subscription.objects.select_for_update()
            .filter(email_hash=sub.email_hash, confirmed_at__isnull=False)
            .exclude(pk=sub.pk)
            .first()
        )
        if existing is not None:
            existing.language = sub.language
            existing.min_severity = sub.min_severity
            existing.all_products = sub.all_products
            existing.save()
            existing.products.set(sub.products.all())
            existing.product_lines.set(sub.product_lines.all())
            sub.delete()
            sub = existing
        else:
            sub.confirmed_at = timezone.now()
            sub.save(update_fields=["confirmed_at", "updated_at"])
        record(action="notify.subscription_confirmed", request=request, target=sub)
    return sub


def update_subscription(
    *,
    subscription: Subscription,
    language: str,
    min_severity: str,
    all_products: bool,
    products: Iterable[Product] = (),
    product_lines: Iterable[ProductLine] = (),
    request: HttpRequest | None = None,
) -> Subscription:
    """Change a confirmed subscriber's choices (from the manage page)."""
    products, product_lines = list(products), list(product_lines)
    if not (all_products or products or product_lines):
        raise NotifyError(_("Choose at least one product or product line, or every product."))
    with transaction.atomic():
        subscription.language = _language(language)
        subscription.min_severity = min_severity
        subscription.all_products = all_products
        subscription.save()
        subscription.products.set(products)
        subscription.product_lines.set(product_lines)
        record(action="notify.subscription_changed", request=request, target=subscription)
    return subscription


def unsubscribe(*, token: str, request: HttpRequest | None = None) -> bool:
    """Delete the subscription a manage/unsubscribe link names; queued mails to it are cancelled when their
    turn comes. Idempotent: an unknown or already-used link returns False."""
    sub = subscription_for_token(token, tokens.MANAGE)
    if sub is None:
        return False
    with transaction.atomic():
        record(action="notify.unsubscribed", request=request, target=sub)
        sub.delete()
    return True


def purge_unconfirmed(*, now: dt.datetime | None = None) -> int:
    """Delete subscriptions nobody confirmed in time (run periodically)."""
    cutoff = (now or timezone.now()) - UNCONFIRMED_TTL
    _total, per_model = Subscription.objects.filter(confirmed_at__isnull=True, created_at__lt=cutoff).delete()
    return per_model.get(Subscription._meta.label, 0)


# --- the fan-out ------------------------------------------------------------------------------------------


def matching_subscriptions(notice: AdvisoryNotice) -> Any:
    """Confirmed subscribers whose products/lines and minimum severity match the advisory."""
    rank = SEVERITY_RANK.get(notice.severity, -1)
    wanted = [value for value in MinSeverity.values if SEVERITY_RANK[value] <= rank] or [MinSeverity.NONE]
    scope = Q(all_products=True)
    if notice.product_slugs:
        scope |= Q(products__slug__in=notice.product_slugs)
    if notice.product_line_slugs:
        scope |= Q(product_lines__slug__in=notice.product_line_slugs)
    return (
        Subscription.objects.filter(confirmed_at__isnull=False, min_severity__in=wanted)
        .filter(scope)
        .values_list("pk", "public_id")
        .distinct()
    )


def _queue(rows: list[Delivery]) -> None:
    for start in range(0, len(rows), BATCH):
        # The unique key makes a second fan-out of the same revision add nothing.
        Delivery.objects.bulk_create(rows[start : start + BATCH], ignore_conflicts=True)


def _revision_number(revision: Any) -> int:
    number = getattr(revision, "number", revision)
    if not isinstance(number, int) or number < 1:
        raise NotifyError(_("A revision number starts at 1."))
    return number


def notify_advisory(
    *,
    advisory: Any,
    revision: Any,
    significant: bool,
    actor: Any,
    customers: bool = False,
    request: HttpRequest | None = None,
) -> int:
    """Queue one notification per matching subscriber and webhook (and, with `customers`, per contact of
    the customer organizations running an affected product) for this revision of a published advisory.

    `advisory` is an `AdvisoryNotice` or an Advisory model; `revision` a number or a Revision. Revision 1 is
    the publication and always notifies; a later revision notifies only when `significant` (the lead's
    choice). Call it inside the publishing transaction: the rows commit with the publication and the
    workers start after the commit. Calling it twice for the same revision queues nothing new. Returns
    the number of deliveries considered."""
    notice = advisory if isinstance(advisory, AdvisoryNotice) else notice_from_advisory(advisory)
    number = _revision_number(revision)
    if number > 1 and not significant:
        return 0
    event = "advisory.published" if number == 1 else "advisory.revised"
    now = timezone.now()
    give_up_at = now + dt.timedelta(hours=settings.PSIRT_NOTIFY_GIVE_UP_HOURS)
    data = notice.to_json()

    def row(kind: str, key: Any, **recipient: Any) -> Delivery:
        return Delivery(
            kind=kind,
            event=event,
            advisory_ref=notice.id,
            revision=number,
            recipient_key=str(key),
            notice=data,
            next_attempt_at=now,
            give_up_at=give_up_at,
            created_at=now,
            **recipient,
        )

    rows = [
        row(DeliveryKind.SUBSCRIBER, pid, subscription_id=pk) for pk, pid in matching_subscriptions(notice).iterator()
    ]
    hooks = Webhook.objects.filter(active=True).filter(
        Q(all_products=True) | Q(products__slug__in=notice.product_slugs)
    )
    rows += [
        row(DeliveryKind.WEBHOOK, pid, webhook_id=pk) for pk, pid in hooks.values_list("pk", "public_id").distinct()
    ]
    if customers:
        rows += [row(DeliveryKind.CUSTOMER, pid, contact_id=pk) for pk, pid in _affected_contacts(notice)]
    with transaction.atomic():
        _queue(rows)
        record(
            action="notify.advisory_queued",
            actor=actor,
            request=request,
            target_type="advisories.advisory",
            target_id=notice.id,
            data={"revision": number, "event": event, "deliveries": len(rows), "customers": customers},
        )
        if rows:
            from psirt.notify.deliveries import enqueue_drains

            transaction.on_commit(lambda: enqueue_drains(len(rows)))
    return len(rows)


def _affected_contacts(notice: AdvisoryNotice) -> list[tuple[int, Any]]:
    return list(
        CustomerContact.objects.filter(organization__products__slug__in=notice.product_slugs)
        .values_list("pk", "public_id")
        .distinct()
    )


def notify_customers(*, advisory: Any, revision: Any, actor: Any, request: HttpRequest | None = None) -> int:
    """Direct notices only: one mail per contact of each organization running an affected product."""
    notice = advisory if isinstance(advisory, AdvisoryNotice) else notice_from_advisory(advisory)
    number = _revision_number(revision)
    event = "advisory.published" if number == 1 else "advisory.revised"
    now = timezone.now()
    rows = [
        Delivery(
            kind=DeliveryKind.CUSTOMER,
            event=event,
            advisory_ref=notice.id,
            revision=number,
            recipient_key=str(pid),
            contact_id=pk,
            notice=notice.to_json(),
            next_attempt_at=now,
            give_up_at=now + dt.timedelta(hours=settings.PSIRT_NOTIFY_GIVE_UP_HOURS),
            created_at=now,
        )
        for pk, pid in _affected_contacts(notice)
    ]
    with transaction.atomic():
        _queue(rows)
        record(
            action="notify.customers_queued",
            actor=actor,
            request=request,
            target_type="advisories.advisory",
            target_id=notice.id,
            data={"revision": number, "contacts": len(rows)},
        )
        if rows:
            from psirt.notify.deliveries import enqueue_drains

            transaction.on_commit(lambda: enqueue_drains(len(rows)))
    return len(rows)


# --- the desk: retry, webhooks ----------------------------------------------------------------------------


def retry_delivery(*, delivery: Delivery, actor: Any, request: HttpRequest | None = None) -> Delivery:
    """A lead sends a failed or given-up delivery again now, with a fresh give-up deadline."""
    require_lead(actor, NotifyError)
    now = timezone.now()
    with transaction.atomic():
        changed = Delivery.objects.filter(
            pk=delivery.pk, status__in=[DeliveryStatus.FAILED, DeliveryStatus.GAVE_UP]
        ).update(
            status=DeliveryStatus.QUEUED,
            next_attempt_at=now,
            give_up_at=now + dt.timedelta(hours=settings.PSIRT_NOTIFY_GIVE_UP_HOURS),
        )
        if not changed:
            raise NotifyError(_("Only a failed delivery can be retried."))
        record(action="notify.delivery_retried", actor=actor, request=request, target=delivery)
        from psirt.notify.tasks import send_delivery

        pk = delivery.pk
        transaction.on_commit(lambda: send_delivery.enqueue(delivery_id=pk))
    delivery.refresh_from_db()
    return delivery


def register_webhook(
    *,
    name: str,
    url: str,
    actor: Any,
    all_products: bool = True,
    products: Sequence[Product] = (),
    request: HttpRequest | None = None,
) -> tuple[Webhook, str]:
    """Register an endpoint; returns it with its secret (shown once, never again)."""
    from psirt.notify.webhooks import check_url, new_secret

    require_lead(actor, NotifyError)
    try:
        check_url(url)
    except ValueError as exc:
        raise NotifyError(str(exc)) from exc
    if not (all_products or products):
        raise NotifyError(_("Choose at least one product, or every product."))
    secret = new_secret()
    with transaction.atomic():
        hook = Webhook.objects.create(
            name=name.strip()[:200], url=url, secret=secret, all_products=all_products, created_by=actor
        )
        hook.products.set(products)
        record(action="notify.webhook_registered", actor=actor, request=request, target=hook)
    return hook, secret


def set_webhook_active(*, webhook: Webhook, active: bool, actor: Any, request: HttpRequest | None = None) -> Webhook:
    require_lead(actor, NotifyError)
    with transaction.atomic():
        webhook.active = active
        webhook.save(update_fields=["active"])
        record(
            action="notify.webhook_enabled" if active else "notify.webhook_disabled",
            actor=actor,
            request=request,
            target=webhook,
        )
    return webhook
