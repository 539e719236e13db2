"""Background sending of the outbox (run by `psirt worker`)."""

from __future__ import annotations

from django_tasks import task

from psirt.lib.schedule import Periodic
from psirt.mail import services


@task()
def send_message(*, message_id: int) -> str:
    """Send one outbox row if it is still due (idempotent: a duplicate sends nothing)."""
    return services.send_one(message_id)


@task()
def drain_outbox() -> int:
    """Send every due outbox row, one claimed row at a time (several may run at once)."""
    return services.drain()


@task()
def sweep_outbox() -> int:
    """Periodic: release claims of dead workers and start drains for due rows and retries."""
    return services.sweep()


PERIODIC = (Periodic("psirt.mail.tasks.sweep_outbox", 60),)
