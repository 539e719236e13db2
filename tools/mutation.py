"""Mutation testing of one module with mutmut (`make mutation MODULE=psirt/lib/business_days.py`).

    python tools/mutation.py run psirt/lib/business_days.py [--tests PATH ...] [--max-children N] [--resume]
    python tools/mutation.py results            # every mutant of the last run with its status
    python tools/mutation.py show NAME          # the diff of one mutant
    python tools/mutation.py rerun NAME ...     # test these mutants again (after adding tests)

The shared settings are `[tool.mutmut]` in pyproject.toml; this wrapper adds the one module to mutate and the
tests to run (by default the tests folder of the module's app), which mutmut can only read from that file. A run
starts from a fresh `mutants/` copy unless `--resume` is given for the same module and tests. The last line is
`RESULT module=… mutants=… killed=… survived=… timeout=… no_tests=… other=…`; the exit status is 0 whatever
survives (the survivors are listed, each is a test to write or a reason to give).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
SELECTION = MUTANTS / "psirt-mutation.json"


def default_tests(module: str) -> list[str]:
    """The tests folder of the module's app: psirt/<app>/tests."""
    parts = Path(module).parts
    if len(parts) < 3 or parts[0] != "psirt" or not module.endswith(".py"):
        raise SystemExit(f"Give a module of the package as a path, e.g. psirt/lib/business_days.py (not {module!r}).")
    return [str(Path(*parts[:2]) / "tests")]


def _configure(module: str, tests: list[str]) -> None:
    """Load mutmut's configuration from pyproject.toml, then narrow it to `module` and `tests`."""
    from mutmut import configuration

    configuration.reset_config()
    config = configuration.config()
    config.only_mutate = [module]
    config.pytest_add_cli_args_test_selection = list(tests)


def _selection() -> dict[str, object]:
    if not SELECTION.exists():
        raise SystemExit("No mutation run here yet: start one with `tools/mutation.py run MODULE`.")
    loaded: dict[str, object] = json.loads(SELECTION.read_text(encoding="utf-8"))
    return loaded


def refresh_copy(module: str) -> int:
    """Bring mutmut's copy of the package up to date with the checkout, except the mutated module itself; returns
    how many files were copied. mutmut copies a file only when its copy is missing, so without this a test added
    to an existing test file would not run on `rerun` or `--resume` (the survivors would stay alive)."""
    copied = 0
    for source in sorted((ROOT / "psirt").rglob("*")):
        relative = source.relative_to(ROOT)
        if not source.is_file() or "__pycache__" in relative.parts or str(relative) == module:
            continue
        target = MUTANTS / relative
        if target.is_file() and filecmp.cmp(source, target, shallow=False):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        copied += 1
    return copied


def _mutmut(arguments: list[str]) -> None:
    from mutmut.__main__ import cli

    try:
        cli.main(arguments, prog_name="mutmut", standalone_mode=False)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise


def statuses(module: str) -> dict[str, str]:
    """Every mutant of `module` with its status ("killed", "survived", "timeout", "no tests", …)."""
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.stats import status_by_exit_code

    data = SourceFileMutationData(path=Path(module))
    data.load()
    return {name: status_by_exit_code[code] for name, code in sorted(data.exit_code_by_key.items())}


def report(module: str) -> None:
    found = statuses(module)
    counts = Counter(found.values())
    for name, status in found.items():
        if status != "killed":
            print(f"    {status:9} {name}")
    other = len(found) - sum(counts[s] for s in ("killed", "survived", "timeout", "no tests"))
    print(
        f"RESULT module={module} mutants={len(found)} killed={counts['killed']} survived={counts['survived']} "
        f"timeout={counts['timeout']} no_tests={counts['no tests']} other={other}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="mutate one module and run its tests against every mutant")
    run.add_argument("module", help="a module of the package, as a path: psirt/lib/business_days.py")
    run.add_argument("--tests", nargs="+", help="test files or folders (default: the app's tests folder)")
    run.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    run.add_argument("--resume", action="store_true", help="keep the results of the last run of the same selection")
    commands.add_parser("results", help="the mutants of the last run and their status")
    show = commands.add_parser("show", help="the diff of one mutant")
    show.add_argument("name")
    rerun = commands.add_parser("rerun", help="test these mutants of the last run again")
    rerun.add_argument("names", nargs="+")
    rerun.add_argument("--max-children", type=int, default=2)
    args = parser.parse_args(argv)

    os.chdir(ROOT)  # mutmut works in the current directory: its copy goes to ./mutants
    if args.command == "run":
        module = str(Path(args.module))
        if not (ROOT / module).is_file():
            raise SystemExit(f"No such module: {module}")
        tests = args.tests or default_tests(module)
        wanted = {"module": module, "tests": tests}
        if args.resume and SELECTION.exists() and _selection() == wanted:
            refresh_copy(module)
        else:
            shutil.rmtree(MUTANTS, ignore_errors=True)
        MUTANTS.mkdir(exist_ok=True)
        SELECTION.write_text(json.dumps(wanted), encoding="utf-8")
        _configure(module, tests)
        _mutmut(["run", "--max-children", str(args.max_children)])
        report(module)
        return
    selection = _selection()
    module, tests = str(selection["module"]), [str(t) for t in selection["tests"]]  # type: ignore[attr-defined]
    _configure(module, tests)
    if args.command == "results":
        report(module)
    elif args.command == "show":
        _mutmut(["show", args.name])
    else:
        refresh_copy(module)
        _mutmut(["run", "--max-children", str(args.max_children), *args.names])
        report(module)


if __name__ == "__main__":
    main()
