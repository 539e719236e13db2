"""Backup, verification and restore of a psirt installation (see docs/operations.md, "Backup and restore")."""

from psirt.ops.backup.create import BackupResult, create_backup
from psirt.ops.backup.exceptions import ArchiveInvalid, BackupError, KeysFileError, RestoreRefused
from psirt.ops.backup.keys import bundle_settings, install_keys, read_keys, write_keys
from psirt.ops.backup.restore import RestoreResult, restore_archive
from psirt.ops.backup.verify import Signer, VerifyReport, certificate_signer, installation_signer, verify_archive

__all__ = [
    "ArchiveInvalid",
    "BackupError",
    "BackupResult",
    "KeysFileError",
    "RestoreRefused",
    "RestoreResult",
    "Signer",
    "VerifyReport",
    "bundle_settings",
    "certificate_signer",
    "create_backup",
    "install_keys",
    "installation_signer",
    "read_keys",
    "restore_archive",
    "verify_archive",
    "write_keys",
]
