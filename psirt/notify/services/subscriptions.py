"""Mail subscriptions with double opt-in: request (rate-limited, and answering the same whether or not the
address is known), confirm, change, unsubscribe, purge. Each state change is audited in its transaction
(never with an address or a token)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from psirt.audit.services import record
from psirt.catalog.models import Product, ProductLine
from psirt.counters.exceptions import RateLimited
from psirt.counters.services import ratelimit
from psirt.counters.services.ratelimit import Limit
from psirt.lib.crypto import keyed_hash
from psirt.lib.http import absolute_url, client_address, route_path
from psirt.lib.severity import MinimumSeverity
from psirt.mail.services import send_mail_bilingual
from psirt.notify import tasks
from psirt.notify.exceptions import NotifyError
from psirt.notify.models import Subscription
from psirt.notify.services import tokens

logger = logging.getLogger(__name__)

UNCONFIRMED_TTL = dt.timedelta(hours=48)
# Subscribe requests: per client address (a script), and per e-mail address (mail-bombing a stranger).
SUBSCRIBE_RATES = {"ip": (10, 3600), "email": (3, 3600)}


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_hash(email: str) -> str:
    return keyed_hash(normalise_email(email), purpose="notify.email")


def language_of(code: str) -> str:
    """The site language of a stored language code."""
    return "zh-hans" if (code or "").startswith("zh") else "en"


def subscribe_limit(scope: str, value: str) -> Limit:
    """The limit of subscription requests per client address ("ip") or per e-mail ("email")."""
    rate = getattr(settings, "PSIRT_NOTIFY_RATES", {}).get(scope, SUBSCRIBE_RATES[scope])
    return Limit(f"subscribe_{scope}", value, rate)


def manage_url(subscription: Subscription, *, token: str = "") -> str:
    """The page where the subscriber changes their choices, in their language. `token` when the caller already
    made the subscription's manage token (`tokens.make(public_id, tokens.MANAGE)`)."""
    token = token or tokens.make(subscription.public_id, tokens.MANAGE)
    return absolute_url(route_path("notify:manage", language_of(subscription.language), token))


def unsubscribe_url(subscription: Subscription, *, token: str = "") -> str:
    """The one-click unsubscribe URL (RFC 8058); `token` as for `manage_url`."""
    # Outside the language prefix: the one-click URL must answer a bare POST from a mail client.
    token = token or tokens.make(subscription.public_id, tokens.MANAGE)
    return absolute_url(route_path("notify_unsubscribe", None, token))


def confirm_url(subscription: Subscription) -> str:
    with translation.override(language_of(subscription.language)):
        return absolute_url(reverse("notify:confirm", args=[tokens.make(subscription.public_id, tokens.CONFIRM)]))


def request_subscription(
    *,
    email: str,
    language: str,
    min_severity: str = MinimumSeverity.ANY,
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
    if min_severity not in MinimumSeverity.values:
        raise NotifyError(_("Choose a minimum severity from the list."))
    ip = client_address(request) if request is not None else None
    with transaction.atomic():
        if ip:
            ratelimit.hit(subscribe_limit("ip", ip))  # raises RateLimited: nothing stored, nothing counted
        try:
            ratelimit.hit(subscribe_limit("email", normalise_email(email)))
            quiet = False
        except RateLimited:
            quiet = True
        sub = Subscription.objects.create(
            email=normalise_email(email),
            email_hash=email_hash(email),
            language=language_of(language),
            min_severity=min_severity,
            all_products=all_products,
        )
        sub.products.set(products)
        sub.product_lines.set(product_lines)
        record(action="notify.subscription_requested", request=request, target=sub)
    if quiet:
        # Too many requests for this address: answer the same, send nothing (the row expires unconfirmed).
        return
    tasks.send_subscription_confirmation.enqueue(subscription_id=str(sub.public_id))


def send_confirmation(*, subscription_id: str) -> bool:
    """Queue the confirmation mail of an unconfirmed subscription (run by a worker)."""
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
        subscription.language = language_of(language)
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
