"""CVE JSON 5 records for the CVEs an advisory assigns, and their validation against cvelib's bundled schema.

`render_cve_record` gives the full record (what the advisory page offers for download);
`record["containers"]["cna"]` is what a CNA posts to CVE Services (`{"cnaContainer": …}`), checked by
`validate_cna_container`. Versions: single releases are listed one by one; a `vers` range becomes
`version`/`lessThan`(`OrEqual`) with `versionType: "custom"` (vendor firmware versions follow no public scheme).
Products with region variants or hardware revisions get one `affected` entry per variant and revision (the revision
in `platforms`), so that a status is never claimed for hardware it was not stated for.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from psirt.formats.csaf_validate import cwe_name
from psirt.formats.model import Acknowledgment, Advisory, Text, VersionRange, Vulnerability, index_products
from psirt.formats.text import label, rfc3339

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

DATA_VERSION = "5.1"
CHINESE = "zh-Hans"  # the schema's language pattern allows a script subtag; zh-Hans says simplified characters
_MAX_TEXT = 4096
_MAX_TITLE = 256
_MAX_NAME = 512
_SOLUTION_CATEGORIES = ("vendor_fix", "no_fix_planned", "none_available")
_WORKAROUND_CATEGORIES = ("workaround", "mitigation")

JSON = dict[str, Any]


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _texts(text: Text) -> list[JSON]:
    """English (required by the schema) and, when there is one, the Chinese text."""
    out = [{"lang": "en", "value": _clip(text.en, _MAX_TEXT)}]
    if text.zh.strip():
        out.append({"lang": CHINESE, "value": _clip(text.zh, _MAX_TEXT)})
    return out


def _unique(items: list[JSON]) -> list[JSON]:
    seen: set[str] = set()
    out = []
    for item in items:
        key = json.dumps(item, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _affected(advisory: Advisory, vuln: Vulnerability) -> list[JSON]:
    index = index_products(advisory.products)
    status = vuln.product_status
    statuses = [(pid, "affected") for pid in status.known_affected] + [
        (pid, "unaffected") for pid in status.first_fixed + status.fixed + status.known_not_affected
    ]
    groups: dict[tuple[str, str, str], JSON] = {}
    for pid, state in statuses:
        entry = index.get(pid)
        if entry is None:
            raise ValueError(f"product ID without a product: {pid!r}")
        product, version, revision = entry.product, entry.version, entry.hardware_revision or ""
        variant = version.variant if version is not None else ""
        key = (product.slug, variant, revision)
        if key not in groups:
            group: JSON = {
                "vendor": product.vendor,
                "product": product.name + (f" ({variant})" if variant else ""),
                "defaultStatus": "unknown",
                "versions": [],
            }
            if revision:
                group["platforms"] = [f"hardware revision {revision}"]
            groups[key] = group
        if version is None:  # a hardware revision as a whole
            groups[key]["defaultStatus"] = state
            continue
        if isinstance(version, VersionRange):
            lower, upper, inclusive = version.bounds
            item: JSON = {"version": lower or "0", "status": state, "versionType": "custom"}
            item["lessThanOrEqual" if inclusive else "lessThan"] = upper or "*"
        else:
            item = {"version": version.version, "status": state}
        groups[key]["versions"].append(item)
    out = []
    for group in groups.values():
        group["versions"] = _unique(group["versions"])
        if not group["versions"]:
            del group["versions"]
        out.append(group)
    return out


def _metrics(vuln: Vulnerability) -> list[JSON]:
    scenario = [{"lang": "en", "value": "GENERAL"}]
    out: list[JSON] = []
    if vuln.cvss_v3:
        out.append({"format": "CVSS", "scenarios": scenario, "cvssV3_1": vuln.cvss_v3.as_first_json()})
    if vuln.cvss_v4:
        v4 = vuln.cvss_v4
        out.append(
            {
                "format": "CVSS",
                "scenarios": scenario,
                "cvssV4_0": {
                    "version": "4.0",
                    "vectorString": v4.vector,
                    "baseScore": v4.score,
                    "baseSeverity": v4.severity,
                },
            }
        )
    return out


def _references(advisory: Advisory, vuln: Vulnerability) -> list[JSON]:
    refs: list[JSON] = [
        {"url": advisory.page_url, "name": _clip(advisory.title.en, _MAX_NAME), "tags": ["vendor-advisory"]},
        {"url": advisory.csaf_url, "name": f"CSAF {advisory.tracking_id}", "tags": ["vendor-advisory"]},
    ]
    for rem in vuln.remediations:
        if rem.url and rem.category == "vendor_fix":
            refs.append({"url": rem.url, "tags": ["patch"]})
    for ref in (*vuln.references, *advisory.references):
        item: JSON = {"url": ref.url}
        if ref.summary:
            item["name"] = _clip(ref.summary.en, _MAX_NAME)
        refs.append(item)
    seen: set[str] = set()
    out = []
    for item in refs:
        if item["url"] not in seen:
            seen.add(item["url"])
            out.append(item)
    return out


def _credits(acks: tuple[Acknowledgment, ...]) -> list[JSON]:
    out = []
    for ack in acks:
        org = ack.organization.strip()
        names = [n.strip() for n in ack.names if n.strip()]
        values = [f"{n} ({org})" if org else n for n in names] or ([org] if org else [])
        out += [{"lang": "en", "value": _clip(v, _MAX_TEXT), "type": "finder"} for v in values]
    return _unique(out)


def render_cve_record(
    advisory: Advisory, vulnerability: Vulnerability, *, cna_org_id: str, assigner_short_name: str
) -> JSON:
    """The CVE JSON 5 record (state PUBLISHED) of `vulnerability`, which must have a CVE ID."""
    vuln = vulnerability
    if not vuln.cve:
        raise ValueError("this vulnerability has no CVE ID")
    if vuln not in advisory.vulnerabilities:
        raise ValueError(f"{vuln.cve} is not a vulnerability of {advisory.tracking_id}")
    published = vuln.release_date or advisory.initial_release_date
    cna: JSON = {
        "providerMetadata": {
            "orgId": cna_org_id,
            "shortName": assigner_short_name,
            "dateUpdated": rfc3339(advisory.current_release_date),
        },
        "title": _clip(vuln.title.en, _MAX_TITLE),
        "datePublic": rfc3339(published),
        "descriptions": _texts(vuln.description),
        "affected": _affected(advisory, vuln),
        "references": _references(advisory, vuln),
        "x_generator": {"engine": "psirt"},
    }
    if vuln.cwe:
        name = vuln.cwe.name or cwe_name(vuln.cwe.id) or ""
        cna["problemTypes"] = [
            {
                "descriptions": [
                    {
                        "lang": "en",
                        "type": "CWE",
                        "cweId": vuln.cwe.id,
                        "description": _clip(f"{vuln.cwe.id} {name}".strip(), _MAX_TEXT),
                    }
                ]
            }
        ]
    if metrics := _metrics(vuln):
        cna["metrics"] = metrics
    solutions = [r for r in vuln.remediations if r.category in _SOLUTION_CATEGORIES]
    if solutions:
        cna["solutions"] = _unique([t for r in solutions for t in _texts(r.details)])
    workarounds = [r for r in vuln.remediations if r.category in _WORKAROUND_CATEGORIES]
    if workarounds:
        cna["workarounds"] = _unique([t for r in workarounds for t in _texts(r.details)])
    if vuln.exploitation.status != "none":
        key = f"exploit_{vuln.exploitation.status}"
        cna["exploits"] = _texts(Text(label(key, "en"), label(key, "zh")))
    if credits := _credits(vuln.acknowledgments or advisory.acknowledgments):
        cna["credits"] = credits
    return {
        "dataType": "CVE_RECORD",
        "dataVersion": DATA_VERSION,
        "cveMetadata": {
            "cveId": vuln.cve,
            "assignerOrgId": cna_org_id,
            "assignerShortName": assigner_short_name,
            "state": "PUBLISHED",
            "datePublished": rfc3339(published),
            "dateUpdated": rfc3339(advisory.current_release_date),
        },
        "containers": {"cna": cna},
    }


# --- validation ----------------------------------------------------------------------------------------------------

_SCHEMA_VERSION = re.compile(r"_(\d+)\.(\d+)\.(\d+)\.json$")


def _schema_file(kind: str) -> Any:
    """The newest `CVE_JSON_<kind>_X.Y.Z.json` cvelib bundles."""
    folder = resources.files("cvelib") / "schemas"
    candidates = []
    for entry in folder.iterdir():
        m = _SCHEMA_VERSION.search(entry.name)
        if entry.name.startswith(f"CVE_JSON_{kind}_") and m:
            candidates.append((tuple(int(g) for g in m.groups()), entry))
    if not candidates:
        raise RuntimeError(f"cvelib bundles no CVE_JSON_{kind} schema")
    return max(candidates, key=lambda c: c[0])[1]


@lru_cache(maxsize=4)
def _validator(kind: str) -> Any:
    import jsonschema  # imported here: saves every psirt process its start-up time

    schema = json.loads(_schema_file(kind).read_bytes())
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def schema_version() -> str:
    """The CVE Record Format version the records are checked against (e.g. "5.1.1")."""
    m = _SCHEMA_VERSION.search(_schema_file("bundled").name)
    return ".".join(m.groups()) if m else "?"


def _pointer(error: ValidationError) -> str:
    return "/" + "/".join(str(p) for p in error.absolute_path)


def _messages(errors: list[ValidationError], state: str | None = None) -> list[str]:
    out = []
    for error in errors:
        # The record schema is oneOf(Published, Rejected): report what is wrong against the branch the record
        # claims to be, not "is not valid under any of the given schemas".
        if error.validator == "oneOf" and not error.absolute_path and error.context:
            branch = 1 if state == "REJECTED" else 0
            out += _messages([e for e in error.context if e.schema_path and e.schema_path[0] == branch])
            continue
        out.append(f"{_pointer(error)}: {error.message}")
    return sorted(set(out))


def validate_cve_record(record: object) -> list[str]:
    """Problems of a full CVE JSON 5 record against cvelib's bundled schema ("<JSON pointer>: <message>")."""
    if not isinstance(record, dict):
        return [f"/: a CVE record is a JSON object, not {type(record).__name__}"]
    state = record.get("cveMetadata", {}).get("state") if isinstance(record.get("cveMetadata"), dict) else None
    return _messages(list(_validator("bundled").iter_errors(record)), state)


def validate_cna_container(container: object) -> list[str]:
    """Problems of a CNA container (what CVE Services accepts for a published CVE) against cvelib's schema."""
    if not isinstance(container, dict):
        return [f"/: a CNA container is a JSON object, not {type(container).__name__}"]
    return _messages(list(_validator("cnaPublishedContainer").iter_errors(container)))
