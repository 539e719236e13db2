"""From a valid CSAF document to the plan of what psirt keeps (no database): the advisory's fields (texts, scores,
CWE, identifiers, references, credits, exploitation), its revisions in psirt's order, and the products, versions,
statuses and vendor fixes the product tree and the vulnerabilities name."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from psirt.advisories.csaf.importer.base import (
    CONTROL_CHARS,
    JSON,
    Refused,
    fit_length,
    one_line,
    parse_date,
    plain_text,
)
from psirt.advisories.csaf.importer.tree import ProductTree, TreeTarget
from psirt.advisories.models import Advisory
from psirt.formats.text import LABELS
from psirt.lib.cvss import CvssError, decisive_rating, score_vector
from psirt.lib.cwe import lookup as lookup_cwe
from psirt.lib.references import InvalidReference, classify_identifier, normalise_advisory_url

IMPORTABLE = frozenset({"csaf_security_advisory", "csaf_vex"})
MAX_ID = Advisory._meta.get_field("advisory_id").max_length or 40
MAX_TITLE = 200
MAX_SUMMARY = 500
MAX_LIST = 50

_V4 = re.compile(r"CVSS:4\.0/[A-Za-z:/]+")
_STATUS_KEYS = ("known_affected", "first_fixed", "fixed", "known_not_affected")
_EXPLOIT_RANK = {"none": 0, "poc": 1, "active": 2}
_SEVERITY_WORDS = {
    "critical": "Critical",
    "high": "High",
    "important": "High",
    "medium": "Medium",
    "moderate": "Medium",
    "low": "Low",
    "none": "None",
}


@dataclass
class _ProductPlan:
    line: str
    name: str
    slug_hint: str = ""
    model_numbers: list[str] = field(default_factory=list)
    hardware: list[str] = field(default_factory=list)
    # (variant, version) in tree order, with a catalog-release UUID when the product ID carries one
    versions: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass
class ImportPlan:
    tracking_id: str
    version: str
    fields: dict[str, Any]
    revisions: list[tuple[datetime, str]]
    published_at: datetime
    revised_at: datetime
    products: dict[tuple[str, str], _ProductPlan]
    # (line, product, variant) → status sets of versions; "" in known_affected = the whole product
    statuses: dict[tuple[str, str, str], dict[str, list[str]]]
    # (line, product, variant) → (download URL, date) of the vendor fix
    fixes: dict[tuple[str, str, str], list[tuple[str, str, str]]]
    dropped: list[str]


def parse_history(tracking: JSON) -> list[tuple[datetime, str, str]]:
    """(date, number, summary) of each revision, in psirt's order: by date, then number (what test 6.1.14 checks)."""
    entries = [
        (parse_date(r["date"], "a revision date"), str(r["number"]), one_line(r.get("summary"), MAX_SUMMARY))
        for r in tracking["revision_history"]
    ]
    return sorted(entries, key=lambda r: (r[0], tuple(int(p) for p in re.findall(r"\d+", r[1]))))


def _label_values(key: str) -> set[str]:
    return set(LABELS[key].values())


def _exploitation(threats: list[JSON] | None) -> str:
    return _exploit_statuses(threats)[0]


def _exploit_statuses(threats: list[JSON] | None) -> tuple[str, list[datetime]]:
    """The most severe exploit status of `threats` and the dates its threats carry (the awareness time)."""
    best, dates = "none", list[datetime]()
    for threat in threats or []:
        if threat.get("category") != "exploit_status":
            continue
        details = plain_text(threat.get("details"))
        lowered = details.lower()
        if details in _label_values("exploit_active") or "actively exploited" in lowered or "in the wild" in lowered:
            status = "active"
        elif details in _label_values("exploit_poc") or "proof of concept" in lowered or "proof-of-concept" in lowered:
            status = "poc"
        else:
            status = "none"
        if _EXPLOIT_RANK[status] > _EXPLOIT_RANK[best]:
            best, dates = status, []
        if status == best and status != "none" and threat.get("date"):
            # An unreadable date loses only the awareness time; the status stands.
            with contextlib.suppress(Refused):
                dates.append(parse_date(threat["date"], "a threat date"))
    return best, dates


# (normalised vector, base score, decisive score: v3.1 temporal / v4.0 base + threat)
_Scored = tuple[str, Decimal, Decimal]


