"""Background work of the intake (django-tasks; run by `psirt worker`)."""

from __future__ import annotations

from django_tasks import task

from psirt.intake import services
from psirt.lib.schedule import Periodic


@task()
def send_fresh_links(*, email_hash: str) -> int:
    """Re-issue the private links of every report filed from the address with this keyed hash and mail
    them to the address on file. Queued by the "lost my link" page whether or not the address is known."""
    return services.reissue_links(email_hash_value=email_hash)


@task()
def purge_expired() -> dict[str, int]:
    """Remove upload stashes older than a day and expired rate-limit counters (schedule it, e.g. hourly)."""
    return services.purge_expired()


PERIODIC = (Periodic("psirt.intake.tasks.purge_expired", 60 * 60),)
