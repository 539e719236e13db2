"""`psirt backup DEST` writes one archive; `psirt backup verify ARCHIVE` checks one; `--keys-to FILE` exports the
keys apart from it, encrypted. Exit codes: 0 done (or the archive is sound), 1 refused or damaged."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from psirt.lib.errors import DomainError
from psirt.ops.backup import certificate_signer, create_backup, installation_signer, verify_archive, write_keys
from psirt.ops.backup.keys import check_passphrase


def read_passphrase(path: str | None, *, confirm: bool) -> str:
    """The passphrase from the first line of a file, or typed at a prompt (twice when setting one)."""
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.readline().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"The passphrase file {path} cannot be read ({exc}).") from None
    if not sys.stdin.isatty():
        raise CommandError("No terminal to ask for a passphrase: pass --passphrase-file FILE.")
    first = getpass.getpass("Passphrase for the keys file: ")
    if confirm:
        check_passphrase(first)
        if getpass.getpass("Again: ") != first:
            raise CommandError("The two passphrases differ.")
    return first


class Command(BaseCommand):
    help = (
        "Back up this installation: `psirt backup DEST` writes one archive (DEST a file name, .tar or .tar.gz, or "
        "a folder for a dated archive); `psirt backup verify ARCHIVE` checks an archive without restoring it. "
        "`--keys-to FILE` also exports the keys, encrypted, which the archive never holds."
    )
    # The backup copies ciphertext as stored: it needs no key that reads it, and runs even when the keys check fails.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", nargs="*", help="DEST, or `verify ARCHIVE`.")
        parser.add_argument("--compress", action="store_true", help="gzip the archive (also chosen by .tar.gz).")
        parser.add_argument("--force", action="store_true", help="Replace an existing archive of that name.")
        parser.add_argument("--keys-to", metavar="FILE", help="Write the keys, encrypted, to FILE (never replaced).")
        parser.add_argument(
            "--keys-recipient",
            metavar="CERT",
            action="append",
            default=[],
            help="OpenPGP certificate to encrypt the keys to (repeatable); without one, a passphrase is asked.",
        )
        parser.add_argument(
            "--passphrase-file", metavar="FILE", help="Read the keys passphrase from FILE's first line."
        )
        parser.add_argument(
            "--signer",
            metavar="CERT",
            help="verify: require the manifest to be signed by this OpenPGP certificate (by default the signature is "
            "checked against this installation's signing key, when it has one).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        target: list[str] = options["target"]
        try:
            if target[:1] == ["verify"]:
                if len(target) != 2:
                    raise CommandError("usage: psirt backup verify ARCHIVE")
                self._verify(Path(target[1]), options["signer"])
                return
            if len(target) > 1:
                raise CommandError("usage: psirt backup DEST [--keys-to FILE]")
            if not target and not options["keys_to"]:
                raise CommandError("usage: psirt backup DEST [--keys-to FILE]  |  psirt backup verify ARCHIVE")
            if options["keys_to"]:
                self._keys(Path(options["keys_to"]), options["keys_recipient"], options["passphrase_file"])
            if target:
                result = create_backup(dest=Path(target[0]), compress=options["compress"], force=options["force"])
                self.stdout.write(
                    f"backup written: {result.path} ({result.size} bytes, {len(result.manifest.files)} files, "
                    f"{sum(result.manifest.tables.values())} rows, {result.manifest.engine})"
                )
                self.stdout.write(
                    f"manifest signed by {result.signed_by}"
                    if result.signed_by
                    else "manifest not signed: no signing key (PSIRT_SIGNING_KEY_FILE) is configured"
                )
                self.stdout.write("the keys are not in the archive: keep a keys export (--keys-to) apart from it")
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None

    def _verify(self, path: Path, certificate: str | None) -> None:
        signer = certificate_signer(Path(certificate)) if certificate else installation_signer()
        report = verify_archive(path, signer)
        manifest = report.manifest
        self.stdout.write(
            f"{path}: sound — psirt {manifest.psirt_version}, {manifest.engine}, taken {manifest.created_at}, "
            f"{len(manifest.files)} files checked"
        )
        for note in report.notes:
            self.stdout.write(f"  {note}")

    def _keys(self, dest: Path, recipients: list[str], passphrase_file: str | None) -> None:
        passphrase = None
        if passphrase_file or not recipients:
            passphrase = read_passphrase(passphrase_file, confirm=True)
        write_keys(dest=dest, recipients=[Path(r) for r in recipients], passphrase=passphrase)
        self.stdout.write(f"keys written, encrypted: {dest}")