def _v3(score: JSON) -> _Scored | None:
    vector = str((score.get("cvss_v3") or {}).get("vectorString", ""))
    if vector.startswith("CVSS:3.0/"):
        vector = "CVSS:3.1/" + vector[len("CVSS:3.0/") :]
    try:
        result = score_vector(vector)
    except CvssError:
        return None
    if result.version != "3.1":
        return None
    return result.vector, Decimal(str(result.base)), Decimal(str(result.temporal))


def _v4_in(notes: list[JSON] | None) -> list[_Scored]:
    out = []
    for note in notes or []:
        for vector in _V4.findall(str(note.get("text", ""))):
            try:
                result = score_vector(vector.rstrip("/"))
            except CvssError:
                continue
            out.append((result.vector, Decimal(str(result.base)), Decimal(str(result.threat))))
    return out


def _credit(ack: JSON) -> str:
    parts = [str(n).strip() for n in ack.get("names") or [] if str(n).strip()]
    if str(ack.get("organization") or "").strip():
        parts.append(str(ack["organization"]).strip())
    if not parts and ack.get("summary"):
        parts.append(one_line(ack["summary"], 300))
    return one_line(", ".join(parts), 300)


def parse_notes(notes: list[JSON] | None) -> dict[str, str]:
    """Document notes → psirt's text fields: summary and description by category, impact and workarounds by the
    titles psirt writes (or "impact" / "workaround" / "mitigation" in a general note's title)."""
    out: dict[str, list[str]] = {"summary_en": [], "description_en": [], "impact_en": [], "workarounds_en": []}
    for note in notes or []:
        category, title, text = note.get("category"), plain_text(note.get("title")), plain_text(note.get("text"))
        if not text:
            continue
        lowered = title.lower()
        if category == "summary":
            out["summary_en"].append(text)
        elif category == "description":
            out["description_en"].append(text)
        elif category == "general" and (title in _label_values("impact") or "impact" in lowered):
            out["impact_en"].append(text)
        elif category == "general" and (
            title in _label_values("workarounds") or "workaround" in lowered or "mitigation" in lowered
        ):
            out["workarounds_en"].append(text)
    return {key: "\n\n".join(texts) for key, texts in out.items()}


def _identifiers(vulns: list[JSON]) -> str:
    out: list[str] = []
    for vuln in vulns:
        candidates = [vuln.get("cve")] + [i.get("text") for i in vuln.get("ids") or []]
        for candidate in candidates:
            if not candidate:
                continue
            try:
                _kind, canonical = classify_identifier(str(candidate))
            except InvalidReference:
                continue  # another ID system (a bug tracker, …): kept in the stored document only
            if canonical not in out:
                out.append(canonical)
    return "\n".join(out[:MAX_LIST])


def _references(doc: JSON, vulns: list[JSON]) -> str:
    refs = [r for r in doc.get("references") or [] if r.get("category") != "self"]
    refs += [r for v in vulns for r in v.get("references") or [] if r.get("category") != "self"]
    out: list[str] = []
    for ref in refs:
        try:
            url = normalise_advisory_url(str(ref.get("url", "")))
        except InvalidReference:
            continue
        if url not in out:
            out.append(url)
    return "\n".join(out[:MAX_LIST])


