"""Every code name the documentation cites exists, so the pages cannot drift from the code.

The pages under `docs/`, `README.md` and `SECURITY.md` name modules and functions as dotted `psirt.…` names and
files as `psirt/….py` paths. Each dotted name must import (the longest importable module, then attributes for the
rest) and each path must exist in the repository.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([*ROOT.joinpath("docs").glob("*.md"), ROOT / "README.md", ROOT / "SECURITY.md"])

DOTTED = re.compile(r"\bpsirt(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
PATH = re.compile(r"\bpsirt/[A-Za-z0-9_/.-]*[A-Za-z0-9_/]")
# Dotted words that are not Python names: the SQLite file name and system-check identifiers (psirt.W001).
NOT_PYTHON = re.compile(r"psirt\.(?:sqlite3|[EW]\d{3})")


def cited(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """(page, name) for every match of the pattern in the documentation, each once per page."""
    found: set[tuple[str, str]] = set()
    for page in PAGES:
        for match in pattern.findall(page.read_text(encoding="utf-8")):
            found.add((page.name, match.rstrip(".")))
    return sorted(found)


def resolve(dotted: str) -> object:
    """The object a dotted name denotes: the longest importable module prefix, then attributes for the rest."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise ModuleNotFoundError(dotted)


def test_the_pages_cite_code() -> None:
    """The scan finds names at all (a broken pattern would make the tests below pass on nothing)."""
    assert len(cited(DOTTED)) > 20
    assert len(cited(PATH)) > 5


@pytest.mark.parametrize(("page", "dotted"), [c for c in cited(DOTTED) if not NOT_PYTHON.fullmatch(c[1])])
def test_cited_dotted_name_imports(page: str, dotted: str) -> None:
    try:
        resolve(dotted)
    except (ImportError, AttributeError) as error:
        pytest.fail(f"{page} cites {dotted}, which does not exist: {error}")


@pytest.mark.parametrize(("page", "path"), cited(PATH))
def test_cited_path_exists(page: str, path: str) -> None:
    assert (ROOT / path).exists(), f"{page} cites {path}, which does not exist"
