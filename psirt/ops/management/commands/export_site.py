"""`psirt export-site DIR [--changed-since TIMESTAMP] [--force]`: the public site as static files in DIR (see
`psirt.ops.export`). DIR must be empty (or missing) unless --force; --changed-since needs an earlier export in
DIR and rewrites only the pages that show an advisory changed since then."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from psirt.ops.export import ExportRefused, export_site
from psirt.ops.export.files import read_manifest


def parse_since(raw: str, root: Path) -> dt.datetime:
    """An ISO 8601 time (a date alone is midnight; no zone is the site's zone), or "last": the time the earlier
    export in DIR started."""
    if raw == "last":
        try:
            manifest = read_manifest(root)
        except ExportRefused as exc:
            raise CommandError(exc.message) from exc
        if manifest is None or manifest.exported_at is None:
            raise CommandError(f"{root} holds no earlier export of the site: run a full export into it first.")
        return manifest.exported_at
    try:
        when = dt.datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise CommandError(
            f"--changed-since {raw[:40]!r} is not a time like 2026-12-05T10:00:00+00:00, a date, or 'last'."
        ) from exc
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return when


class Command(BaseCommand):
    help = "Write the public site (both languages, feeds, security.txt, CSAF tree, assets) as static files into DIR."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", metavar="DIR", help="Folder to write into (created if missing).")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Write into a non-empty DIR: replace the export there and remove what it wrote that is gone.",
        )
        parser.add_argument(
            "--changed-since",
            metavar="TIMESTAMP",
            help="Rewrite only the pages showing advisories changed since TIMESTAMP (ISO 8601, or 'last').",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(options["directory"]).absolute()
        since = parse_since(options["changed_since"], root) if options["changed_since"] else None
        try:
            summary = export_site(root=root, force=options["force"], changed_since=since)
        except ExportRefused as exc:
            raise CommandError(exc.message) from exc
        kind = "incremental export" if since else "export"
        self.stdout.write(
            f"{kind}: {summary.pages} files rendered, {summary.written} written, {summary.removed} removed, "
            f"in {summary.seconds:.1f} s into {summary.root}."
        )
        if summary.failed:
            for line in summary.failed:
                self.stderr.write(f"not exported: {line}")
            raise CommandError(f"{len(summary.failed)} pages could not be exported (see above).")
