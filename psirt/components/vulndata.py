"""Reading vulnerability data about third-party components: OSV JSON (validated against the OSV schema), CVE JSON 5
records (the `affected` list: package name or product, version ranges; CPEs are kept only as names) and upstream
CSAF 2.0 advisories (product tree package URLs with their product_status). Each record becomes one
`VulnRecord`: its ID, aliases and affected packages with OSV-style events, plus a hash of that normalised form so
importing the same data again changes nothing. Pure: no database."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs
from packageurl import PackageURL

from psirt.components.exceptions import InvalidVulnerabilityData
from psirt.components.sbom import ref_for
from psirt.components.schemas import schema_errors

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

MAX_RECORD_BYTES = 16 * 1024 * 1024

# OSV ecosystems and the package URL type of their packages (the OSV schema's ecosystems.json names them).
ECOSYSTEM_PURL_TYPES = {
    "pypi": "pypi",
    "npm": "npm",
    "maven": "maven",
    "go": "golang",
    "crates.io": "cargo",
    "debian": "deb",
    "ubuntu": "deb",
    "alpine": "apk",
    "nuget": "nuget",
    "rubygems": "gem",
    "packagist": "composer",
    "hex": "hex",
    "red hat": "rpm",
    "almalinux": "rpm",
    "rocky linux": "rpm",
    "conancenter": "conan",
}


@dataclass(frozen=True)
class PackageRanges:
    purl_type: str
    namespace: str
    name: str
    events: tuple[tuple[tuple[str, str], ...], ...] = ()
    versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class VulnRecord:
    vuln_id: str
    aliases: tuple[str, ...]
    summary: str
    source: str
    packages: tuple[PackageRanges, ...] = field(default=())

    @property
    def content_hash(self) -> str:
        body = json.dumps(
            [self.vuln_id, self.aliases, self.summary, self.source, [list_of(p) for p in self.packages]],
            sort_keys=True,
        )
        return hashlib.sha256(body.encode()).hexdigest()


def list_of(package: PackageRanges) -> list[Any]:
    return [package.purl_type, package.namespace, package.name, package.events, package.versions]


def _osv_schema() -> Any:
    return json.loads(files("psirt.components").joinpath("data/osv.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def osv_validator() -> Draft202012Validator:
    """The reference validator: slow (about a millisecond a record), used to name the problems of a record the
    compiled check refused."""
    from jsonschema import Draft202012Validator  # imported here: saves every psirt process its start-up time

    return Draft202012Validator(_osv_schema())


@lru_cache(maxsize=1)
def osv_check() -> Any:
    """The same schema compiled (jsonschema-rs, a few microseconds a record), without format checks like the
    reference validator: tens of thousands of records are checked in the time `json.load` reads them."""
    return jsonschema_rs.Draft202012Validator(_osv_schema(), validate_formats=False)


def osv_problems(doc: Any) -> list[str]:
    """The first problems of an OSV record against the schema, as "/json/path: message"; [] when it is valid.
    A record the compiled check passes is valid; one it refuses is checked again by the reference validator,
    which names the problems (and has the last word, so both agree on what is valid)."""
    errors = sorted(schema_errors(osv_check(), osv_validator(), doc), key=lambda e: list(e.absolute_path))[:3]
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:160]}" for e in errors]


def parse_records(doc: Any, *, origin: str) -> list[VulnRecord]:
    """The records in one JSON document (an OSV record or a list of them, a CVE JSON 5 record, a CSAF advisory);
    InvalidVulnerabilityData naming `origin` and the problem otherwise."""
    if isinstance(doc, list):
        return [record for item in doc for record in parse_records(item, origin=origin)]
    if not isinstance(doc, dict):
        raise InvalidVulnerabilityData(f"{origin}: not a JSON object")
    if doc.get("dataType") == "CVE_RECORD":
        return [_cve5(doc, origin)]
    if isinstance(doc.get("document"), dict) and "csaf_version" in doc["document"]:
        return _csaf(doc, origin)
    if "id" in doc and ("affected" in doc or "modified" in doc):
        return [_osv(doc, origin)]
    raise InvalidVulnerabilityData(f"{origin}: neither an OSV record, a CVE JSON 5 record nor a CSAF advisory")


def _osv(doc: dict[str, Any], origin: str) -> VulnRecord:
    problems = osv_problems(doc)
    if problems:
        raise InvalidVulnerabilityData(f"{origin}: not a valid OSV record: {'; '.join(problems)}")
    packages: list[PackageRanges] = []
    for affected in doc.get("affected") or []:
        package = affected.get("package") or {}
        ref = _package_ref(package)
        if ref is None:
            continue
        events: list[tuple[tuple[str, str], ...]] = []
        for rng in affected.get("ranges") or []:
            if rng.get("type") == "GIT":
                continue  # commit hashes say nothing about released versions
            events.extend(tuple((k, str(v)) for k, v in e.items()) for e in rng.get("events") or [])
        versions = tuple(str(v) for v in affected.get("versions") or [])
        if events or versions:
            packages.append(PackageRanges(ref[0], ref[1], ref[2], tuple(events), versions))
    return VulnRecord(
        vuln_id=doc["id"][:100],
        aliases=tuple(sorted({str(a)[:100] for a in doc.get("aliases") or []} - {doc["id"]})),
        summary=str(doc.get("summary") or doc.get("details") or "")[:500],
        source="osv",
        packages=tuple(packages),
    )


def _package_ref(package: dict[str, Any]) -> tuple[str, str, str] | None:
    purl = package.get("purl")
    if purl:
        try:
            parsed = PackageURL.from_string(purl)
        except ValueError:
            return None
        ref = ref_for(parsed.type, parsed.namespace or "", parsed.name, "-")
        return ref.purl_type, ref.namespace, ref.name
    name = str(package.get("name") or "")
    if not name:
        return None
    ecosystem = str(package.get("ecosystem") or "").split(":")[0].lower()
    purl_type = ECOSYSTEM_PURL_TYPES.get(ecosystem, "generic")
    namespace = ""
    if purl_type == "maven" and ":" in name:
        namespace, name = name.split(":", 1)
    elif purl_type in {"npm", "golang", "composer"} and "/" in name:
        namespace, name = name.rsplit("/", 1)
    ref = ref_for(purl_type, namespace, name, "-")
    return ref.purl_type, ref.namespace, ref.name


def _cve5(doc: dict[str, Any], origin: str) -> VulnRecord:
    meta = doc.get("cveMetadata") or {}
    cve_id = str(meta.get("cveId") or "")
    if not cve_id.upper().startswith("CVE-"):
        raise InvalidVulnerabilityData(f"{origin}: the CVE record has no cveMetadata.cveId")
    cna = (doc.get("containers") or {}).get("cna") or {}
    packages: list[PackageRanges] = []
    for affected in cna.get("affected") or []:
        if not isinstance(affected, dict):
            continue
        if affected.get("packageURL"):
            ref = _package_ref({"purl": affected["packageURL"]})
        else:
            ref = _package_ref({"name": affected.get("packageName") or affected.get("product") or ""})
        if ref is None:
            continue
        events: list[tuple[tuple[str, str], ...]] = []
        versions: list[str] = []
        default_affected = affected.get("defaultStatus") == "affected"
        for entry in affected.get("versions") or []:
            if not isinstance(entry, dict) or entry.get("status") != "affected":
                continue
            start = str(entry.get("version") or "0")
            start = "0" if start in {"*", "0", ""} else start
            if entry.get("lessThan"):
                end = str(entry["lessThan"])
                events += [(("introduced", start),), (("fixed", end),)] if end != "*" else [(("introduced", start),)]
            elif entry.get("lessThanOrEqual"):
                events += [(("introduced", start),), (("last_affected", str(entry["lessThanOrEqual"])),)]
            else:
                versions.append(start)
        if default_affected and not events and not versions:
            events.append((("introduced", "0"),))
        if events or versions:
            packages.append(PackageRanges(ref[0], ref[1], ref[2], tuple(events), tuple(versions)))
    descriptions = cna.get("descriptions") or [{}]
    return VulnRecord(
        vuln_id=cve_id.upper()[:100],
        aliases=(),
        summary=str(cna.get("title") or descriptions[0].get("value") or "")[:500],
        source="cve",
        packages=tuple(packages),
    )


def _csaf_purls(branch_or_tree: Any, found: dict[str, str]) -> None:
    for product in branch_or_tree.get("full_product_names") or []:
        _csaf_product(product, found)
    for branch in branch_or_tree.get("branches") or []:
        if isinstance(branch.get("product"), dict):
            _csaf_product(branch["product"], found)
        _csaf_purls(branch, found)


def _csaf_product(product: dict[str, Any], found: dict[str, str]) -> None:
    purl = (product.get("product_identification_helper") or {}).get("purl")
    if purl and product.get("product_id"):
        found[str(product["product_id"])] = str(purl)


def _csaf(doc: dict[str, Any], origin: str) -> list[VulnRecord]:
    """Upstream CSAF: each vulnerability with a CVE becomes a record whose explicit versions are the purls of
    its known_affected and first_affected/last_affected products (a CSAF product is one version)."""
    purls: dict[str, str] = {}
    _csaf_purls(doc.get("product_tree") or {}, purls)
    records: list[VulnRecord] = []
    for vuln in doc.get("vulnerabilities") or []:
        cve = str(vuln.get("cve") or "")
        if not cve:
            continue
        status = vuln.get("product_status") or {}
        grouped: dict[tuple[str, str, str], set[str]] = {}
        for key in ("known_affected", "first_affected", "last_affected"):
            for product_id in status.get(key) or []:
                purl = purls.get(str(product_id))
                if not purl:
                    continue
                try:
                    parsed = PackageURL.from_string(purl)
                except ValueError:
                    continue
                if parsed.version:
                    ref = ref_for(parsed.type, parsed.namespace or "", parsed.name, parsed.version)
                    grouped.setdefault((ref.purl_type, ref.namespace, ref.name), set()).add(ref.version)
        packages = tuple(PackageRanges(t, ns, n, (), tuple(sorted(v))) for (t, ns, n), v in sorted(grouped.items()))
        records.append(
            VulnRecord(
                vuln_id=cve.upper()[:100],
                aliases=(),
                summary=str(vuln.get("title") or (doc.get("document") or {}).get("title") or "")[:500],
                source="csaf",
                packages=packages,
            )
        )
    if not records:
        raise InvalidVulnerabilityData(f"{origin}: the CSAF advisory names no CVE")
    return records


def read_file(path: str | Path) -> list[VulnRecord]:
    """The records of one JSON file; InvalidVulnerabilityData naming the file for anything unreadable."""
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > MAX_RECORD_BYTES:
                raise InvalidVulnerabilityData(f"{path}: larger than {MAX_RECORD_BYTES // (1024 * 1024)} MB")
            data = handle.read()
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InvalidVulnerabilityData(f"{path}: not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InvalidVulnerabilityData(
            f"{path}: not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise InvalidVulnerabilityData(f"{path}: nested too deeply") from None
    except OSError as exc:
        raise InvalidVulnerabilityData(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_records(doc, origin=str(path))


def json_files(paths: list[str]) -> list[str]:
    """The files named, and the *.json files under the directories named, in a stable order (that of their path
    parts, as `sorted` orders paths). Plain strings: building and sorting `Path` objects cost more than reading the
    small files of an OSV dump does."""
    found: list[str] = []
    for name in paths:
        if os.path.isdir(name):
            found += sorted(_json_files_under(name), key=lambda p: p.split(os.sep))
        else:
            found.append(name)
    return found


def _json_files_under(folder: str) -> Iterator[str]:
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _json_files_under(entry.path)
            elif entry.name.endswith(".json") and entry.is_file():
                yield entry.path
