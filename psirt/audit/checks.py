"""Deployment checks of the audit log (`manage.py check --deploy`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


def _writable(folder: Path) -> bool:
    """Whether the hourly task can write a checkpoint into `folder`, creating it (and missing parents) first."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            return False
        existing = existing.parent
    return existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)


@register(Tags.security, deploy=True)
def checkpoint_dir_check(app_configs: Sequence[AppConfig] | None = None, **kwargs: object) -> list[CheckMessage]:
    """Signed checkpoints are what catches someone who holds both the database and the audit key; a folder the
    worker cannot write means none is ever written."""
    folder = Path(settings.PSIRT_AUDIT_CHECKPOINT_DIR)
    if _writable(folder):
        return []
    return [
        Warning(
            f"PSIRT_AUDIT_CHECKPOINT_DIR={str(folder)!r} cannot be written: no audit checkpoint will be signed.",
            hint="Point PSIRT_AUDIT_CHECKPOINT_DIR at a folder the worker can write and copy it off the machine "
            "(docs/audit.md).",
            id="psirt.W010",
        )
    ]
