"""CSAF 2.0 documents (profile `csaf_security_advisory`) from a published advisory revision.

`render_csaf(advisory)` gives the English document, `render_csaf_translation(advisory)` the zh-Hans translation
(same tracking ID, `lang: zh-Hans`, `source_lang: en`) when the advisory has Chinese text. Both are plain dicts with
keys sorted at every level (CSAF optional test 6.2.13); `dumps_csaf` writes them the same way byte for byte every
time, so an unchanged revision gives an unchanged file (and hash, and signature).

Choices worth knowing:
* The product tree lists only products some vulnerability gives a status to (an unreferenced product ID says
  nothing and fails optional test 6.2.1); products with hardware revisions become firmware + hardware branches and an
  `installed_on` relationship per pair, and the statuses refer to the pairs.
* Region/operator variants are a `specification` branch between the product and its versions.
* Scores apply to the `known_affected` products (a score on a fixed product is optional test 6.2.19).
* The CVSS v4.0 vector goes in a vulnerability note: CSAF 2.0 has no field for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from psirt.formats.csaf_validate import cwe_name
from psirt.formats.model import (
    Acknowledgment,
    Advisory,
    AnyVersion,
    Product,
    ProductEntry,
    Reference,
    Remediation,
    Text,
    Version,
    VersionRange,
    Vulnerability,
    index_products,
    slug,
)
from psirt.formats.text import label, rfc3339

CSAF_VERSION = "2.0"
CATEGORY = "csaf_security_advisory"
TLP_LABEL = "WHITE"  # CSAF 2.0 uses TLP 1.0 labels (WHITE, GREEN, AMBER, RED); TLP 2.0's CLEAR is CSAF 2.1
TLP_URL = "https://www.first.org/tlp/"
GENERATOR = "psirt"
SOURCE_LANG = "en"
TRANSLATION_LANG = "zh-Hans"

_FILENAME_RUN = re.compile(r"[^+\-a-z0-9]+")

JSON = dict[str, Any]


def csaf_filename(tracking_id: str) -> str:
    """CSAF 2.0 section 5.1: lower-case, every run of characters outside ``[+\\-a-z0-9]`` → ``_``, then ``.json``."""
    return _FILENAME_RUN.sub("_", tracking_id.lower()) + ".json"


def csaf_document_url(base_url: str, tracking_id: str, initial_release_date: datetime, tlp: str = "white") -> str:
    """Where a provider (CSAF section 7.1.11) serves the document: ``<base>/<tlp>/<YYYY>/<filename>``, YYYY the
    year of the initial release. `base_url` is the folder holding provider-metadata.json's distributions, e.g.
    ``https://security.example.com/.well-known/csaf``."""
    return f"{base_url.rstrip('/')}/{tlp.lower()}/{initial_release_date.year:04d}/{csaf_filename(tracking_id)}"


def csaf_translation_url(base_url: str, tracking_id: str, initial_release_date: datetime, tlp: str = "white") -> str:
    """A suggested place for the zh-Hans translation: it has the same tracking ID, hence the same file name, so it
    cannot share the folder of the original. ``<base>/<tlp>/<YYYY>/zh-hans/<filename>``."""
    folder = f"{base_url.rstrip('/')}/{tlp.lower()}/{initial_release_date.year:04d}"
    return f"{folder}/{TRANSLATION_LANG.lower()}/{csaf_filename(tracking_id)}"


def dumps_csaf(doc: JSON) -> str:
    """Deterministic JSON: sorted keys, two-space indent, UTF-8 text (not \\u escapes), final newline.

    Exactly the text of `json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2, allow_nan=False)`: the
    standard library writes indented JSON with its pure-Python encoder, one generator per container; `_indented`
    writes the same text about twice as fast (strings go through the same C escaping), which counts when an export
    serialises a hundred thousand documents. A value it does not handle itself (a key that is not a string, an
    object that is not JSON, a cycle, a non-finite number) is left to `json.dumps`, so the result, or the error,
    is the standard library's."""
    try:
        parts: list[str] = []
        _indented(doc, "\n", parts.append)
        return "".join(parts) + "\n"
    except (TypeError, ValueError, RecursionError):
        return json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2, allow_nan=False) + "\n"


_encode_string = json.encoder.encode_basestring  # the C function json.dumps uses with ensure_ascii=False
_INFINITY = float("inf")


