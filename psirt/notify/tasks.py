"""Background delivery of queued mail (run by `psirt worker`)."""

from __future__ import annotations

from django_tasks import task


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
