"""Background tasks of the case desk (run by `psirt worker`); each is idempotent."""

from __future__ import annotations

from django_tasks import task

from psirt.cases.services import deadlines
from psirt.lib.schedule import Periodic


@task()
def send_deadline_reminders() -> dict[str, int]:
    """Deadline reminders: the working day before to assignees, after a deadline to leads (each once).
    Run it periodically (e.g. hourly), or `psirt send_deadline_reminders` from cron."""
    return deadlines.send_deadline_reminders()


PERIODIC = (Periodic("psirt.cases.tasks.send_deadline_reminders", 15 * 60),)
