"""Background work of notifications (run by `psirt worker`); the fan-out's rows are sent by the outbox's
tasks (`psirt.mail.tasks`)."""

from __future__ import annotations

from django_tasks import task

from psirt.lib.schedule import Periodic
from psirt.notify.services import subscriptions


@task()
def send_subscription_confirmation(*, subscription_id: str) -> bool:
    """Queue the double opt-in mail (the subscribe form always enqueues this, known address or not)."""
    return subscriptions.send_confirmation(subscription_id=subscription_id)


@task()
def purge_unconfirmed_subscriptions() -> int:
    """Periodic: delete subscriptions nobody confirmed in time."""
    return subscriptions.purge_unconfirmed()


PERIODIC = (Periodic("psirt.notify.tasks.purge_unconfirmed_subscriptions", 60 * 60),)
