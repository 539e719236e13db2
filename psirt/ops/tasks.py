"""Background work of operations, run by `psirt worker`. Each task is idempotent."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django_tasks import task

from psirt.lib.schedule import Periodic
from psirt.ops.export.site import keep_current

logger = logging.getLogger(__name__)


@task()
def refresh_static_export() -> dict[str, int]:
    """Rewrite the pages of the static export (PSIRT_STATIC_EXPORT_DIR) that show what changed since the last
    export; nothing when no folder is configured."""
    folder = settings.PSIRT_STATIC_EXPORT_DIR
    if not folder:
        return {}
    summary = keep_current(root=Path(folder))
    for line in summary.failed:
        logger.error("static export: not exported: %s", line)
    return {"rendered": summary.pages, "written": summary.written, "removed": summary.removed}


# Every saved change to an advisory that is or was public enqueues the refresh at once (psirt.ops.apps); the
# periodic run catches what saves no advisory: an edit of the catalog, the profile or a page (a full export), a
# change written with QuerySet.update(), the end of a year.
PERIODIC = (Periodic("psirt.ops.tasks.refresh_static_export", 10 * 60),)
