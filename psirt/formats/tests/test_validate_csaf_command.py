"""`psirt validate-csaf FILE…` run in-process: OK / problems on stdout, exit 1 invalid, exit 2 unreadable."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from psirt.formats.csaf import dumps_csaf, render_csaf
from psirt.formats.tests import factories
from psirt.tests.conformance import CSAF_20


def run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("validate_csaf", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "vt-sa-2026-004.json"
    path.write_text(dumps_csaf(render_csaf(factories.advisory())), encoding="utf-8")
    return path


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    doc = render_csaf(factories.advisory())
    doc["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"] = 4.2
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_valid_file_prints_ok_and_exits_0(good: Path) -> None:
    code, out, _ = run(str(good))
    assert code == 0
    assert out.strip() == f"{good}: OK"


def test_invalid_file_prints_each_problem_and_exits_1(good: Path, bad: Path) -> None:
    code, out, err = run(str(good), str(bad))
    assert code == 1
    assert f"{good}: OK" in out
    assert f"{bad}: INVALID" in out
    assert "  6.1.9 /vulnerabilities/0/scores/0/cvss_v3/baseScore: " in out
    assert "1 of 2 files are not valid CSAF 2.0" in err


def test_warnings_are_shown_on_request_and_never_fail(tmp_path: Path) -> None:
    path = tmp_path / "nocve.json"
    path.write_text(dumps_csaf(render_csaf(factories.advisory_without_cve())), encoding="utf-8")
    assert run(str(path)) == (0, f"{path}: OK\n", "")
    code, out, _ = run("--warnings", str(path))
    assert code == 0
    assert "  info: 6.3.3 /vulnerabilities/0/cve: " in out


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "invalid JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
        (b"\xff\xfe\x00garbage", "not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_unreadable_file_exits_2_with_a_reason(tmp_path: Path, good: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    code, out, err = run(str(good), str(path))
    assert code == 2
    assert f"{good}: OK" in out  # the readable file is still checked
    assert f"{path}: cannot read: " in err and reason in err
    assert "Traceback" not in out + err


def test_missing_file_and_directory_exit_2(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path / "nope.json"), str(tmp_path))
    assert code == 2
    assert "nope.json: cannot read: no such file" in err
    assert f"{tmp_path}: cannot read: not a regular file" in err
    assert "2 of 2 files could not be read" in err


def test_json_that_is_not_an_object_is_invalid_not_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    code, out, _ = run(str(path))
    assert code == 1
    assert "  schema /: a CSAF document is a JSON object, not list" in out


def test_terminal_control_characters_in_documents_are_escaped(tmp_path: Path) -> None:
    doc = render_csaf(factories.advisory())
    doc["document"]["\x1b[2J\x1b[31mowned"] = 1
    path = tmp_path / "ansi.json"
    path.write_text(json.dumps(doc))
    code, out, _ = run(str(path))
    assert code == 1
    assert "\x1b" not in out and "\\x1b[2J" in out


def test_the_oasis_example_advisories_validate() -> None:
    examples = CSAF_20 / "examples" / "csaf"
    files = sorted(str(p) for p in examples.glob("*.json"))  # BSI, Cisco, Red Hat
    code, out, _ = run(*files)
    assert len(files) == 6
    assert code == 0
    assert out.count(": OK\n") == 6
