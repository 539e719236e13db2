"""`psirt send_deadline_reminders`: mail what is due (idempotent; cron-friendly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from psirt.cases.services.deadlines import send_deadline_reminders


class Command(BaseCommand):
    help = "Send deadline reminders: the working day before to assignees, after a deadline to leads."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_deadline_reminders()
        self.stdout.write(f"reminders sent: {sent['assignees']} to assignees, {sent['leads']} to leads")
