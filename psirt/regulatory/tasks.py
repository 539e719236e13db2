"""Background tasks of regulatory reporting (run by `psirt worker`); each is idempotent."""

from __future__ import annotations

from django_tasks import task

from psirt.lib.schedule import Periodic
from psirt.regulatory import reminders


@task()
def send_regulatory_reminders() -> int:
    """Open obligations for newly exploited cases and send the clock reminders that are due (each once)."""
    return reminders.send_reminders()


# Every 5 minutes: the shortest clock is 24 hours, so a reminder is at most 5 minutes late.
PERIODIC = (Periodic("psirt.regulatory.tasks.send_regulatory_reminders", 5 * 60),)
