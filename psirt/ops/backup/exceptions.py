"""Refusals of backup, verify and restore: each message says what is wrong and what to do."""

from __future__ import annotations

from psirt.lib.errors import DomainError


class BackupError(DomainError):
    """A backup could not be written (nothing is left under the destination's name)."""


class ArchiveInvalid(DomainError):
    """An archive is damaged, truncated, tampered with or not a psirt backup: it must not be restored."""

    status = 422


class RestoreRefused(DomainError):
    """A restore was refused before anything was changed (target not empty, engine or schema mismatch)."""

    status = 409


class KeysFileError(DomainError):
    """A keys file cannot be written or read (wrong passphrase or certificate, damaged file)."""
