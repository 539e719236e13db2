"""`psirt rotatekeys`: re-encrypt every encrypted column and stored file with the first key of
PSIRT_ENCRYPTION_KEYS. Rotation: put the new key first, run this, then remove the old key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from psirt.lib import stored_files
from psirt.lib.crypto import rotate_all


class Command(BaseCommand):
    help = "Re-encrypt data at rest with the first key of PSIRT_ENCRYPTION_KEYS (after adding a new key)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = rotate_all(file_fields=stored_files.columns())
        self.stdout.write(f"re-encrypted {report.rows} rows and {report.files} files with the first key")
