"""Reading SBOMs: CycloneDX 1.4–1.6 JSON (validated with cyclonedx-python-lib's strict JSON schema) and SPDX 2.3
JSON (parsed and validated with spdx-tools). The answer is the list of component versions as package URLs
(packageurl-python normalises them); any problem raises `InvalidSbom` naming the place (JSON line and column, or
the JSON path of the offending element), before anything is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from cyclonedx.schema import SchemaVersion
from cyclonedx.schema._res import BOM_JSON_STRICT, CRYPTOGRAPHY_DEFS, JSF, SPDX_JSON
from django.utils.translation import gettext as _
from packageurl import PackageURL
from referencing import Registry
from referencing.jsonschema import DRAFT7

from psirt.components.exceptions import InvalidSbom, SbomTooLarge
from psirt.components.schemas import schema_errors

if TYPE_CHECKING:
    from jsonschema import Draft7Validator

# A firmware SBOM of a few thousand components is a few MB; 10 MB documents must work. Past this limit the
# upload is refused before it is parsed (the parsed form costs several times the bytes in memory).
MAX_SBOM_BYTES = 32 * 1024 * 1024
MAX_COMPONENTS = 100_000
MAX_PROBLEMS_SHOWN = 5

CYCLONEDX_VERSIONS = {"1.4": SchemaVersion.V1_4, "1.5": SchemaVersion.V1_5, "1.6": SchemaVersion.V1_6}


@dataclass(frozen=True, order=True)
class ComponentRef:
    """A component version named by its package URL parts (`version` never empty)."""

    purl_type: str
    namespace: str
    name: str
    version: str


@dataclass(frozen=True)
class ParsedSbom:
    format: str
    spec_version: str
    components: tuple[ComponentRef, ...]
    skipped: int


@lru_cache(maxsize=65536)
def normalise_purl(text: str) -> ComponentRef | None:
    """The parts of a package URL with a version, normalised by packageurl-python; None without a version.
    Raises ValueError for text that is not a package URL. Remembered: the releases of a product line list the
    same few thousand component versions again and again, and parsing one costs about 90 µs."""
    purl = PackageURL.from_string(text.strip())
    if not purl.version:
        return None
    return ref_for(purl.type, purl.namespace or "", purl.name, purl.version)


def ref_for(purl_type: str, namespace: str, name: str, version: str) -> ComponentRef:
    """Generic (C) packages are named by their lower-case name: upstream projects spell OpenSSL, openssl…"""
    purl_type = purl_type.lower()
    if purl_type == "generic":
        name = name.lower()
    return ComponentRef(purl_type[:32], namespace[:255], name[:255], version[:200])


def _decode(data: bytes) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise_invalid(_("The file is not UTF-8 text (byte %(pos)s).") % {"pos": exc.start})
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise_invalid(
            _("The file is not valid JSON: %(msg)s at line %(line)s, column %(col)s.")
            % {"msg": exc.msg, "line": exc.lineno, "col": exc.colno}
        )
    except RecursionError:
        raise_invalid(_("The file is nested too deeply to be an SBOM."))


def raise_invalid(message: str) -> NoReturn:
    raise InvalidSbom(message)


def parse_sbom(data: bytes) -> ParsedSbom:
    """Parse and validate an SBOM; raises InvalidSbom (or SbomTooLarge) with the first problems named."""
    if len(data) > MAX_SBOM_BYTES:
        raise SbomTooLarge(
            _("The SBOM is larger than %(mb)s MB; split it or remove unused fields.")
            % {"mb": MAX_SBOM_BYTES // (1024 * 1024)}
        )
    doc = _decode(data)
    if not isinstance(doc, dict):
        raise_invalid(_("The file is JSON but not an SBOM: its top level is not an object."))
    if doc.get("bomFormat") == "CycloneDX":
        return _parse_cyclonedx(doc)
    if "spdxVersion" in doc:
        return _parse_spdx(doc)
    raise_invalid(_('The file is neither CycloneDX JSON (no bomFormat "CycloneDX") nor SPDX JSON (no spdxVersion).'))


_SCHEMA_PREFIX = "http://cyclonedx.org/schema/"


def _referenced_schemas() -> list[tuple[str, Any]]:
    """The schemas the CycloneDX schemas refer to (SPDX licence IDs, cryptography, JSON signatures), by URI."""
    return [
        (_SCHEMA_PREFIX + Path(path).name, json.loads(Path(path).read_text(encoding="utf-8")))
        for path in (SPDX_JSON, CRYPTOGRAPHY_DEFS, JSF)
    ]


def _cyclonedx_schema(spec: str) -> Any:
    schema_file = BOM_JSON_STRICT[CYCLONEDX_VERSIONS[spec]]
    assert schema_file is not None  # 1.4–1.6 all ship a strict schema
    return without_unique_items(json.loads(Path(schema_file).read_text(encoding="utf-8")))


@lru_cache(maxsize=4)
def cyclonedx_validator(spec: str) -> Draft7Validator:
    """The strict JSON schema of CycloneDX `spec` as shipped by cyclonedx-python-lib, with its referenced
    schemas, built once. Unlike the library's JsonStrictValidator it does not check `format`s (draft 7 treats
    them as annotations): the library's IRI format check parses every URL with a full grammar and takes
    minutes for a 10 MB document, and psirt reads no URL from an SBOM. The reference: it names the problems of
    a document `cyclonedx_check` refused."""
    from jsonschema import Draft7Validator  # imported here: saves every psirt process its start-up time

    registry: Registry[Any] = Registry().with_resources(
        (uri, DRAFT7.create_resource(schema)) for uri, schema in _referenced_schemas()
    )
    return Draft7Validator(_cyclonedx_schema(spec), registry=registry)


@lru_cache(maxsize=4)
def cyclonedx_check(spec: str) -> Any:
    """The same schema compiled (jsonschema-rs, without format checks like the reference): about 50 µs for a
    300-component SBOM against 80 ms (`psirt.components.schemas`)."""
    import jsonschema_rs

    return jsonschema_rs.Draft7Validator(
        _cyclonedx_schema(spec), validate_formats=False, registry=jsonschema_rs.Registry(_referenced_schemas())
    )


def without_unique_items(node: Any) -> Any:
    """The schema without `uniqueItems`: jsonschema compares every pair of items (25,000 components are 300
    million deep comparisons); `duplicate_items` checks the same rule in linear time."""
    if isinstance(node, dict):
        return {k: without_unique_items(v) for k, v in node.items() if k != "uniqueItems"}
    if isinstance(node, list):
        return [without_unique_items(v) for v in node]
    return node


def duplicate_items(node: Any, path: str = "") -> str | None:
    """The JSON path of the first array item that repeats an earlier item of the same array, or None. Only
    objects and arrays are visited (a scalar holds no array)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                found = duplicate_items(value, f"{path}/{key}")
                if found:
                    return found
    elif isinstance(node, list):
        seen: set[str] = set()
        for index, item in enumerate(node):
            if isinstance(item, (dict, list)):
                canonical = json.dumps(item, sort_keys=True)
                if canonical in seen:
                    return f"{path}/{index}"
                seen.add(canonical)
                found = duplicate_items(item, f"{path}/{index}")
                if found:
                    return found
    return None


