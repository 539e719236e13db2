"""`psirt export-csaf DIR`: the whole CSAF provider tree of the published (and withdrawn) advisories, written from
scratch into DIR with the same writer as the live tree under /.well-known/csaf/ — for a static web server, a CDN or
a check with third-party tools. DIR must be empty (or missing) unless --force, which first removes the parts of
a previous tree (provider-metadata.json, openpgp/, white/) and nothing else."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from psirt.advisories.csaf import provider
from psirt.advisories.csaf.documents import advisory_queryset


class Command(BaseCommand):
    help = "Write the CSAF 2.0 provider tree (documents, hashes, signatures, index, changes, ROLIE feed) into DIR."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", metavar="DIR", help="Folder to write into (created if missing).")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Write into a non-empty DIR: first remove provider-metadata.json, openpgp/ and white/ there.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(options["directory"])
        if root.exists() and not root.is_dir():
            raise CommandError(f"{root} exists and is not a folder.")
        if root.is_dir() and any(p.name != provider.LOCK_NAME for p in root.iterdir()):
            if not options["force"]:
                raise CommandError(f"{root} is not empty; choose an empty folder or add --force to replace its tree.")
            for name in (provider.TLP_FOLDER, provider.KEY_FOLDER):
                if (root / name).is_dir() and not (root / name).is_symlink():
                    shutil.rmtree(root / name)
            (root / provider.METADATA_NAME).unlink(missing_ok=True)
        failed: list[str] = []

        def documents() -> Iterator[dict[str, Any]]:
            for advisory in advisory_queryset().order_by("published_at", "advisory_id").iterator(chunk_size=200):
                try:
                    docs = provider.advisory_documents(advisory)
                except Exception as exc:  # one broken advisory must not stop the export of the others
                    failed.append(f"{advisory.advisory_id}: {exc}")
                    continue
                yield from docs

        key = provider.current_key()
        summary = provider.export_tree(root, documents(), key=key)
        signed = f"signed with key {summary.fingerprint}" if summary.signed else "NOT signed (no signing key)"
        self.stdout.write(
            f"Wrote {summary.documents} CSAF documents and {summary.translations} translations "
            f"({summary.files} files) into {summary.root}, {signed}."
        )
        if failed:
            for line in failed:
                self.stderr.write(f"not exported: {line}")
            raise CommandError(f"{len(failed)} advisories could not be exported (see above).")
