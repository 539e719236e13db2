"""Backup, verification and restore of a psirt installation (see docs/operations.md, "Backup and restore")."""

from psirt.ops.backup.create import BackupResult, create_backup
from psirt.ops.backup.exceptions import ArchiveInvalid, BackupError, KeysFileError, RestoreRefused
from psirt.ops.backup.keys import bundle_settings, install_keys, read_keys, write_keys
from psirt.ops.backup.restore import RestoreResult, restore_archive
from psirt.ops.backup.verify import VerifyReport, verify_archive

__all__ = [
    "ArchiveInvalid",
    "BackupError",
    "BackupResult",
    "KeysFileError",
    "RestoreRefused",
    "RestoreResult",
    "VerifyReport",
    "bundle_settings",
    "create_backup",
    "install_keys",
    "read_keys",
    "restore_archive",
    "verify_archive",
    "write_keys",
]
