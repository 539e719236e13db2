"""The Simplified Chinese catalogue: extract the strings the code marks for translation, or check it covers them.

    python tools/messages.py extract    # `make messages`: merge the code's strings into the catalogue, compile it
    python tools/messages.py check      # `make lint`: fail on a string of the code without a translation

A string added to the code after the last extraction is in no catalogue: it shows in English on every Chinese
page and mail, and no test of the catalogue itself can see it (the catalogue is complete, it just lacks the
string). `check` runs the same extraction on a copy of the package and fails on every string the copy's catalogue
leaves untranslated, or marked fuzzy (gettext's guess from a similar string, which is never served). Both need
GNU gettext (xgettext, msgmerge, msgattrib); without it `check` says so and passes, `extract` fails. CI installs
it. Tests are not extracted: their strings are fixtures, not interface.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "psirt"
LOCALE = "zh_Hans"
CATALOGUE = Path("locale") / LOCALE / "LC_MESSAGES" / "django.po"
TOOLS = ("xgettext", "msgmerge", "msgattrib")


def extract(package: Path) -> None:
    """Merge the strings of the code under `package` into its catalogue (dropping those no longer used)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    command = [sys.executable, "-m", "django", "makemessages", "-l", LOCALE, "--no-obsolete"]
    command += ["--add-location", "file", "--ignore", "*/tests/*"]
    subprocess.run(command, cwd=package, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603 - our command


def missing_translations(catalogue: Path) -> list[str]:
    """The entries of `catalogue` (as gettext prints them, with their locations) that serve no translation."""
    entries = []
    for flag in ("--untranslated", "--only-fuzzy"):
        done = subprocess.run(  # noqa: S603 - gettext's tool on our file, found on PATH as `check` found it
            ["msgattrib", flag, "--no-wrap", str(catalogue)],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        )
        # The first block is the catalogue's header, which msgattrib always prints.
        entries += [block.strip() for block in done.stdout.split("\n\n")[1:] if block.strip()]
    return entries


def check() -> int:
    absent = [tool for tool in TOOLS if shutil.which(tool) is None]
    if absent:
        print(f"translations NOT checked: GNU gettext is not installed ({', '.join(absent)} missing)", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="psirt-messages-") as tmp:
        copy = Path(tmp) / "psirt"
        shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "tests", "static", "*.mo"))
        extract(copy)
        missing = missing_translations(copy / CATALOGUE)
    if not missing:
        print(f"translations: every string of the code has a {LOCALE} translation")
        return 0
    print(f"{len(missing)} string(s) of the code have no {LOCALE} translation in psirt/{CATALOGUE}:\n", file=sys.stderr)
    print("\n\n".join(missing), file=sys.stderr)
    print("\nRun `make messages`, translate them, and run it again to compile.", file=sys.stderr)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("extract", "check"))
    args = parser.parse_args()
    if args.action == "check":
        return check()
    extract(PACKAGE)
    subprocess.run([sys.executable, "-m", "django", "compilemessages"], cwd=PACKAGE, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
