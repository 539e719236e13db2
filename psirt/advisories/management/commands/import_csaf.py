"""`psirt import-csaf FILE_OR_DIR…`: bring existing CSAF 2.0 advisories into psirt as published advisories.

One line per file: imported / updated / unchanged / refused and why (see `psirt.advisories.csaf.importer`). Exit status
1 when any file was refused, 0 otherwise."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from psirt.advisories.csaf.importer import import_paths


class Command(BaseCommand):
    help = (
        "Import CSAF 2.0 documents (files, or the *.json files under directories) as published advisories. "
        "Each document is validated first (strict schema and mandatory tests) and imported in its own "
        "transaction; importing the same document again changes nothing. Exit 1 if any file was refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="FILE_OR_DIR", help="CSAF 2.0 JSON files or directories")

    def handle(self, *args: Any, **options: Any) -> None:
        results = import_paths(paths=options["paths"])
        counts: dict[str, int] = {}
        for result in results:
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
            style = self.style.ERROR if result.outcome == "refused" else self.style.SUCCESS
            self.stdout.write(style(result.line))
        summary = ", ".join(f"{n} {outcome}" for outcome, n in counts.items()) or "no CSAF files found"
        self.stdout.write(summary)
        if not results:
            raise CommandError("no CSAF files found in the paths given (only *.json files are read)", returncode=1)
        if counts.get("refused"):
            raise CommandError(f"{counts['refused']} of {len(results)} files refused", returncode=1)
