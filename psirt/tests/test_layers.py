"""The import direction between apps: an app imports only the apps below it.

The order is the one `docs/architecture.md` draws. A module's imports are read with `ast` (nothing is imported
here), including imports inside functions and `TYPE_CHECKING` blocks: a dependency hidden in a function is still a
dependency. Tests and migrations are left out (a test may use any app to build its fixtures; a migration is history).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]

# Bottom first. An app may import itself and any app listed before it.
LAYERS: list[str] = [
    "lib",
    "formats",
    "audit",
    "organization",
    "counters",
    "mail",
    "accounts",
    "catalog",
    "pages",
    "intake",
    "cases",
    "components",
    "advisories",
    "notify",
    "regulatory",
    "metrics",
    "ops",
    "api",
    "demo",
]
# The project's own top: settings, URL map, WSGI entry, command line. They may import every app; no app
# imports them (settings are read through django.conf.settings).
TOP_MODULES = {"settings", "settings_test", "urls", "wsgi", "cli"}


def _owner(module: str) -> str | None:
    """The app (or top module) a dotted `psirt.…` name belongs to; None for names outside the package."""
    parts = module.split(".")
    if parts[0] != "psirt" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path, package: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every `psirt.…` import in a source file, relative imports resolved."""
    package_parts = list(path.relative_to(package.parent).parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # `from psirt import cases` imports the app itself.
            if module == "psirt":
                found.extend((node.lineno, f"psirt.{alias.name}") for alias in node.names)
    return [(line, name) for line, name in found if name.startswith("psirt.")]


def _source_files(package: Path) -> list[Path]:
    return sorted(
        path
        for path in package.rglob("*.py")
        if "tests" not in path.relative_to(package).parts and "migrations" not in path.relative_to(package).parts
    )


def upward_imports(package: Path = PACKAGE) -> list[str]:
    """Every import that points up the layers (or from an app into the project's top modules)."""
    rank = {app: index for index, app in enumerate(LAYERS)}
    problems: list[str] = []
    for path in _source_files(package):
        parts = path.relative_to(package).parts
        if len(parts) == 1:  # the project's top modules and the package's __init__
            continue
        here = parts[0]
        for line, module in _imports(path, package):
            there = _owner(module)
            if there is None or there == here:
                continue
            where = f"psirt/{path.relative_to(package)}:{line}"
            if there in TOP_MODULES:
                problems.append(f"{where} imports {module}: apps do not import the project's top modules")
            elif there not in rank:
                problems.append(f"{where} imports {module}: {there!r} is not in the layer list")
            elif here not in rank:
                problems.append(f"{where}: app {here!r} is not in the layer list")
            elif rank[there] > rank[here]:
                problems.append(f"{where} imports {module}: {here} is below {there}")
    return problems


def test_every_app_is_in_the_layer_list() -> None:
    apps = {
        path.name
        for path in PACKAGE.iterdir()
        if path.is_dir() and (path / "__init__.py").exists() and path.name not in {"tests", "templates", "static"}
    }
    assert apps - set(LAYERS) == set(), "add the new app to LAYERS (and to docs/architecture.md)"


def test_apps_import_only_apps_below_them() -> None:
    assert upward_imports() == []


def test_an_upward_import_is_found(tmp_path: Path) -> None:
    """The check itself bites: in a copy of the package with one upward import added, that import is reported,
    whether absolute, relative or hidden in a function."""
    package = tmp_path / "psirt"
    for path in _source_files(PACKAGE):
        target = package / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    (package / "lib" / "probe.py").write_text(
        "from psirt.cases.models import Case\n\n\ndef later():\n    from ..advisories import queries\n",
        encoding="utf-8",
    )
    assert upward_imports(package) == [
        "psirt/lib/probe.py:1 imports psirt.cases.models: lib is below cases",
        "psirt/lib/probe.py:5 imports psirt.advisories: lib is below advisories",
    ]
