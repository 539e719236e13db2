"""Fixtures of the audit tests that sign checkpoints: a checkpoint folder of the test's own, signed with the run's
team signing key (the root conftest's `signing_key_file`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def checkpoints(settings: Any, tmp_path: Path, signing_key_file: Path) -> Path:
    settings.PSIRT_SIGNING_KEY_FILE = str(signing_key_file)
    settings.PSIRT_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return tmp_path / "checkpoints"