def parse(doc: JSON) -> ImportPlan:
    """What psirt keeps of a valid CSAF document (see the docstring of `psirt.advisories.csaf.importer`). Raises Refused
    for a document that is valid CSAF but cannot become a psirt advisory."""
    document = doc["document"]
    category = str(document.get("category", ""))
    if category not in IMPORTABLE:
        why = {
            "csaf_informational_advisory": "an informational advisory names no vulnerabilities",
            "csaf_base": "a csaf_base document has no profile psirt can map",
        }.get(category, f"the profile “{category[:60]}” is not one psirt can map (csaf_base rules only)")
        raise Refused(f"not imported: {why}; psirt imports csaf_security_advisory and csaf_vex documents")
    tracking = document["tracking"]
    tracking_id = str(tracking["id"])
    if len(tracking_id) > MAX_ID:
        raise Refused(f"tracking ID longer than {MAX_ID} characters; psirt's advisory IDs cannot hold it")
    if "/" in tracking_id or CONTROL_CHARS.search(tracking_id):
        raise Refused("tracking ID contains '/' or a control character; it cannot be an advisory address")
    if tracking.get("status") not in ("final", "interim"):
        raise Refused(f"document status is “{tracking.get('status')}”: only final or interim documents are published")
    vulns = [v for v in doc.get("vulnerabilities") or [] if isinstance(v, dict)]
    if not vulns:
        raise Refused("the document names no vulnerabilities; a psirt advisory is about at least one")

    dropped: list[str] = []
    fields: dict[str, Any] = {"title_en": one_line(document["title"], MAX_TITLE)}
    fields.update(parse_notes(document.get("notes")))
    if not fields["description_en"]:
        # No document-level description: the vulnerabilities' own descriptions, titled when there are several.
        # A text that only repeats the summary or the title (what psirt writes when it has no description) is not one.
        repeated = {fields["summary_en"], plain_text(document["title"]), ""}
        parts: list[str] = []
        for vuln in vulns:
            texts = [plain_text(n.get("text")) for n in vuln.get("notes") or [] if n.get("category") == "description"]
            texts = [t for t in texts if t not in repeated]
            if texts and len(vulns) > 1 and vuln.get("title"):
                texts = [f"{one_line(vuln['title'], 300)}\n\n" + "\n\n".join(texts)]
            parts += [t for t in texts if t not in parts]
        fields["description_en"] = "\n\n".join(parts)
    if not fields["workarounds_en"]:
        fields["workarounds_en"] = "\n\n".join(
            dict.fromkeys(
                plain_text(r.get("details"))
                for v in vulns
                for r in v.get("remediations") or []
                if r.get("category") in ("workaround", "mitigation") and plain_text(r.get("details"))
            )
        )

    # Of several vulnerabilities, the advisory keeps the most severe vector of each version by the score that
    # decides severity (v3.1 temporal, v4.0 base + threat), and its severity follows the one rule.
    best_v3: _Scored | None = None
    cwe_vuln: JSON | None = None
    for vuln in vulns:
        for score in vuln.get("scores") or []:
            found = _v3(score)
            if found and (best_v3 is None or found[2] > best_v3[2]):
                best_v3, cwe_vuln = found, vuln
    v4 = [found for v in vulns for found in _v4_in(v.get("notes"))]
    best_v4 = max(v4, key=lambda item: item[2]) if v4 else None
    fields["cvss31_vector"], fields["cvss31_base"] = best_v3[:2] if best_v3 else ("", None)
    fields["cvss40_vector"], fields["cvss40_base"] = best_v4[:2] if best_v4 else ("", None)
    rating = decisive_rating(fields["cvss31_vector"], fields["cvss40_vector"])
    fields["score"] = rating.score if rating else None
    fields["severity"] = rating.severity if rating else ""
    if not fields["severity"]:
        # Unscored: the publisher's own rating words (Red Hat's "Important", "Moderate") on FIRST's scale.
        text = str((document.get("aggregate_severity") or {}).get("text", "")).strip().lower()
        fields["severity"] = _SEVERITY_WORDS.get(text, "")
    cwe_source = [cwe_vuln] if cwe_vuln and cwe_vuln.get("cwe") else [v for v in vulns if v.get("cwe")]
    fields["cwe_id"] = None
    if cwe_source:
        cwe_entry = lookup_cwe(str(cwe_source[0]["cwe"].get("id", "")))
        fields["cwe_id"] = int(cwe_entry.id) if cwe_entry else None
        if cwe_entry is None:
            dropped.append(f"{cwe_source[0]['cwe'].get('id')} is not in psirt's CWE list")
    fields["exploitation"] = max(
        (_exploitation(v.get("threats")) for v in vulns), key=lambda s: _EXPLOIT_RANK[s], default="none"
    )
    # When the vendor became aware of that exploitation: the earliest date of a threat stating it.
    aware = [
        d for v in vulns for s, ds in [_exploit_statuses(v.get("threats"))] if s == fields["exploitation"] for d in ds
    ]
    fields["exploitation_aware_at"] = min(aware) if aware and fields["exploitation"] != "none" else None
    fields["identifiers"] = _identifiers(vulns)
    fields["reference_urls"] = _references(document, vulns)
    acks = list(document.get("acknowledgments") or []) + [a for v in vulns for a in v.get("acknowledgments") or []]
    fields["credits_en"] = "\n".join(dict.fromkeys(c for c in (_credit(a) for a in acks) if c))
    for key in ("summary_en", "description_en", "impact_en", "workarounds_en"):
        fields[key] = fields[key][:50_000]

    history = parse_history(tracking)
    revisions = [(date, summary or "(no summary)") for date, _number, summary in history]
    if len(revisions) > 1000:
        raise Refused("more than 1000 revisions; not a history psirt can hold")

    tree = ProductTree(doc.get("product_tree") or {}, one_line(document["publisher"]["name"], 200))
    products: dict[tuple[str, str], _ProductPlan] = {}

    def plan_for(target: TreeTarget) -> _ProductPlan:
        key = (fit_length(target.line, 200), fit_length(target.product, 200))
        plan = products.setdefault(key, _ProductPlan(line=key[0], name=key[1]))
        if target.slug_hint and not plan.slug_hint:
            plan.slug_hint = target.slug_hint
        return plan

    for leaf in tree.catalog_leaves():
        target = tree.target(leaf)
        plan = plan_for(target)
        plan.model_numbers += [m for m in leaf.model_numbers if m not in plan.model_numbers]
        if target.version and not target.is_range:
            plan.versions.setdefault(
                (fit_length(target.variant, 100), fit_length(target.version, 100)), target.release_hint
            )
    for hardware_name in tree.hardware_of:
        for leaf in tree.leaves:
            if leaf.product == hardware_name and leaf.version:
                plan = plan_for(TreeTarget(line=leaf.line, product=hardware_name))
                if leaf.version not in plan.hardware:
                    plan.hardware.append(leaf.version)

    statuses: dict[tuple[str, str, str], dict[str, list[str]]] = {}
    fixes: dict[tuple[str, str, str], list[tuple[str, str, str]]] = {}
    unresolved: set[str] = set()
    for vuln in vulns:
        status = vuln.get("product_status") or {}
        named = [(key, str(pid)) for key in _STATUS_KEYS for pid in status.get(key) or []]
        for rem in vuln.get("remediations") or []:
            # A vendor fix names the products it applies to (the affected ones); its URL and date are the fixed
            # release's download link and release date, as psirt writes them.
            if rem.get("category") != "vendor_fix" or not (rem.get("url") or rem.get("date")):
                continue
            for pid in rem.get("product_ids") or []:
                if (fixed_target := tree.resolve(str(pid))) is not None:
                    slot_key = (
                        fit_length(fixed_target.line, 200),
                        fit_length(fixed_target.product, 200),
                        fit_length(fixed_target.variant, 100),
                    )
                    candidate = (str(rem.get("url") or ""), str(rem.get("date") or ""), plain_text(rem.get("details")))
                    if candidate not in fixes.setdefault(slot_key, []):
                        fixes[slot_key].append(candidate)
        for key, pid in named:
            named_target = tree.resolve(pid)
            if named_target is None:
                unresolved.add(pid)
                continue
            plan = plan_for(named_target)
            version = fit_length(named_target.version, 100)
            variant = fit_length(named_target.variant, 100)
            if named_target.version and not named_target.is_range:
                plan.versions.setdefault((variant, version), named_target.release_hint)
            slot = statuses.setdefault((plan.line, plan.name, variant), {k: [] for k in _STATUS_KEYS})
            entry = f"range:{named_target.version}" if named_target.is_range else version
            if entry not in slot[key]:
                slot[key].append(entry)
    if unresolved:
        dropped.append(f"{len(unresolved)} product IDs name no product the tree describes")
    if sum(len(p.versions) for p in products.values()) > 10_000 or len(products) > 1000:
        raise Refused("the product tree is larger than psirt imports (1000 products, 10,000 versions)")

    return ImportPlan(
        tracking_id=tracking_id,
        version=str(tracking.get("version", "")),
        fields=fields,
        revisions=revisions,
        published_at=parse_date(tracking["initial_release_date"], "initial_release_date"),
        revised_at=parse_date(tracking["current_release_date"], "current_release_date"),
        products=products,
        statuses=statuses,
        fixes=fixes,
        dropped=dropped,
    )
