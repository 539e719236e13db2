"""Background work of the advisories, run by `psirt worker`. Each task is idempotent."""

from __future__ import annotations

from django_tasks import task

from psirt.advisories import services
from psirt.advisories.csaf.provider import sync_provider
from psirt.advisories.models import Advisory
from psirt.lib.schedule import Periodic


@task()
def publish_scheduled_advisory(public_id: str) -> bool:
    """Publish one scheduled advisory if it is due (enqueued with `run_after` = its disclosure date)."""
    advisory = Advisory.objects.filter(public_id=public_id).first()
    return advisory is not None and services.publish_if_due(advisory=advisory)


@task()
def publish_due_advisories() -> list[str]:
    """Publish every scheduled advisory whose time has come (a safety net for deferred tasks that were lost,
    e.g. a restored database; run it periodically, or `psirt publish_due_advisories` from cron)."""
    return services.publish_due_advisories()


@task()
def sync_csaf_provider() -> dict[str, int]:
    """Repair the CSAF provider tree: write what a failed write after a publication left out, remove what is no
    longer public. Cheap when the tree is current (no document is rendered)."""
    summary = sync_provider()
    return {"checked": summary.checked, "rendered": summary.rendered, "written": len(summary.changes.written)}


@task()
def sync_csaf_provider_full() -> dict[str, int]:
    """Render every public advisory and rewrite what differs (daily): catches changes that reach the documents
    without a revision, such as a new organisation name or site address."""
    summary = sync_provider(full=True)
    return {"checked": summary.checked, "rendered": summary.rendered, "written": len(summary.changes.written)}


# Scheduled publication must happen close to the disclosure date, with nobody at the keyboard. The CSAF tree is
# written right after each publication; the syncs repair a write that failed (quick) and catch document changes
# that came without a revision (full).
PERIODIC = (
    Periodic("psirt.advisories.tasks.publish_due_advisories", 60),
    Periodic("psirt.advisories.tasks.sync_csaf_provider", 10 * 60),
    Periodic("psirt.advisories.tasks.sync_csaf_provider_full", 24 * 60 * 60),
)
