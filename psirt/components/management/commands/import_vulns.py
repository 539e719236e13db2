"""`psirt import-vulns FILE_OR_DIR…`: read third-party vulnerability data offline (OSV JSON, CVE JSON 5 records,
upstream CSAF advisories) and match it against the stored components. Files are read and checked one by one (a
refused file stores nothing) and the records of the good ones stored in batches of `FILES_PER_BATCH` files, one
transaction each; the same data again changes nothing. Exit 1 when any file was refused."""

from __future__ import annotations

import gc
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from psirt.components.exceptions import InvalidVulnerabilityData
from psirt.components.services import import_vulnerabilities
from psirt.components.vulndata import VulnRecord, json_files, read_file

# Stored versions are read once per batch (`services.StoredVersions`): large batches read them less often.
FILES_PER_BATCH = 5000


class Command(BaseCommand):
    help = (
        "Import OSV, CVE JSON 5 or CSAF 2.0 files (or the *.json files under directories) as vulnerability data "
        "about components, and match them against the stored SBOMs. Exit 1 if any file was refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")

    def handle(self, *args: Any, **options: Any) -> None:
        files = json_files(options["paths"])
        if not files:
            raise CommandError("no *.json files found in the paths given", returncode=1)
        refused = created = updated = unchanged = matches = 0
        # An import allocates hundreds of thousands of small objects that form no cycles: with the cycle collector
        # on, its repeated passes over them cost a third of the import. It runs again at the end.
        gc.disable()
        try:
            refused, created, updated, unchanged, matches = self._import(files)
        finally:
            gc.enable()
        self.stdout.write(
            f"{created} new, {updated} updated, {unchanged} unchanged, {refused} files refused; "
            f"{matches} component versions matched"
        )
        if refused:
            raise CommandError(f"{refused} of {len(files)} files refused", returncode=1)

    def _import(self, files: list[str]) -> tuple[int, int, int, int, int]:
        refused = created = updated = unchanged = matches = 0
        for start in range(0, len(files), FILES_PER_BATCH):
            records: list[VulnRecord] = []
            for path in files[start : start + FILES_PER_BATCH]:
                try:
                    records += read_file(path)
                except InvalidVulnerabilityData as exc:
                    refused += 1
                    self.stderr.write(self.style.ERROR(f"refused {exc.message}"))
            stats = import_vulnerabilities(records=records)
            created, updated = created + stats.created, updated + stats.updated
            unchanged, matches = unchanged + stats.unchanged, matches + stats.matches
        return refused, created, updated, unchanged, matches
