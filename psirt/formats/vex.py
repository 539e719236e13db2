"""VEX documents about one third-party vulnerability: CSAF 2.0 (`csaf_vex` profile), OpenVEX 0.2.0 and CycloneDX
1.6 VEX. Pure: frozen inputs in, JSON out; the caller validates (CSAF with `psirt.formats.csaf_validate`, OpenVEX
against its schema) before publishing anything."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psirt.formats.csaf import SOURCE_LANG, TRANSLATION_LANG
from psirt.formats.text import label

JSON = dict[str, Any]

# The five standard justifications share their meaning across the formats; CSAF calls them flags (some with
# other labels) and CycloneDX names them by its own words.
CSAF_FLAGS = {
    "component_not_present": "component_not_present",
    "vulnerable_code_not_present": "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path": "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary": "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist": "inline_mitigations_already_exist",
}
CYCLONEDX_JUSTIFICATIONS = {
    "component_not_present": "code_not_present",
    "vulnerable_code_not_present": "code_not_present",
    "vulnerable_code_not_in_execute_path": "code_not_reachable",
    "vulnerable_code_cannot_be_controlled_by_adversary": "protected_by_mitigating_control",
    "inline_mitigations_already_exist": "protected_at_runtime",
}
CYCLONEDX_STATES = {
    "not_affected": "not_affected",
    "affected": "exploitable",
    "fixed": "resolved",
    "under_investigation": "in_triage",
}
CSAF_STATUS = {
    "not_affected": "known_not_affected",
    "affected": "known_affected",
    "fixed": "fixed",
    "under_investigation": "under_investigation",
}


@dataclass(frozen=True)
class VexProduct:
    """One firmware release: `product_id` stable across revisions (e.g. "cam-x5:5.7.1")."""

    product_id: str
    vendor: str
    product_name: str
    version: str
    status: str
    justification: str = ""
    impact_statement: str = ""
    action_statement: str = ""
    purl: str = ""
    # Optional Simplified Chinese statements, for the zh-Hans translation of the CSAF document
    impact_statement_zh: str = ""
    action_statement_zh: str = ""

    def impact(self, lang: str) -> str:
        return self.impact_statement_zh if lang != SOURCE_LANG and self.impact_statement_zh else self.impact_statement

    def action(self, lang: str) -> str:
        return self.action_statement_zh if lang != SOURCE_LANG and self.action_statement_zh else self.action_statement


@dataclass(frozen=True)
class VexInput:
    vuln_id: str
    cve: str
    title: str
    publisher_name: str
    publisher_namespace: str
    document_id: str
    document_url: str
    revision_dates: tuple[datetime, ...]  # one per change of the decisions, oldest first
    products: tuple[VexProduct, ...]
    # Where the OpenVEX and CycloneDX documents are served: each names its own address (OpenVEX `@id`, a
    # CycloneDX serial number derived from it); empty: the CSAF document's URL stands in.
    openvex_url: str = ""
    cyclonedx_url: str = ""
    # Where the zh-Hans translation of the CSAF document is served (`psirt.formats.csaf.csaf_translation_url`)
    translation_url: str = ""

    @property
    def has_chinese(self) -> bool:
        """Whether a decision has a Chinese statement: then the CSAF document has a zh-Hans translation."""
        return any(p.impact_statement_zh or p.action_statement_zh for p in self.products)

    @property
    def revision(self) -> int:
        return len(self.revision_dates)

    @property
    def initial_release(self) -> datetime:
        return self.revision_dates[0]

    @property
    def current_release(self) -> datetime:
        return self.revision_dates[-1]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def csaf_vex_translation(data: VexInput) -> JSON | None:
    """The zh-Hans translation of the CSAF VEX document (same tracking ID, `lang` zh-Hans, `source_lang` en), or
    None when no decision has a Chinese statement. Statements without a Chinese version stay in English."""
    if not data.has_chinese:
        return None
    if not data.translation_url:
        raise ValueError("the decisions have Chinese statements but the input has no translation_url")
    return csaf_vex(data, TRANSLATION_LANG)


def csaf_vex(data: VexInput, lang: str = SOURCE_LANG) -> JSON:
    """The CSAF 2.0 `csaf_vex` document: one vulnerability, a product status for every release decided; in
    English, or its zh-Hans translation with `lang` (`csaf_vex_translation`)."""
    branches: dict[str, dict[str, list[JSON]]] = {}
    for p in data.products:
        branches.setdefault(p.vendor, {}).setdefault(p.product_name, []).append(
            {
                "category": "product_version",
                "name": p.version,
                "product": {
                    "product_id": p.product_id,
                    "name": f"{p.vendor} {p.product_name} {p.version}",
                    **({"product_identification_helper": {"purl": p.purl}} if p.purl else {}),
                },
            }
        )
    tree = {
        "branches": [
            {
                "category": "vendor",
                "name": vendor,
                "branches": [
                    {"category": "product_name", "name": name, "branches": versions}
                    for name, versions in sorted(products.items())
                ],
            }
            for vendor, products in sorted(branches.items())
        ]
    }
    status: dict[str, list[str]] = {}
    flags: dict[str, list[str]] = {}
    threats: list[JSON] = []
    remediations: list[JSON] = []
    for p in data.products:
        status.setdefault(CSAF_STATUS[p.status], []).append(p.product_id)
        if p.status == "not_affected":
            flags.setdefault(CSAF_FLAGS[p.justification], []).append(p.product_id)
            threats.append({"category": "impact", "details": p.impact(lang), "product_ids": [p.product_id]})
        elif p.status == "affected":
            remediations.append({"category": "mitigation", "details": p.action(lang), "product_ids": [p.product_id]})
    vulnerability: JSON = {
        "product_status": {k: sorted(v) for k, v in sorted(status.items())},
        "notes": [{"category": "summary", "text": data.title or data.vuln_id}],
    }
    if data.cve:
        vulnerability["cve"] = data.cve
    if data.vuln_id != data.cve:
        vulnerability["ids"] = [{"system_name": "psirt-import", "text": data.vuln_id}]
    if flags:
        vulnerability["flags"] = [{"label": label, "product_ids": sorted(ids)} for label, ids in sorted(flags.items())]
    if threats:
        vulnerability["threats"] = threats
    if remediations:
        vulnerability["remediations"] = remediations
    version = str(data.revision)
    translated = lang != SOURCE_LANG
    references = [{"category": "self", "summary": "This document", "url": data.document_url}]
    if translated:
        references = [
            {"category": "self", "summary": label("this_document", lang), "url": data.translation_url},
            {"category": "external", "summary": label("original_csaf", lang), "url": data.document_url},
        ]
    return {
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "distribution": {"tlp": {"label": "WHITE"}},
            "lang": lang,
            **({"source_lang": SOURCE_LANG} if translated else {}),
            "notes": [
                {
                    "category": "summary",
                    "title": label("vex_status", lang),
                    "text": label("vex_status_text", lang).format(vulnerability=data.cve or data.vuln_id),
                }
            ],
            "publisher": {
                "category": "vendor",
                "name": data.publisher_name,
                "namespace": data.publisher_namespace,
            },
            "references": references,
            "title": f"VEX: {data.cve or data.vuln_id} {data.title}".strip()[:400],
            "tracking": {
                "current_release_date": _iso(data.current_release),
                "id": data.document_id,
                "initial_release_date": _iso(data.initial_release),
                "revision_history": [
                    {"date": _iso(moment), "number": str(number), "summary": label("vex_revision", lang)}
                    for number, moment in enumerate(data.revision_dates, start=1)
                ],
                "status": "final",
                "version": version,
            },
        },
        "product_tree": tree,
        "vulnerabilities": [vulnerability],
    }


def openvex(data: VexInput) -> JSON:
    """OpenVEX 0.2.0: one statement per release."""
    statements: list[JSON] = []
    for p in data.products:
        statement: JSON = {
            "vulnerability": {"name": data.cve or data.vuln_id},
            "products": [{"@id": p.purl or f"{data.document_url}#{p.product_id}"}],
            "status": p.status,
        }
        if p.status == "not_affected":
            statement["justification"] = p.justification
            statement["impact_statement"] = p.impact_statement
        elif p.status == "affected":
            statement["action_statement"] = p.action_statement
        statements.append(statement)
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": data.openvex_url or data.document_url,
        "author": data.publisher_name,
        "timestamp": _iso(data.current_release),
        "version": data.revision,
        "statements": statements,
    }


def cyclonedx_vex(data: VexInput) -> JSON:
    """CycloneDX 1.6 VEX: the vulnerability with an analysis per affected release (`affects` by bom-ref)."""
    components = [
        {
            "type": "firmware",
            "bom-ref": p.product_id,
            "name": p.product_name,
            "version": p.version,
            "supplier": {"name": p.vendor},
            **({"purl": p.purl} if p.purl else {}),
        }
        for p in data.products
    ]
    vulnerabilities = []
    for p in data.products:
        analysis: JSON = {"state": CYCLONEDX_STATES[p.status]}
        if p.status == "not_affected":
            analysis["justification"] = CYCLONEDX_JUSTIFICATIONS[p.justification]
            analysis["detail"] = p.impact_statement
        elif p.status == "affected":
            analysis["response"] = ["update"]
            analysis["detail"] = p.action_statement
        vulnerabilities.append(
            {
                "bom-ref": f"{data.vuln_id}:{p.product_id}",
                "id": data.cve or data.vuln_id,
                "analysis": analysis,
                "affects": [{"ref": p.product_id}],
            }
        )
    # The serial number stays the same across versions of the document (CycloneDX: same BOM, higher version).
    serial = uuid.uuid5(uuid.NAMESPACE_URL, data.cyclonedx_url or data.document_url)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{serial}",
        "version": data.revision,
        "metadata": {"timestamp": _iso(data.current_release), "supplier": {"name": data.publisher_name}},
        "components": components,
        "vulnerabilities": vulnerabilities,
    }