def _indented(value: Any, newline: str, out: Callable[[str], None]) -> None:
    """Append the indented JSON of `value` to `out`; `newline` is a newline and the indent of the current level.
    Raises TypeError or ValueError where `dumps_csaf` must hand over to `json.dumps`."""
    if isinstance(value, str):
        out(_encode_string(value))
    elif isinstance(value, dict):
        if not value:
            out("{}")
            return
        inner = newline + "  "
        opening = "{" + inner
        for key in sorted(value):
            if not isinstance(key, str):
                raise TypeError("a key that is not a string")
            out(opening + _encode_string(key) + ": ")
            opening = "," + inner
            _indented(value[key], inner, out)
        out(newline + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out("[]")
            return
        inner = newline + "  "
        opening = "[" + inner
        for item in value:
            out(opening)
            opening = "," + inner
            _indented(item, inner, out)
        out(newline + "]")
    elif value is True:
        out("true")
    elif value is False:
        out("false")
    elif value is None:
        out("null")
    elif isinstance(value, int):
        out(int.__repr__(value))
    elif isinstance(value, float):
        if value != value or value in (_INFINITY, -_INFINITY):
            raise ValueError("not a finite number")
        out(float.__repr__(value))
    else:
        raise TypeError(f"{type(value).__name__} is not JSON")


def render_csaf(advisory: Advisory) -> JSON:
    """The English CSAF 2.0 document of `advisory`. Raises ValueError when the advisory refers to a product ID its
    products do not define."""
    doc: JSON = _sorted(_render(advisory, SOURCE_LANG))
    return doc


def render_csaf_translation(advisory: Advisory) -> JSON | None:
    """The zh-Hans translation of the document, or None when the advisory has no Chinese title. Texts without a
    Chinese version stay in English."""
    if not advisory.has_chinese:
        return None
    if not advisory.csaf_translation_url:
        raise ValueError("the advisory has Chinese text but no csaf_translation_url (see csaf_translation_url())")
    doc: JSON = _sorted(_render(advisory, TRANSLATION_LANG))
    return doc


# --- document ------------------------------------------------------------------------------------------------------


def _render(advisory: Advisory, lang: str) -> JSON:
    index = index_products(advisory.products)
    referenced = _referenced_ids(advisory.vulnerabilities)
    unknown = [pid for pid in referenced if pid not in index]
    if unknown:
        raise ValueError(f"product IDs without a product: {unknown}")
    document: JSON = {
        "category": CATEGORY,
        "csaf_version": CSAF_VERSION,
        "distribution": {"tlp": {"label": TLP_LABEL, "url": TLP_URL}},
        "lang": lang,
        "notes": _document_notes(advisory, lang),
        "publisher": _publisher(advisory),
        "references": _document_references(advisory, lang),
        "title": advisory.title.get(lang),
        "tracking": _tracking(advisory, lang),
    }
    if lang != SOURCE_LANG:
        document["source_lang"] = SOURCE_LANG
    if advisory.severity:
        document["aggregate_severity"] = {"text": advisory.severity}
    if acks := _acknowledgments(advisory.acknowledgments, lang):
        document["acknowledgments"] = acks
    if not document["notes"]:
        del document["notes"]
    return {
        "document": document,
        "product_tree": _product_tree(advisory.products, index, referenced),
        "vulnerabilities": [_vulnerability(v, lang) for v in advisory.vulnerabilities],
    }


def _publisher(advisory: Advisory) -> JSON:
    publisher = advisory.publisher
    out: JSON = {"category": "vendor", "name": publisher.name, "namespace": publisher.namespace}
    if publisher.contact_details:
        out["contact_details"] = publisher.contact_details
    if publisher.issuing_authority:
        out["issuing_authority"] = publisher.issuing_authority
    return out


def _tracking(advisory: Advisory, lang: str) -> JSON:
    return {
        "current_release_date": rfc3339(advisory.current_release_date),
        # No generator date or version: either would change the bytes of an unchanged revision.
        "generator": {"engine": {"name": GENERATOR}},
        "id": advisory.tracking_id,
        "initial_release_date": rfc3339(advisory.initial_release_date),
        "revision_history": [
            {"date": rfc3339(r.date), "number": r.number, "summary": r.summary.get(lang)}
            for r in advisory.sorted_revisions
        ],
        "status": advisory.status,
        "version": advisory.version,
    }


def _note(category: str, text: Text, lang: str, title_key: str) -> JSON | None:
    if not text:
        return None
    return {"category": category, "text": text.get(lang), "title": label(title_key, lang)}


def _document_notes(advisory: Advisory, lang: str) -> list[JSON]:
    notes = [
        _note("summary", advisory.summary, lang, "summary"),
        _note("description", advisory.description, lang, "description"),
        _note("general", advisory.impact, lang, "impact"),
        _note("general", advisory.workarounds, lang, "workarounds"),
        _note("legal_disclaimer", advisory.legal_disclaimer, lang, "legal_disclaimer"),
    ]
    return [n for n in notes if n]


def _reference(ref: Reference, lang: str) -> JSON:
    return {"category": ref.category, "summary": ref.summary.get(lang) or ref.url, "url": ref.url}


def _document_references(advisory: Advisory, lang: str) -> list[JSON]:
    if lang == SOURCE_LANG:
        refs = [{"category": "self", "summary": label("canonical_csaf", lang), "url": advisory.csaf_url}]
    else:
        refs = [
            {"category": "self", "summary": label("canonical_csaf", lang), "url": advisory.csaf_translation_url},
            {"category": "external", "summary": label("original_csaf", lang), "url": advisory.csaf_url},
        ]
    refs.append({"category": "self", "summary": label("advisory_page", lang), "url": advisory.page_url})
    seen = {r["url"] for r in refs}
    for ref in advisory.references:
        if ref.url not in seen:
            seen.add(ref.url)
            refs.append(_reference(ref, lang))
    return refs


def _acknowledgments(acks: Iterable[Acknowledgment], lang: str) -> list[JSON]:
    out = []
    for ack in acks:
        item: JSON = {}
        if names := [n.strip() for n in ack.names if n.strip()]:
            item["names"] = names
        if ack.organization.strip():
            item["organization"] = ack.organization.strip()
        if ack.summary:
            item["summary"] = ack.summary.get(lang)
        if ack.urls:
            item["urls"] = list(ack.urls)
        out.append(item)
    return out


# --- product tree --------------------------------------------------------------------------------------------------


def _referenced_ids(vulnerabilities: Iterable[Vulnerability]) -> list[str]:
    seen: dict[str, None] = {}
    for vuln in vulnerabilities:
        for pid in vuln.product_status.all_ids():
            seen.setdefault(pid)
        for rem in vuln.remediations:
            for pid in rem.product_ids:
                seen.setdefault(pid)
    return list(seen)


def _helper(product: Product, version: AnyVersion | None = None) -> JSON | None:
    helper: JSON = {}
    if isinstance(version, Version):
        if version.cpe:
            helper["cpe"] = version.cpe
        if version.purl:
            helper["purl"] = version.purl
        if version.sha256:
            helper["hashes"] = [
                {
                    "file_hashes": [{"algorithm": "sha256", "value": version.sha256.lower()}],
                    "filename": version.file_name,
                }
            ]
    if product.model_numbers:
        helper["model_numbers"] = list(dict.fromkeys(product.model_numbers))
    return helper or None


def _full_product(name: str, pid: str, helper: JSON | None) -> JSON:
    out: JSON = {"name": name, "product_id": pid}
    if helper:
        out["product_identification_helper"] = helper
    return out


def _firmware_name(product: Product, version: AnyVersion) -> str:
    variant = f" ({version.variant})" if version.variant else ""
    firmware = " firmware" if product.hardware_revisions else ""
    return f"{product.vendor} {product.name}{variant}{firmware} {version.label}"


def _hardware_name(product: Product, revision: str) -> str:
    return f"{product.vendor} {product.name} hardware revision {revision}"


def _version_branches(product: Product, versions: list[AnyVersion]) -> list[JSON]:
    """Versions grouped by variant: the standard build's directly, each variant's under a `specification` branch."""
    by_variant: dict[str, list[JSON]] = {}
    for version in versions:
        branch = {
            "category": "product_version_range" if isinstance(version, VersionRange) else "product_version",
            "name": version.vers if isinstance(version, VersionRange) else version.version,
            "product": _full_product(
                _firmware_name(product, version), product.version_id(version), _helper(product, version)
            ),
        }
        by_variant.setdefault(version.variant, []).append(branch)
    out = list(by_variant.pop("", []))
    out += [{"branches": branches, "category": "specification", "name": name} for name, branches in by_variant.items()]
    return out


def _product_tree(products: tuple[Product, ...], index: dict[str, ProductEntry], referenced: list[str]) -> JSON:
    wanted = set(referenced)
    # A referenced firmware-on-hardware pair needs its two components.
    for pid in referenced:
        entry = index[pid]
        if entry.version is not None and entry.hardware_revision is not None:
            wanted.add(entry.product.version_id(entry.version))
            wanted.add(entry.product.hardware_id(entry.hardware_revision))

    vendors: dict[str, JSON] = {}
    families: dict[tuple[str, str], JSON] = {}
    relationships: list[JSON] = []
    for product in products:
        versions = [v for v in product.versions if product.version_id(v) in wanted]
        revisions = [r for r in product.hardware_revisions if product.hardware_id(r) in wanted]
        if not versions and not revisions:
            continue
        vendor = vendors.setdefault(product.vendor, {"branches": [], "category": "vendor", "name": product.vendor})
        parent = vendor
        if product.line:
            key = (product.vendor, product.line)
            if key not in families:
                families[key] = {"branches": [], "category": "product_family", "name": product.line}
                vendor["branches"].append(families[key])
            parent = families[key]
        if product.hardware_revisions:
            if versions:
                parent["branches"].append(
                    {
                        "branches": _version_branches(product, versions),
                        "category": "product_name",
                        "name": f"{product.name} firmware",
                    }
                )
            if revisions:
                parent["branches"].append(
                    {
                        "branches": [
                            {
                                "category": "product_version",
                                "name": revision,
                                "product": _full_product(
                                    _hardware_name(product, revision),
                                    product.hardware_id(revision),
                                    _helper(product),
                                ),
                            }
                            for revision in revisions
                        ],
                        "category": "product_name",
                        "name": product.name,
                    }
                )
            for version in versions:
                for revision in revisions:
                    pid = f"{product.version_id(version)}-on-hw-{slug(revision)}"
                    if pid not in wanted:
                        continue
                    relationships.append(
                        {
                            "category": "installed_on",
                            "full_product_name": _full_product(
                                f"{_firmware_name(product, version)} installed on {product.name} "
                                f"hardware revision {revision}",
                                pid,
                                _helper(product),
                            ),
                            "product_reference": product.version_id(version),
                            "relates_to_product_reference": product.hardware_id(revision),
                        }
                    )
        else:
            parent["branches"].append(
                {"branches": _version_branches(product, versions), "category": "product_name", "name": product.name}
            )
    tree: JSON = {"branches": list(vendors.values())}
    if relationships:
        tree["relationships"] = relationships
    return tree


# --- vulnerabilities -----------------------------------------------------------------------------------------------


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _vulnerability(vuln: Vulnerability, lang: str) -> JSON:
    notes = [
        {
            "category": "description",
            "text": vuln.description.get(lang),
            "title": label("vulnerability_description", lang),
        }
    ]
    if vuln.cvss_v4:
        notes.append(
            {
                "category": "other",
                "text": label("cvss_v4_text", lang).format(
                    vector=vuln.cvss_v4.vector, score=vuln.cvss_v4.score, severity=vuln.cvss_v4.severity
                ),
                "title": label("cvss_v4", lang),
            }
        )
    status = vuln.product_status
    product_status = {
        key: _unique(ids)
        for key, ids in (
            ("first_fixed", status.first_fixed),
            ("fixed", status.fixed),
            ("known_affected", status.known_affected),
            ("known_not_affected", status.known_not_affected),
        )
        if ids
    }
    out: JSON = {
        "notes": notes,
        "product_status": product_status,
        "threats": [_threat(vuln, lang)],
        "title": vuln.title.get(lang),
    }
    if vuln.cve:
        out["cve"] = vuln.cve
    if vuln.ids:
        out["ids"] = [{"system_name": i.system, "text": i.text} for i in vuln.ids]
    if vuln.cwe:
        out["cwe"] = {"id": vuln.cwe.id, "name": vuln.cwe.name or cwe_name(vuln.cwe.id) or vuln.cwe.id}
    if vuln.cvss_v3 and status.known_affected:
        out["scores"] = [{"cvss_v3": vuln.cvss_v3.as_first_json(), "products": _unique(status.known_affected)}]
    if vuln.remediations:
        out["remediations"] = [_remediation(r, lang) for r in vuln.remediations]
    if vuln.references:
        out["references"] = [_reference(r, lang) for r in vuln.references]
    if acks := _acknowledgments(vuln.acknowledgments, lang):
        out["acknowledgments"] = acks
    if vuln.discovery_date:
        out["discovery_date"] = rfc3339(vuln.discovery_date)
    if vuln.release_date:
        out["release_date"] = rfc3339(vuln.release_date)
    return out


def _threat(vuln: Vulnerability, lang: str) -> JSON:
    threat: JSON = {"category": "exploit_status", "details": label(f"exploit_{vuln.exploitation.status}", lang)}
    if vuln.exploitation.date:
        threat["date"] = rfc3339(vuln.exploitation.date)
    return threat


def _remediation(rem: Remediation, lang: str) -> JSON:
    out: JSON = {"category": rem.category, "details": rem.details.get(lang), "product_ids": _unique(rem.product_ids)}
    if rem.url:
        out["url"] = rem.url
    if rem.date:
        out["date"] = rfc3339(rem.date)
    return out


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value
