"""`psirt restore ARCHIVE`: restore a backup onto this (empty) installation, then say whether the configured keys
read the restored data. Exit codes: 0 restored and the keys match, 1 refused (nothing changed), 2 restored but the
configured keys do not read the data (set them from the keys export, see `psirt restore --help`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from psirt.lib.errors import DomainError
from psirt.ops.backup import restore_archive


class Command(BaseCommand):
    help = (
        "Restore a backup archive onto this installation (refuses a non-empty database or var dir unless "
        "--force). SQLite → SQLite, PostgreSQL → PostgreSQL, and SQLite → PostgreSQL (set DATABASE_URL)."
    )
    # The installation's keys are checked after the restore, against the restored data, not before.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="The archive written by `psirt backup`.")
        parser.add_argument("--force", action="store_true", help="Replace the data of a non-empty installation.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = restore_archive(path=Path(options["archive"]), force=options["force"])
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        manifest = result.manifest
        self.stdout.write(
            f"restored the backup of {manifest.created_at} (psirt {manifest.psirt_version}, {manifest.engine})"
        )
        for note in result.notes:
            self.stdout.write(f"  {note}")
        self.stdout.write(f"  audit chain: {result.audit}")
        if result.key_problem:
            raise CommandError(
                f"Restored, but the configured keys do not read the data: {result.key_problem} Set "
                "PSIRT_ENCRYPTION_KEYS (and SECRET_KEY, PSIRT_AUDIT_KEYS) from the keys export.",
                returncode=2,
            )
        self.stdout.write("  keys: the configured encryption keys read the restored data")
