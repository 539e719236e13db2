"""`psirt audit verify [--checkpoints DIR]`: walk the keyed hash chain, print its head, and (with checkpoints)
prove that no checkpointed event was removed or changed. `psirt audit checkpoint`: sign the head into a file now.

Exit codes: 0 intact, 1 broken (names the first broken event or checkpoint), 2 cannot check (no database, no
audit key, no signing key)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from psirt.audit.services import (
    AuditChainBroken,
    AuditKeyMissing,
    verify_chain,
    verify_checkpoints,
    write_checkpoint,
)
from psirt.lib.signing import SigningUnavailable


class Command(BaseCommand):
    help = (
        "Audit log tools. `audit verify` checks the keyed hash chain, prints its head and names the first broken "
        "event; `--checkpoints DIR` also checks every signed checkpoint in DIR. `audit checkpoint` signs the head "
        "into PSIRT_AUDIT_CHECKPOINT_DIR now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        verify = sub.add_parser(
            "verify", help="Check every event's keyed hash and link; exit 1 at the first broken one."
        )
        verify.add_argument(
            "--checkpoints",
            metavar="DIR",
            help="Folder of signed checkpoints: each must name an event that still exists with the same hash.",
        )
        verify.add_argument(
            "--public-key",
            metavar="FILE",
            action="append",
            default=None,
            help="Armored OpenPGP public key the checkpoints are signed with (repeatable; default: the configured "
            "signing key).",
        )
        checkpoint = sub.add_parser("checkpoint", help="Verify the chain and sign its head into a checkpoint file.")
        checkpoint.add_argument("--dir", metavar="DIR", help="Folder to write to (default PSIRT_AUDIT_CHECKPOINT_DIR).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["subcommand"] == "verify":
                self._verify(options["checkpoints"], options["public_key"])
            else:
                self._checkpoint(options["dir"])
        except DatabaseError as exc:
            # Exit 2: the database, not the chain, is the problem (not configured, unreachable or not migrated).
            raise CommandError(
                f"cannot read the audit log ({exc}): check DATABASE_URL and run `psirt migrate`", returncode=2
            ) from exc
        except (AuditKeyMissing, SigningUnavailable) as exc:
            raise CommandError(str(exc), returncode=2) from exc

    def _verify(self, checkpoints: str | None, public_key_files: list[str] | None) -> None:
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"BROKEN at event #{report.first_bad_seq}: {report.problem} "
                f"({report.checked} events before it verified)",
                returncode=1,
            )
        self.stdout.write(f"OK: {report.checked} events, chain intact")
        self.stdout.write(f"head: #{report.checked} {report.head_hash}")
        if checkpoints is None:
            return
        public_keys = None
        if public_key_files:
            try:
                public_keys = [Path(name).read_text(encoding="utf-8") for name in public_key_files]
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"cannot read the public key ({exc})", returncode=2) from exc
        result = verify_checkpoints(directory=Path(checkpoints), public_keys=public_keys)
        if not result.ok:
            raise CommandError(
                f"BROKEN: {result.problem} ({result.checked} checkpoints before it matched)", returncode=1
            )
        self.stdout.write(f"OK: {result.checked} checkpoints match (latest #{result.latest_seq})")

    def _checkpoint(self, directory: str | None) -> None:
        try:
            checkpoint = write_checkpoint(directory=Path(directory) if directory else None)
        except AuditChainBroken as exc:
            raise CommandError(str(exc), returncode=1) from exc
        if checkpoint is None:
            self.stdout.write("the audit log is empty: nothing to checkpoint")
            return
        self.stdout.write(f"checkpoint #{checkpoint.seq} {checkpoint.hash}: {checkpoint.path}")
