"""CSAF 2.0 validation: the `csaf` package (the TC editor's implementation, pinned) plus the strict schema.

`validate_csaf(doc)` is the publication gate: the CSAF 2.0 JSON schema made strict (every object
`additionalProperties: false`, what the OASIS TC runs and what test 6.2.20 asks for) and every mandatory test
(6.1.x). With ``warnings=True`` it also reports the optional (6.2.x, warnings) and informative (6.3.x, notes) tests:
the `csaf` package's preset ``full``. Nothing here touches the network: the URL tests 6.3.6/6.3.7 are skipped (and
the package only checks URLs with a checker installed, which we never do); references resolve against the schemas
bundled in the package.

`run_csaf_test(doc, "6.1.9")` runs one named test, as the OASIS corpus is meant to be used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from typing import Any, Literal

from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

# The csaf package (and jsonschema, which it loads) is imported inside the functions that validate: imported here,
# it would cost every psirt process its import time at start-up, most of which never validate a CSAF document.

Severity = Literal["error", "warning", "info"]

# Tests that need the network (6.3.6, 6.3.7: do the URLs resolve?) or a dictionary (6.3.8 spell check); never run.
OFFLINE_SKIPPED: frozenset[str] = frozenset({"6.3.6", "6.3.7", "6.3.8"})
# The package's 6.2.20 checks a few objects only; the strict schema checks every object. We report both under 6.2.20
# and treat it as blocking because the house rule is "strict schema".
STRICT_TEST = "6.2.20"
# The corpus splits 6.1.27 into sub-tests 6.1.27.1 … 6.1.27.11; the package implements them as one rule.
_SPLIT_TESTS = {"6.1.27"}


@dataclass(frozen=True, order=True)
class Problem:
    """One finding: the CSAF test number ("schema" for the JSON schema), a JSON pointer, what is wrong."""

    test: str
    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.test} {self.path}: {self.message}"


def cwe_name(cwe_id: str) -> str | None:
    """The current name of a CWE in the catalog the validator checks against (test 6.1.11), or None."""
    if not cwe_id.startswith("CWE-"):
        return None
    from csaf.csaf.v20.rules._shared import _cwe_name_latest

    name = _cwe_name_latest(cwe_id[4:])
    return None if name is None else str(name)


# --- strict schema ---------------------------------------------------------------------------------------------------


def _strictify(node: Any) -> Any:
    """The schema with `additionalProperties: false` on every object schema that lists properties and does not say
    otherwise (how the TC derives its strict schemas; the CSAF 2.0 schema has no allOf/anyOf that this would
    break — its one oneOf chooses between whole CVSS schemas)."""
    if isinstance(node, dict):
        out = {key: _strictify(value) for key, value in node.items()}
        if "properties" in out and "additionalProperties" not in out and "patternProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strictify(item) for item in node]
    return node


def _schema_dir() -> Traversable:
    return resources.files("csaf.csaf.v20") / "schema"


def _load(path: Traversable) -> dict[str, Any]:
    return dict(json.loads(path.read_bytes()))


def _resource(schema: dict[str, Any]) -> Resource[Any]:
    try:
        return Resource.from_contents(schema)
    except Exception:  # draft-04 CVSS schemas declare their dialect with "id"
        return Resource.from_contents(schema, default_specification=DRAFT4)


@lru_cache(maxsize=1)
def _strict_validator() -> Any:
    main = _strictify(_load(_schema_dir() / "csaf.json"))
    registry: Registry[Any] = Registry()
    for name in ("cvss-v2.0.json", "cvss-v3.0.json", "cvss-v3.1.json"):
        schema = _strictify(_load(_schema_dir() / "referenced" / name))
        uri = str(schema.get("$id") or schema.get("id")).split("?")[0]
        registry = registry.with_resource(uri, _resource(schema))
    from csaf import _jsonschema

    return _jsonschema.validator(main, registry=registry.crawl())


def _pointer(parts: Iterable[object]) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _additional_property_errors(errors: list[Any]) -> Iterator[Any]:
    """The additionalProperties errors, also those inside a oneOf/anyOf (cvss_v3 is oneOf v3.0/v3.1): from the branch
    that fails least, i.e. the one the document meant."""
    for error in errors:
        if error.validator == "additionalProperties":
            yield error
        elif error.validator in ("oneOf", "anyOf") and error.context:
            branches: dict[Any, list[Any]] = {}
            for sub in error.context:
                branches.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
            yield from _additional_property_errors(min(branches.values(), key=len))


def _strict_problems(doc: dict[str, Any]) -> list[Problem]:
    """Only what the strict schema adds to the ordinary one: additional properties, one problem per property."""
    problems = []
    for error in _additional_property_errors(list(_strict_validator().iter_errors(doc))):
        if not isinstance(error.instance, dict):
            continue
        allowed = set(error.schema.get("properties", {}))
        for key in sorted(set(error.instance) - allowed):
            problems.append(
                Problem(
                    STRICT_TEST,
                    _pointer([*error.absolute_path, key]),
                    f"'{key}' is not a property the CSAF 2.0 schema defines here",
                )
            )
    return problems


# --- running the package -------------------------------------------------------------------------------------------


def _severity(group: str, test: str) -> Severity:
    if group in ("schema", "mandatory") or test == STRICT_TEST:
        return "error"
    return "warning" if group == "recommended" else "info"


def _shape_problem(doc: object) -> list[Problem]:
    if not isinstance(doc, dict):
        return [Problem("schema", "/", f"a CSAF document is a JSON object, not {type(doc).__name__}")]
    return []


def _merge(problems: list[Problem], extra: list[Problem]) -> list[Problem]:
    seen = {(p.test, p.path) for p in problems}
    return problems + [p for p in extra if (p.test, p.path) not in seen]


def validate_csaf(doc: Any, *, warnings: bool = False) -> list[Problem]:
    """Problems of a CSAF 2.0 document: strict schema + all mandatory tests (errors); with `warnings`, the optional
    and informative tests too. An empty list (of errors) means the document may be published."""
    from csaf.csaf.v20 import validate

    if shape := _shape_problem(doc):
        return shape
    try:
        report = validate(doc, preset="full" if warnings else "mandatory", skip_rules=OFFLINE_SKIPPED)
        strict = _strict_problems(doc)
    except RecursionError:
        return [Problem("schema", "/", "the document is nested too deeply to be a CSAF document")]
    problems: list[Problem] = []
    for result in report.results:
        if result.skipped or result.passed:
            continue
        severity = _severity(result.group, result.id)
        findings = result.errors + result.warnings + result.infos
        if not findings:
            problems.append(Problem(result.id, "/", result.title, severity))
        problems += [Problem(result.id, f.instance_path, f.message, severity) for f in findings]
    return _merge(problems, strict)


def run_csaf_test(doc: Any, test: str) -> list[Problem]:
    """Run one test by its number ("schema", "6.1.9", "6.1.27.3", "6.2.20", …): its problems, empty if it passes.
    6.1.27.N runs the package's 6.1.27, which implements all sub-tests together. Raises ValueError for a test the
    package does not know or that cannot run offline."""
    if test in OFFLINE_SKIPPED:
        raise ValueError(f"test {test} cannot run offline")
    rule = test
    if test.count(".") == 3 and test.rsplit(".", 1)[0] in _SPLIT_TESTS:
        rule = test.rsplit(".", 1)[0]
    from csaf.csaf.v20 import validate

    if shape := _shape_problem(doc):
        return shape
    try:
        report = validate(doc, preset="full", only_rules=frozenset({rule}))
    except RecursionError:
        return [Problem(test, "/", "the document is nested too deeply to be a CSAF document")]
    results = [r for r in report.results if r.id == rule]
    if not results:
        raise ValueError(f"unknown CSAF 2.0 test {test!r}")
    result = results[0]
    problems = []
    if not result.passed and not result.skipped:
        severity = _severity(result.group, result.id)
        findings = result.errors + result.warnings + result.infos
        problems = [Problem(test, f.instance_path, f.message, severity) for f in findings] or [
            Problem(test, "/", result.title, severity)
        ]
    if rule == STRICT_TEST:
        problems = _merge(problems, _strict_problems(doc))
    return problems


def is_publishable(problems: list[Problem]) -> bool:
    return not any(p.severity == "error" for p in problems)
