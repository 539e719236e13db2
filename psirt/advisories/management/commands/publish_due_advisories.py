"""`psirt publish_due_advisories`: publish every scheduled advisory that is due (idempotent; cron-friendly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from psirt.advisories.services import publish_due_advisories


class Command(BaseCommand):
    help = "Publish every scheduled advisory whose disclosure date has come."

    def handle(self, *args: Any, **options: Any) -> None:
        published = publish_due_advisories()
        for advisory_id in published:
            self.stdout.write(f"published {advisory_id}")
        if not published:
            self.stdout.write("nothing due")
