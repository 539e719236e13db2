"""`psirt cvss VECTOR`: JSON on stdout, exit 2 with the reason for an invalid vector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


def test_command_prints_the_scores_as_json() -> None:
    out = StringIO()
    call_command("cvss", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", stdout=out)
    assert json.loads(out.getvalue()) == {
        "version": "4.0",
        "base": 9.3,
        "threat": 8.1,
        "environmental": 8.1,
        "severity": "High",
        "vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U",
    }


def test_invalid_vector_is_a_command_error_with_status_2() -> None:
    with pytest.raises(CommandError, match=r"UI \(User Interaction\)") as info:
        call_command("cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:X/S:U/C:H/I:H/A:H")
    assert info.value.returncode == 2


def test_psirt_cvss_exits_2_with_the_message_on_stderr(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(PSIRT_DEV="1", PSIRT_VAR_DIR=str(tmp_path / "var"), DATABASE_URL="")
    run = [sys.executable, "-m", "psirt.cli", "cvss"]
    bad = subprocess.run([*run, "CVSS:3.1/AV:N/AC:L"], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "Missing base metrics: PR (Privileges Required)" in bad.stderr
    assert bad.stdout == ""
    good = subprocess.run(
        [*run, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"], env=env, capture_output=True, text=True, timeout=120
    )
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["base"] == 9.8
