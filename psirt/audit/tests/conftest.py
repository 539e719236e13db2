"""Fixtures of the audit tests that sign checkpoints: the team's signing key and a checkpoint folder of the test's
own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pysequoia
import pytest


@pytest.fixture(scope="module")
def team_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "team.asc"
    path.write_text(str(pysequoia.Tsk.generate("Test PSIRT <psirt@example.com>")), encoding="ascii")
    return path


@pytest.fixture
def checkpoints(settings: Any, tmp_path: Path, team_key_file: Path) -> Path:
    settings.PSIRT_SIGNING_KEY_FILE = str(team_key_file)
    settings.PSIRT_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return tmp_path / "checkpoints"
