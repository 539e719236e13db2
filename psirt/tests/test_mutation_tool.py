"""`make mutation` (tools/mutation.py): a rerun tests the survivors against the checkout's current tests, never
against the copies mutmut made when the run started, and never replaces the mutated module."""

from __future__ import annotations

from pathlib import Path

import pytest

from psirt.tests.repo_tools import load_tool

tool = load_tool("mutation")


def test_the_copy_takes_changed_and_new_files_but_keeps_the_mutated_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout, copy = tmp_path / "checkout", tmp_path / "checkout" / "mutants"
    monkeypatch.setattr(tool, "ROOT", checkout)
    monkeypatch.setattr(tool, "MUTANTS", copy)
    files = {
        "psirt/lib/rule.py": ("def rule(): ...\n", "# mutated\n"),
        "psirt/lib/tests/test_rule.py": ("def test_new(): ...\n", "def test_old(): ...\n"),
        "psirt/lib/tests/test_same.py": ("same\n", "same\n"),
        "psirt/lib/tests/test_added.py": ("def test_added(): ...\n", None),
        "psirt/lib/__pycache__/rule.cpython-311.pyc": ("bytecode", None),
    }
    for name, (source, copied) in files.items():
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text(source)
        if copied is not None:
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            (copy / name).write_text(copied)

    assert tool.refresh_copy("psirt/lib/rule.py") == 2
    assert (copy / "psirt/lib/rule.py").read_text() == "# mutated\n"
    assert (copy / "psirt/lib/tests/test_rule.py").read_text() == "def test_new(): ...\n"
    assert (copy / "psirt/lib/tests/test_added.py").read_text() == "def test_added(): ...\n"
    assert not (copy / "psirt/lib/__pycache__").exists()
    assert tool.refresh_copy("psirt/lib/rule.py") == 0


def test_the_template_database_is_built_from_inside_a_test_process(tmp_path: Path) -> None:
    # A test process has loaded psirt.settings_test, which set its var folder's root (and, under xdist, names a
    # subfolder after the worker) in the environment the template's migrate process inherits.
    import os
    import sqlite3

    from psirt.tests.mutation_plugin import build_template

    assert os.environ.get("PSIRT_TEST_VAR_ROOT")
    template = build_template(tmp_path / "db")
    assert template.parent == (tmp_path / "db").resolve() and template.is_file()
    with sqlite3.connect(template) as connection:
        assert connection.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 0
    assert not (tmp_path / "db" / "build").exists()
    assert build_template(tmp_path / "db") == template  # built once
