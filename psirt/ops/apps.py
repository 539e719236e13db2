from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

REFRESH_DELAY_SECONDS = 2


class OpsConfig(AppConfig):
    name = "psirt.ops"
    label = "ops"

    def ready(self) -> None:
        # Imported here: the task module imports models, which load only once the app registry is ready.
        from psirt.advisories.models import Advisory
        from psirt.ops.tasks import refresh_static_export

        def enqueue_refresh() -> None:
            # The change's own after-commit work (the CSAF provider tree is written after the commit) runs after
            # this callback: the refresh starts a moment later, when the backend can defer. What an export still
            # misses (a tree file written while it ran) is newer than the export's start, so the next one takes it.
            task = refresh_static_export
            if task.get_backend().supports_defer:
                task = task.using(run_after=timezone.now() + dt.timedelta(seconds=REFRESH_DELAY_SECONDS))
            task.enqueue()

        def refresh_export(sender: Any, instance: Advisory, **kwargs: Any) -> None:
            """After a change to an advisory that is or was on the public site commits (publication, revision,
            withdrawal, taken off the site), queue the refresh of the static export, when one is configured.

            A signal on purpose, like the page cache's site generation: the static export is a cache of the public
            pages, and no code path that changes a public advisory (services, admin, import) can forget it."""
            if not settings.PSIRT_STATIC_EXPORT_DIR or instance.published_at is None:
                return
            # One refresh per transaction, however many advisories it saves (a CSAF import of hundreds): the
            # callbacks a rollback drops are dropped from this list too.
            pending = transaction.get_connection().run_on_commit
            if any(entry[1] is enqueue_refresh for entry in pending):
                return
            transaction.on_commit(enqueue_refresh)

        post_save.connect(refresh_export, sender=Advisory, weak=False, dispatch_uid="psirt.ops.refresh_export")
