"""`psirt restore ARCHIVE`: restore a backup onto this (empty) installation, then say whether the keys read the
restored data. Exit codes: 0 restored and the keys match, 1 refused (nothing changed), 2 restored but the keys do
not read the data.

The keys are this installation's configured ones, or with `--keys-from FILE` those of the keys file written by
`psirt backup --keys-to` (decrypted with a passphrase from `--passphrase-file` or a prompt, never the command
line, or with `--keys-secret-key`): the file is decrypted before anything is restored, the restore runs under its
keys, and they are written into a new owner-only folder (`--keys-out`, by default `restored-keys` next to the var
dir) with `restored-keys.env`, the environment file that configures the installation with them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings

from psirt.lib.errors import DomainError
from psirt.ops.backup import bundle_settings, certificate_signer, install_keys, read_keys, restore_archive
from psirt.ops.management.commands.backup import read_passphrase


class Command(BaseCommand):
    help = (
        "Restore a backup archive onto this installation (refuses a non-empty database or var dir unless "
        "--force). SQLite → SQLite, PostgreSQL → PostgreSQL, and SQLite → PostgreSQL (set DATABASE_URL). "
        "--keys-from FILE restores with the keys of a keys file and writes them out as this installation's."
    )
    # The installation's keys are checked after the restore, against the restored data, not before.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="The archive written by `psirt backup`.")
        parser.add_argument("--force", action="store_true", help="Replace the data of a non-empty installation.")
        parser.add_argument(
            "--keys-from",
            metavar="FILE",
            help="The keys file written by `psirt backup --keys-to`: restore with its keys.",
        )
        parser.add_argument(
            "--passphrase-file", metavar="FILE", help="Read the keys file's passphrase from FILE's first line."
        )
        parser.add_argument(
            "--keys-secret-key", metavar="FILE", help="Decrypt the keys file with this OpenPGP secret key instead."
        )
        parser.add_argument(
            "--signer",
            metavar="CERT",
            help="Require the archive's manifest to be signed by this OpenPGP certificate (the signing key's public "
            "half of the installation that made it).",
        )
        parser.add_argument(
            "--keys-out",
            metavar="DIR",
            help="New folder for the restored keys and restored-keys.env (default: restored-keys next to the var dir).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        overrides: dict[str, Any] = {}
        bundle: dict[str, Any] | None = None
        keys_out = None
        if options["keys_from"]:
            keys_out = Path(options["keys_out"] or Path(settings.PSIRT_VAR_DIR).absolute().parent / "restored-keys")
            if keys_out.exists() and (not keys_out.is_dir() or any(keys_out.iterdir())):
                raise CommandError(f"{keys_out} exists and is not an empty folder: name a new one with --keys-out.")
            secret = options["keys_secret_key"]
            passphrase = None if secret else read_passphrase(options["passphrase_file"], confirm=False)
            try:
                bundle = read_keys(
                    path=Path(options["keys_from"]), passphrase=passphrase, secret_key=Path(secret) if secret else None
                )
                overrides = bundle_settings(bundle)
            except DomainError as exc:
                raise CommandError(str(exc.message)) from None
        elif options["passphrase_file"] or options["keys_secret_key"] or options["keys_out"]:
            raise CommandError("--passphrase-file, --keys-secret-key and --keys-out go with --keys-from FILE.")
        try:
            signer = certificate_signer(Path(options["signer"])) if options["signer"] else None
            with override_settings(**overrides):
                result = restore_archive(path=Path(options["archive"]), force=options["force"], signer=signer)
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
            where = "the keys file's keys" if bundle is not None else "the configured keys"
            raise CommandError(
                f"Restored, but {where} do not read the data: {result.key_problem} Set PSIRT_ENCRYPTION_KEYS (and "
                "SECRET_KEY, PSIRT_AUDIT_KEYS) from the keys export of this installation.",
                returncode=2,
            )
        if bundle is not None and keys_out is not None:
            try:
                env_file = install_keys(bundle, keys_out)
            except DomainError as exc:
                raise CommandError(str(exc.message)) from None
            self.stdout.write("  keys: the keys file's encryption keys read the restored data")
            self.stdout.write(
                f"  keys written to {keys_out}: load {env_file} into the environment of every psirt process "
                "(systemd EnvironmentFile=, docker --env-file) before starting it"
            )
            return
        self.stdout.write("  keys: the configured encryption keys read the restored data")
