"""Every change to notifications goes through here: the views, the tasks and other apps call the same
functions (keyword-only), which raise `psirt.notify.exceptions.NotifyError` and write the audit log in the
same transaction (never with an address, a secret or a token).

The package is cut by sub-domain: `subscriptions` (double opt-in, links, rate limits; `tokens` signs the
links), `fanout` (the advisory notice, queueing one outbox row per recipient, building their mails),
`webhooks` (registration, signing, the pinned POST), `customers` (organizations imported from CSV). Callers
import from here, not from the modules.
"""

from __future__ import annotations

from psirt.notify.services.customers import ImportResult, import_customers_csv
from psirt.notify.services.fanout import (
    AdvisoryNotice,
    affected_contacts,
    matching_subscriptions,
    notice_from_advisory,
    notify_advisory,
    notify_customers,
    retry_delivery,
)
from psirt.notify.services.subscriptions import (
    UNCONFIRMED_TTL,
    confirm_subscription,
    email_hash,
    normalise_email,
    purge_unconfirmed,
    request_subscription,
    send_confirmation,
    subscription_for_token,
    unsubscribe,
    update_subscription,
)
from psirt.notify.services.webhooks import register_webhook, set_webhook_active

__all__ = [
    "UNCONFIRMED_TTL",
    "AdvisoryNotice",
    "ImportResult",
    "affected_contacts",
    "confirm_subscription",
    "email_hash",
    "import_customers_csv",
    "matching_subscriptions",
    "normalise_email",
    "notice_from_advisory",
    "notify_advisory",
    "notify_customers",
    "purge_unconfirmed",
    "register_webhook",
    "request_subscription",
    "retry_delivery",
    "send_confirmation",
    "set_webhook_active",
    "subscription_for_token",
    "unsubscribe",
    "update_subscription",
]
