"""`psirt audit verify`: walk the hash chain and report the first broken link (exit 1) or OK (exit 0)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from psirt.audit.services import verify_chain


class Command(BaseCommand):
    help = "Audit log tools. `audit verify` checks the hash chain and names the first broken event."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        sub.add_parser("verify", help="Check every event's hash and link; exit 1 at the first broken one.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            try:
                report = verify_chain()
            except DatabaseError as exc:
                # Exit 2: the database, not the chain, is the problem (not configured, unreachable or not migrated).
                raise CommandError(
                    f"cannot read the audit log ({exc}): check DATABASE_URL and run `psirt migrate`", returncode=2
                ) from exc
            if report.ok:
                self.stdout.write(f"OK: {report.checked} events, chain intact")
                return
            raise CommandError(
                f"BROKEN at event #{report.first_bad_seq}: {report.problem} "
                f"({report.checked} events before it verified)",
                returncode=1,
            )
