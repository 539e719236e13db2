"""The import's entry points: `import_paths` for files and directories (the `psirt import-csaf` command) and
`import_csaf` for one parsed document, which validates it and hands it to the writer or the translation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.db import DatabaseError, IntegrityError
from django.http import HttpRequest

from psirt.accounts.models import User
from psirt.advisories.csaf.importer.base import ImportResult, Refused
from psirt.advisories.csaf.importer.files import MAX_BYTES, iter_files, read_document, unstorable_reason
from psirt.advisories.csaf.importer.parse import parse
from psirt.advisories.csaf.importer.translation import is_translation, write_translation
from psirt.advisories.csaf.importer.write import sync_tree, write_plan
from psirt.formats.csaf_validate import validate_csaf


def import_paths(
    *,
    paths: Sequence[str | Path],
    actor: User | None = None,
    request: HttpRequest | None = None,
    max_bytes: int = MAX_BYTES,
    write_tree: bool = True,
) -> list[ImportResult]:
    """Import every CSAF file named (or found under a named directory); one result per file, in order. Each document
    is imported in its own transaction, so one refused file does not undo the others. The CSAF provider tree is
    brought up to date once at the end (`write_tree`)."""
    results = []
    for path, named, problem in iter_files(paths):
        source = str(path)
        if problem:
            results.append(ImportResult(source, "refused", messages=(problem,)))
            continue
        try:
            document = read_document(path, max_bytes=max_bytes, follow_symlinks=named)
        except Refused as exc:
            results.append(ImportResult(source, "refused", messages=exc.messages))
            continue
        results.append(import_csaf(document=document, actor=actor, request=request, source=source, write_tree=False))
    if write_tree and any(r.outcome in ("imported", "updated") for r in results):
        sync_tree()
    return results


def import_csaf(
    *,
    document: Any,
    actor: User | None = None,
    request: HttpRequest | None = None,
    source: str = "",
    write_tree: bool = True,
) -> ImportResult:
    """Import one CSAF 2.0 document (a parsed JSON value) as a published advisory: validated first (strict schema
    and mandatory tests; refused with each problem's test number and JSON path, nothing written), then written in
    one transaction with its audit record. Same document again: "unchanged"; a newer version of an imported
    advisory: "updated" with its new revisions. With `write_tree`, the CSAF provider tree gets the advisory's
    documents after the commit (a batch passes False and calls `sync_tree` once)."""
    name = source or "document"
    if (where := unstorable_reason(document)) is not None:
        return ImportResult(
            name,
            "refused",
            messages=(f"{where[:200]}: a NUL character, a lone surrogate or a non-finite number cannot be stored",),
        )
    problems = [p for p in validate_csaf(document) if p.severity == "error"]
    if problems:
        shown_problems = tuple(str(p)[:300] for p in problems[:20])
        more = (f"… and {len(problems) - 20} more problems",) if len(problems) > 20 else ()
        return ImportResult(name, "refused", messages=("invalid CSAF 2.0", *shown_problems, *more))
    try:
        if is_translation(document):
            return write_translation(document, actor=actor, request=request, source=name, write_tree=write_tree)
        plan = parse(document)
        return write_plan(plan, document, actor=actor, request=request, source=name, write_tree=write_tree)
    except Refused as exc:
        return ImportResult(name, "refused", messages=exc.messages)
    except IntegrityError:  # e.g. the same tracking ID imported by two processes at once; rolled back
        return ImportResult(name, "refused", messages=("conflicts with a concurrent change; import it again",))
    except DatabaseError as exc:  # the transaction is rolled back: nothing of the document is written
        return ImportResult(name, "refused", messages=(f"cannot be stored: {type(exc).__name__}",))
    except (KeyError, TypeError, ValueError) as exc:  # a valid document of a shape this code did not foresee
        return ImportResult(name, "refused", messages=(f"cannot map this document: {type(exc).__name__}: {exc}"[:300],))
