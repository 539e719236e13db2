"""`make audit` (tools/audit_dependencies.py): a vulnerability with a fix fails, an audit that could not ask the
vulnerability service never passes as "no vulnerabilities", and CI's warn mode only softens the latter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from psirt.tests.repo_tools import load_tool

tool = load_tool("audit_dependencies")


def report(*dependencies: dict[str, Any]) -> str:
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


CLEAN: dict[str, Any] = {"name": "django", "version": "5.2.1", "vulns": []}
FIXABLE: dict[str, Any] = {
    "name": "django",
    "version": "5.2.1",
    "vulns": [{"id": "PYSEC-2025-1", "aliases": ["CVE-2025-0001"], "fix_versions": ["5.2.2"], "description": "x"}],
}
UNFIXED: dict[str, Any] = {
    "name": "cvss",
    "version": "3.6",
    "vulns": [{"id": "GHSA-x", "aliases": [], "fix_versions": []}],
}
SKIPPED: dict[str, Any] = {"name": "kaava", "version": "2026.10.3", "skip_reason": "Dependency not found on PyPI"}


@pytest.mark.parametrize("mode", ["fail", "warn"])
def test_a_vulnerability_with_a_fix_fails_in_every_mode(mode: str) -> None:
    result = tool.verdict(report(CLEAN, FIXABLE, SKIPPED), "", unreachable=mode)
    assert result.status == tool.VULNERABLE
    assert any("CVE-2025-0001" in line and "5.2.2" in line for line in result.lines)


def test_a_clean_complete_audit_passes() -> None:
    result = tool.verdict(report(CLEAN, CLEAN), "")
    assert result.status == tool.OK and "2 dependencies checked" in result.lines[-1]


def test_a_vulnerability_without_a_fix_is_a_warning() -> None:
    result = tool.verdict(report(CLEAN, UNFIXED), "")
    assert result.status == tool.OK
    assert any(line.startswith("WARNING") and "GHSA-x" in line for line in result.lines)


@pytest.mark.parametrize(
    ("json_report", "stderr", "says"),
    [
        (None, "requests.exceptions.ConnectionError: Max retries exceeded with url", "could not be reached"),
        ("", "ReadTimeout: timed out", "could not be reached"),
        ("<html>proxy error</html>", "", "pip-audit failed"),
        (json.dumps(["not", "a", "report"]), "", "pip-audit failed"),
        (report(CLEAN, SKIPPED), "", "could not be checked"),
    ],
    ids=["unreachable", "timeout", "garbage", "wrong-shape", "unknown-releases"],
)
def test_an_incomplete_audit_never_passes_as_clean(json_report: str | None, stderr: str, says: str) -> None:
    strict = tool.verdict(json_report, stderr, unreachable="fail")
    assert strict.status == tool.INCOMPLETE
    assert any(says in line for line in strict.lines) and "INCOMPLETE" in strict.lines[-1]
    # CI's warn mode lets the run go on, but says so.
    lenient = tool.verdict(json_report, stderr, unreachable="warn")
    assert lenient.status == tool.OK and "INCOMPLETE" in lenient.lines[-1] and "WARNING" in lenient.lines[-1]


def test_main_reports_the_worst_status_of_every_lock_file(tmp_path: Path, capsys) -> None:
    fake = tmp_path / "pip-audit"
    # A stand-in for pip-audit: writes the report named in the lock file's first line to --output.
    fake.write_text('#!/bin/sh\nlock="$2"; while [ "$1" != "--output" ]; do shift; done\nhead -n 1 "$lock" > "$2"\n')
    fake.chmod(0o755)
    clean, vulnerable = tmp_path / "clean.lock", tmp_path / "vulnerable.lock"
    clean.write_text(report(CLEAN) + "\n")
    vulnerable.write_text(report(FIXABLE) + "\n")
    args = ["--pip-audit", str(fake)]
    assert tool.main([*args, str(clean)]) == tool.OK
    assert tool.main([*args, str(clean), str(vulnerable)]) == tool.VULNERABLE
    assert "VULNERABLE: django 5.2.1" in capsys.readouterr().out
