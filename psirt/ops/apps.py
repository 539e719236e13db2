from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db import transaction


class OpsConfig(AppConfig):
    name = "psirt.ops"
    label = "ops"

    def ready(self) -> None:
        # Imported here: the task module imports models, which load only once the app registry is ready.
        from psirt.advisories.signals import advisory_published
        from psirt.ops.tasks import refresh_static_export

        def refresh_export(**kwargs: Any) -> None:
            """After a publication commits, queue the refresh of the static export (when one is configured)."""
            if not settings.PSIRT_STATIC_EXPORT_DIR:
                return
            transaction.on_commit(lambda: refresh_static_export.enqueue())

        advisory_published.connect(refresh_export, sender=None, weak=False, dispatch_uid="psirt.ops.refresh_export")
