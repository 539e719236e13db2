"""`psirt validate-csaf FILE…`: the publication gate's validator on files (strict schema + every mandatory test).

Prints "FILE: OK" or each problem as "test path: message". Exit status 1 when a file is invalid, 2 when a file
cannot be read as JSON (the input, not the document, is wrong), 0 otherwise."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from psirt.formats.csaf_validate import Problem, validate_csaf

MAX_BYTES = 64 * 1024 * 1024  # the largest real CSAF documents are a few MB; beyond this it is not one

# Document content ends up in messages (property names, values): never let it drive the terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _safe(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class Unreadable(Exception):
    """The file is not a JSON document we can read; the message says why."""


def read_json(path: Path) -> Any:
    try:
        if not path.is_file():
            raise Unreadable("no such file" if not path.exists() else "not a regular file")
        if path.stat().st_size > MAX_BYTES:
            raise Unreadable(f"larger than {MAX_BYTES // (1024 * 1024)} MB, not a CSAF document")
        data = path.read_bytes()
    except OSError as exc:
        raise Unreadable(exc.strerror or str(exc)) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 text (byte {exc.start})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Unreadable(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise Unreadable("invalid JSON: nested too deeply") from exc


class Command(BaseCommand):
    help = (
        "Validate CSAF 2.0 files against the strict schema and every mandatory test. Prints OK or each problem "
        "(test number, JSON path, message); exit 1 if a file is invalid, 2 if a file cannot be read as JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="CSAF 2.0 JSON documents")
        parser.add_argument(
            "--warnings",
            action="store_true",
            help="also report the optional (6.2.x) and informative (6.3.x) tests; they never fail a file",
        )

    def _line(self, problem: Problem) -> str:
        prefix = "" if problem.severity == "error" else f"{problem.severity}: "
        return _safe(f"  {prefix}{problem.test} {problem.path}: {problem.message}")

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[str] = options["files"]
        unreadable = invalid = 0
        for name in files:
            shown = _safe(name)
            try:
                doc = read_json(Path(name))
            except Unreadable as exc:
                unreadable += 1
                self.stderr.write(f"{shown}: cannot read: {exc}")
                continue
            problems = validate_csaf(doc, warnings=options["warnings"])
            errors = [p for p in problems if p.severity == "error"]
            if errors:
                invalid += 1
                self.stdout.write(
                    self.style.ERROR(
                        f"{shown}: INVALID ({len(errors)} {'problem' if len(errors) == 1 else 'problems'})"
                    )
                )
            else:
                self.stdout.write(self.style.SUCCESS(f"{shown}: OK"))
            for problem in problems:
                self.stdout.write(self._line(problem))
        if unreadable:
            raise CommandError(f"{unreadable} of {len(files)} files could not be read as JSON", returncode=2)
        if invalid:
            raise CommandError(f"{invalid} of {len(files)} files are not valid CSAF 2.0", returncode=1)