def _path(parts: Any) -> str:
    return "/" + "/".join(str(p) for p in parts)


def _parse_cyclonedx(doc: dict[str, Any]) -> ParsedSbom:
    spec = doc.get("specVersion")
    if spec not in CYCLONEDX_VERSIONS:
        raise_invalid(_("CycloneDX specVersion %(v)s is not supported; use 1.4, 1.5 or 1.6.") % {"v": str(spec)[:20]})
    errors = islice(schema_errors(cyclonedx_check(spec), cyclonedx_validator(spec), doc), MAX_PROBLEMS_SHOWN)
    problems = [f"{_path(e.absolute_path)}: {e.message[:200]}" for e in errors]
    if problems:
        raise_invalid(
            _("The CycloneDX %(v)s document does not follow its schema: %(problems)s")
            % {"v": spec, "problems": "; ".join(problems)}
        )
    duplicate = duplicate_items(doc)
    if duplicate:
        raise_invalid(_("%(path)s repeats an earlier item of the same list.") % {"path": duplicate})
    refs: list[ComponentRef] = []
    skipped = 0
    for path, component in _cyclonedx_components(doc):
        ref = _component_ref(component.get("purl"), component.get("name"), component.get("version"), path)
        if ref is None:
            skipped += 1
        else:
            refs.append(ref)
    return _result("cyclonedx", spec, refs, skipped)


def _cyclonedx_components(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    stack: list[tuple[str, Any]] = [("/components", doc.get("components") or [])]
    # metadata.component is the firmware itself, not a part of it: not listed.
    while stack:
        prefix, items = stack.pop()
        for index, item in enumerate(items):
            yield f"{prefix}/{index}", item
            if item.get("components"):
                stack.append((f"{prefix}/{index}/components", item["components"]))


def _component_ref(purl: Any, name: Any, version: Any, path: str) -> ComponentRef | None:
    if purl:
        try:
            return normalise_purl(str(purl))
        except ValueError as exc:
            raise_invalid(_("%(path)s: the package URL is invalid: %(err)s") % {"path": path, "err": str(exc)[:200]})
    if name and version:
        return ref_for("generic", "", str(name), str(version))
    return None


def _parse_spdx(doc: dict[str, Any]) -> ParsedSbom:
    # spdx-tools (and beartype under it) imported here: saves every psirt process their start-up time
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    spec = str(doc.get("spdxVersion"))
    if spec != "SPDX-2.3":
        raise_invalid(_("SPDX version %(v)s is not supported; use SPDX-2.3.") % {"v": spec[:20]})
    try:
        document = JsonLikeDictParser().parse(doc)
    except SPDXParsingError as exc:
        raise_invalid(
            _("The SPDX document cannot be read: %(problems)s")
            % {"problems": "; ".join(m[:200] for m in exc.get_messages()[:MAX_PROBLEMS_SHOWN])}
        )
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        raise_invalid(_("The SPDX document cannot be read: %(err)s") % {"err": str(exc)[:200]})
    messages = validate_full_spdx_document(document, "SPDX-2.3")
    if messages:
        raise_invalid(
            _("The SPDX document does not follow SPDX 2.3: %(problems)s")
            % {
                "problems": "; ".join(
                    f"{m.context.spdx_id or ''}: {m.validation_message[:200]}" for m in messages[:MAX_PROBLEMS_SHOWN]
                )
            }
        )
    refs: list[ComponentRef] = []
    skipped = 0
    for index, package in enumerate(document.packages):
        purl = next(
            (ref.locator for ref in package.external_references if ref.reference_type == "purl"),
            None,
        )
        ref = _component_ref(purl, package.name, package.version, f"/packages/{index}")
        if ref is None:
            skipped += 1
        else:
            refs.append(ref)
    return _result("spdx", "2.3", refs, skipped)


def _result(fmt: str, spec: str, refs: list[ComponentRef], skipped: int) -> ParsedSbom:
    if len(refs) > MAX_COMPONENTS:
        raise_invalid(_("The SBOM lists more than %(n)s components.") % {"n": MAX_COMPONENTS})
    return ParsedSbom(fmt, spec, tuple(sorted(set(refs))), skipped)
