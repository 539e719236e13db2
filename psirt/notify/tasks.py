"""Background delivery of queued mail (run by `psirt worker`)."""

from __future__ import annotations

from django_tasks import task

from psirt.lib.schedule import Periodic


@task()
def deliver_mail(*, mail_id: str) -> str:
    """Send one queued mail (see psirt.notify.outbox)."""
    from psirt.notify.outbox import deliver

    return deliver(mail_id)


@task()
def retry_pending_mail() -> int:
    """Send every mail that is due again after a failure (schedule it, e.g. every few minutes)."""
    from psirt.notify.outbox import retry_pending

    return retry_pending()


@task()
def send_delivery(*, delivery_id: int) -> str:
    """Send one notification delivery if it is still due (idempotent: a duplicate sends nothing)."""
    from psirt.notify.deliveries import send_one

    return send_one(delivery_id)


@task()
def drain_deliveries() -> int:
    """Send every due notification delivery, one claimed row at a time (several may run at once)."""
    from psirt.notify.deliveries import drain

    return drain()


@task()
def sweep_deliveries() -> int:
    """Periodic: release claims of dead workers and start drains for due retries."""
    from psirt.notify.deliveries import sweep

    return sweep()


@task()
def send_subscription_confirmation(*, subscription_id: str) -> bool:
    """Queue the double opt-in mail (the subscribe form always enqueues this, known address or not)."""
    from psirt.notify.services import send_confirmation

    return send_confirmation(subscription_id=subscription_id)


@task()
def purge_unconfirmed_subscriptions() -> int:
    """Periodic: delete subscriptions nobody confirmed in time."""
    from psirt.notify.services import purge_unconfirmed

    return purge_unconfirmed()


PERIODIC = (
    Periodic("psirt.notify.tasks.retry_pending_mail", 60),
    Periodic("psirt.notify.tasks.sweep_deliveries", 60),
    Periodic("psirt.notify.tasks.purge_unconfirmed_subscriptions", 60 * 60),
)
