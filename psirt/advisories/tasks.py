"""Background work of the advisories, run by `psirt worker`. Each task is idempotent."""

from __future__ import annotations

from django_tasks import task


@task()
def publish_scheduled_advisory(public_id: str) -> bool:
    """Publish one scheduled advisory if it is due (enqueued with `run_after` = its disclosure date)."""
    from psirt.advisories.models import Advisory
    from psirt.advisories.services import publish_if_due

    advisory = Advisory.objects.filter(public_id=public_id).first()
    return advisory is not None and publish_if_due(advisory=advisory)


@task()
def publish_due_advisories() -> list[str]:
    """Publish every scheduled advisory whose time has come (a safety net for deferred tasks that were lost,
    e.g. a restored database; run it periodically, or `psirt publish_due_advisories` from cron)."""
    from psirt.advisories.services import publish_due_advisories as publish_due

    return publish_due()
