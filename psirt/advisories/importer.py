"""CSAF 2.0 import (SPEC O5): existing advisories become published psirt advisories, so a vendor can move its old
pages over (`psirt import-csaf FILE_OR_DIR…`).

What is kept, and where:
* The whole document is stored on the advisory (`Advisory.source_csaf`). `imported_document` says when psirt
  should serve it as the advisory's CSAF: until the advisory is revised or withdrawn in psirt, and only when its
  publisher is this organization (a trusted provider's documents name the provider's publisher). A foreign
  document can say more than our rows hold (several vulnerabilities with their own scores, branch categories we do
  not model, notes of other kinds, other ID systems); nothing of it is lost.
* The rows hold what psirt shows and searches: title, the summary / description / impact / workaround notes (the
  vulnerabilities' descriptions when the document has none), the highest CVSS v3.x score of the vulnerabilities
  (v3.0 vectors are read as v3.1: same metrics), the highest CVSS v4.0 vector found in a vulnerability note (where
  CSAF 2.0 writers, psirt included, put it), the CWE of the highest-scored vulnerability, CVE / CNVD / CNNVD IDs,
  external references ("self" ones are the old document's own addresses), acknowledgments (one credit line each),
  the strongest exploitation status of the threats, and the revision history (renumbered 1, 2, … in date order as
  psirt sorts it; the original numbers stay in the document). Unscored documents keep their rating word
  (Red Hat's "Important" → High).
* Products: one product line per product family (the vendor's name when the tree has no family), reused by its
  English name; one product per `product_name` branch, reused by name within the line; one firmware release per
  `product_version`, in the order the tree lists them (numbered 10, 20, … after the releases a reused product
  already has). A `specification` branch is a region/operator variant (what psirt writes); other branch categories
  (architecture, …) are not modelled. The affected table gets one row per product and variant: from the first
  `known_affected` release up to the first `first_fixed` / `fixed` release after them; a product with only fixed
  releases is affected before the first of them; a product named without versions is affected as a whole. A
  `vers` range gives its bounds (created as releases when missing, the lower one just before the upper one). A
  vendor fix's URL and date become the fixed release's download link and release date. Relationships are followed:
  a component of a platform (`default_component_of`) is a release of the platform product; firmware `installed_on`
  hardware whose product name is the firmware's without " firmware" is one product with those hardware revisions
  (psirt's own shape). Product IDs psirt wrote (`CSAFPID-<slug>-…`) give back the product slug and release UUID, so
  a round trip keeps the IDs consumers know.
* The advisory keeps its tracking ID as advisory ID (old links and CSAF consumers still match). An ID of psirt's
  own shape `<PREFIX>-SA-<YYYY>-<NNN>` takes that year and number when free, and the year's sequence moves past it
  so psirt's next own number never collides; any other ID takes the next number of its year.
* A translation document (`source_lang` set; zh-Hans, as psirt writes them) fills the Chinese texts of an advisory
  imported from its original.
* Subscribers are not notified: an imported advisory is old news moved over, not a publication. The CSAF provider
  tree is updated after the commit (once per batch from the command).

Profiles: `csaf_security_advisory` and `csaf_vex` (both are vulnerabilities with product statuses). A
`csaf_informational_advisory` has no vulnerabilities and `csaf_base` no rules to map, so they are refused with a
message saying so.

Every document is validated first (strict schema + mandatory tests) and imported in one transaction with its audit
record; re-importing the same document changes nothing ("unchanged"), a newer version (later
current_release_date) updates the advisory and adds the new revisions; a changed document under the same version,
an older version, or an advisory written or revised in psirt is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils.text import slugify

from psirt.advisories.models import Advisory, AdvisorySequence, AdvisoryState, AffectedProduct, Revision
from psirt.audit.services import record
from psirt.catalog.models import (
    MAX_POSITION,
    FirmwareRelease,
    Product,
    ProductLine,
    validate_http_url,
    validate_release_date,
)
from psirt.formats import model as fm
from psirt.formats._text import LABELS
from psirt.formats.csaf_validate import validate_csaf
from psirt.lib.cvss import CvssError, score_vector, severity_for
from psirt.lib.cwe import lookup as lookup_cwe
from psirt.lib.references import InvalidReference, classify_identifier, normalise_advisory_url
from psirt.lib.sequences import next_in_year

logger = logging.getLogger(__name__)

# The largest real CSAF documents (distribution kernels) are tens of MB; beyond this it is not an advisory.
MAX_BYTES = 64 * 1024 * 1024
# A directory walk stops here: a mistyped path (/) must not read a whole disk.
MAX_FILES = 20_000
IMPORTABLE = frozenset({"csaf_security_advisory", "csaf_vex"})
MAX_ID = Advisory._meta.get_field("advisory_id").max_length or 40
MAX_TITLE = 200
# New releases are numbered 10, 20, 30, … so a release named later (a range bound) can go between two of them.
POSITION_STEP = 10
MAX_SUMMARY = 500
MAX_LIST = 50

Outcome = Literal["imported", "updated", "unchanged", "refused"]
JSON = dict[str, Any]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_UNSTORABLE_CHAR = re.compile("[\x00\ud800-\udfff]")
_OWN_ID = re.compile(r"^(?P<prefix>[A-Za-z0-9]+)-SA-(?P<year>\d{4})-(?P<number>\d{3,9})$")
_V4 = re.compile(r"CVSS:4\.0/[A-Za-z:/]+")
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_UUID_TAIL = re.compile(rf"^CSAFPID-(?P<slug>[a-z0-9.+-]+)-(?P<uuid>{_UUID})$")
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


def shown(text: str) -> str:
    """`text` safe for a terminal or a log line: file names and document content never drive the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@dataclass(frozen=True)
class ImportResult:
    """What happened to one file or document: imported, updated, unchanged or refused (with the reasons)."""

    source: str
    outcome: Outcome
    advisory_id: str = ""
    messages: tuple[str, ...] = ()

    @property
    def line(self) -> str:
        head = f"{shown(self.source)}: {self.outcome}"
        if self.advisory_id:
            head += f" {shown(self.advisory_id)}"
        if self.messages:
            head += " — " + "; ".join(shown(m) for m in self.messages)
        return head


class Refused(Exception):
    """The document is not imported; `messages` say why, each one a person can act on."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = tuple(messages)


# --- reading files -------------------------------------------------------------------------------------------------


def read_document(path: Path, *, max_bytes: int = MAX_BYTES, follow_symlinks: bool = True) -> Any:
    """The JSON value in `path`. Refused for anything but a regular file of at most `max_bytes` of UTF-8 JSON; a
    symbolic link is refused too unless `follow_symlinks` (the operator named it). The size and type are checked on
    the opened file, so a file swapped between the check and the read is still caught."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0))
    try:
        if not follow_symlinks and path.is_symlink():
            raise Refused("a symbolic link inside a directory is not followed")
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise Refused("no such file") from None
    except OSError as exc:
        raise Refused(f"cannot open: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Refused("not a regular file")
        if info.st_size > max_bytes:
            raise Refused(f"larger than {max_bytes // (1024 * 1024) or 1} MB, too large for a CSAF document")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Refused(f"larger than {max_bytes // (1024 * 1024) or 1} MB, too large for a CSAF document")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refused(f"not UTF-8 text (byte {exc.start}); CSAF documents are UTF-8") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise Refused(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except _NotJson as exc:
        raise Refused(f"not JSON: {exc}") from None
    except RecursionError:
        raise Refused("not JSON we can read: nested too deeply") from None


class _NotJson(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def _unstorable(value: Any, path: str = "", depth: int = 0) -> str | None:
    """The JSON path of the first value no database column can store as given: a NUL character or a lone surrogate
    in a string (PostgreSQL's text and jsonb refuse them, UTF-8 cannot encode a surrogate), a NaN or infinite number.
    The stored document must be the original, so such a document is refused rather than silently changed."""
    if depth > 200:
        return path or "/"
    if isinstance(value, str):
        if _UNSTORABLE_CHAR.search(value):
            return path or "/"
        return None
    if isinstance(value, float):
        return None if value == value and value not in (float("inf"), float("-inf")) else (path or "/")
    if isinstance(value, dict):
        for key, item in value.items():
            found = _unstorable(key, f"{path}/{key}", depth + 1) or _unstorable(item, f"{path}/{key}", depth + 1)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if found := _unstorable(item, f"{path}/{index}", depth + 1):
                return found
    return None


def iter_files(paths: Sequence[str | Path]) -> Iterator[tuple[Path, bool, str]]:
    """(path, named by the operator?, problem) for every file to import: the files named, and the `*.json` files
    under the directories named, sorted, without following symbolic links (a link could lead out of the tree or
    into a loop) and without entering hidden folders. A problem (e.g. "no such file") is reported, not raised."""
    count = 0
    for raw in paths:
        path = Path(raw)
        if path.is_dir() and not path.is_symlink():
            root = path.resolve()
            for folder, dirs, files in os.walk(root, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.startswith(".") or not name.lower().endswith(".json"):
                        continue
                    count += 1
                    if count > MAX_FILES:
                        yield Path(folder, name), False, f"more than {MAX_FILES} files: import the rest separately"
                        return
                    candidate = Path(folder, name)
                    # os.walk does not leave `root`, but check anyway: a name is never allowed to climb out.
                    if not candidate.resolve(strict=False).is_relative_to(root) and not candidate.is_symlink():
                        yield candidate, False, "outside the directory being imported"
                        continue
                    yield candidate, False, ""
        elif path.is_dir():
            yield path, True, "a symbolic link to a directory is not followed; name the directory itself"
        else:
            count += 1
            yield path, True, ""


def import_paths(
    *,
    paths: Sequence[str | Path],
    actor: Any = None,
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


# --- parsing the document (no database) ----------------------------------------------------------------------------


@dataclass
class _Leaf:
    """A product of the tree: where it sits (vendor, family, product name, variant) and its version, if any."""

    pid: str
    full_name: str
    line: str
    product: str  # the product_name branch, "" when the leaf is not under one
    version: str  # the product_version / product_version_range branch name, "" for a product without version
    is_range: bool = False
    variant: str = ""
    model_numbers: tuple[str, ...] = ()


@dataclass
class _Target:
    """One (catalog product, variant, version) a product status names; version "" means the product as a whole."""

    line: str
    product: str
    variant: str = ""
    version: str = ""
    is_range: bool = False
    hardware: str = ""
    slug_hint: str = ""
    release_hint: str = ""


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
class _Plan:
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


def _text(value: Any) -> str:
    return str(value or "").replace("\r\n", "\n").replace("\x00", "").strip()


def _line(value: Any, limit: int) -> str:
    text = " ".join(str(value or "").replace("\x00", "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _fit(text: str, limit: int) -> str:
    """`text` within a column's length, still unique: a cut text ends with a hash of the whole."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{text[: limit - 9]}~{digest}"


def _date(value: Any, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Refused(f"{what} is not a date and time: {str(value)[:40]}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _history(tracking: JSON) -> list[tuple[datetime, str, str]]:
    """(date, number, summary) of each revision, in psirt's order: by date, then number (what test 6.1.14 checks)."""
    entries = [
        (_date(r["date"], "a revision date"), str(r["number"]), _line(r.get("summary"), MAX_SUMMARY))
        for r in tracking["revision_history"]
    ]
    return sorted(entries, key=lambda r: (r[0], tuple(int(p) for p in re.findall(r"\d+", r[1]))))


def _label_values(key: str) -> set[str]:
    return set(LABELS[key].values())


def _walk(branches: Any, path: list[tuple[str, str]], out: list[_Leaf], publisher: str) -> None:
    for branch in branches or []:
        here = [*path, (str(branch.get("category", "")), _line(branch.get("name", ""), 1000))]
        if isinstance(branch.get("product"), dict):
            out.append(_leaf(branch["product"], here, publisher))
        _walk(branch.get("branches"), here, out, publisher)


def _leaf(product: JSON, path: list[tuple[str, str]], publisher: str) -> _Leaf:
    def last(*categories: str) -> str:
        return next((name for cat, name in reversed(path) if cat in categories), "")

    vendor, family = last("vendor"), last("product_family")
    version_category = path[-1][0] if path else ""
    helper = product.get("product_identification_helper") or {}
    return _Leaf(
        pid=str(product.get("product_id", "")),
        full_name=_line(product.get("name", ""), 1000),
        line=family or vendor or publisher,
        product=last("product_name"),
        version=path[-1][1] if version_category in ("product_version", "product_version_range") else "",
        is_range=version_category == "product_version_range",
        variant=" / ".join(name for cat, name in path if cat == "specification"),
        model_numbers=tuple(str(m) for m in helper.get("model_numbers") or () if str(m).strip()),
    )


class _Tree:
    """The product tree with every product ID resolved to what psirt's catalog can hold."""

    def __init__(self, tree: JSON, publisher: str) -> None:
        self.leaves: list[_Leaf] = []
        _walk(tree.get("branches"), [], self.leaves, publisher)
        for item in tree.get("full_product_names") or []:
            self.leaves.append(_leaf(item, [], publisher))
        self.by_pid = {leaf.pid: leaf for leaf in self.leaves}
        self.relationships = {
            str(r["full_product_name"]["product_id"]): r
            for r in tree.get("relationships") or []
            if isinstance(r.get("full_product_name"), dict)
        }
        # Product names that are the hardware of a firmware product ("X" for "X firmware", psirt's own shape).
        self.hardware_of: dict[str, str] = {}
        for rel in self.relationships.values():
            if rel.get("category") != "installed_on":
                continue
            ref = self.by_pid.get(str(rel.get("product_reference")))
            to = self.by_pid.get(str(rel.get("relates_to_product_reference")))
            if ref and to and ref.product and ref.product == f"{to.product} firmware":
                self.hardware_of[to.product] = ref.product

    def catalog_leaves(self) -> list[_Leaf]:
        """Leaves that are catalog entries by themselves: the versions under a product name, in tree order (the
        hardware revisions of a firmware product are not releases)."""
        return [leaf for leaf in self.leaves if leaf.product and leaf.product not in self.hardware_of]

    def target(self, leaf: _Leaf) -> _Target:
        name = leaf.product
        if name.endswith(" firmware") and name in self.hardware_of.values():
            name = name[: -len(" firmware")]
        if not name:
            return _Target(line=leaf.line, product=leaf.full_name)
        slug_hint, release_hint = _hints(leaf)
        return _Target(
            line=leaf.line,
            product=name,
            variant=leaf.variant,
            version=leaf.version,
            is_range=leaf.is_range,
            slug_hint=slug_hint,
            release_hint=release_hint,
        )

    def resolve(self, pid: str, depth: int = 0) -> _Target | None:
        if pid in self.by_pid:
            return self.target(self.by_pid[pid])
        rel = self.relationships.get(pid)
        if rel is None or depth > 8:
            return None
        ref = self.resolve(str(rel.get("product_reference")), depth + 1)
        to = self.resolve(str(rel.get("relates_to_product_reference")), depth + 1)
        if ref is None or to is None:
            return ref or to
        category = rel.get("category")
        if category in ("default_component_of", "optional_component_of"):
            # A component (package) of a platform: a release of the platform, named by the component.
            component = self.by_pid.get(str(rel.get("product_reference")))
            version = ref.version or (component.full_name if component else "") or ref.product
            return _Target(line=to.line, product=to.product, variant=to.variant, version=version)
        if category == "installed_on" and to.product in self.hardware_of:
            return _Target(
                line=ref.line,
                product=ref.product,
                variant=ref.variant,
                version=ref.version,
                is_range=ref.is_range,
                hardware=to.version,
                slug_hint=ref.slug_hint,
                release_hint=ref.release_hint,
            )
        return ref


def _hints(leaf: _Leaf) -> tuple[str, str]:
    """The product slug (and catalog release UUID) inside a product ID psirt wrote (`CSAFPID-<slug>-<version part>`,
    see psirt.formats.model), so a round trip keeps the same product IDs; ("", "") for other IDs."""
    if match := _UUID_TAIL.match(leaf.pid):
        return match["slug"], match["uuid"]
    if leaf.version and not leaf.is_range:
        tail = "-".join(p for p in (fm.slug(leaf.variant), fm.slug(leaf.version)) if p)
        if tail and leaf.pid.startswith("CSAFPID-") and leaf.pid.endswith("-" + tail):
            return leaf.pid[len("CSAFPID-") : -len(tail) - 1], ""
    return "", ""


def _exploitation(threats: Any) -> str:
    best = "none"
    for threat in threats or []:
        if threat.get("category") != "exploit_status":
            continue
        details = _text(threat.get("details"))
        lowered = details.lower()
        if details in _label_values("exploit_active") or "actively exploited" in lowered or "in the wild" in lowered:
            status = "active"
        elif details in _label_values("exploit_poc") or "proof of concept" in lowered or "proof-of-concept" in lowered:
            status = "poc"
        else:
            status = "none"
        if _EXPLOIT_RANK[status] > _EXPLOIT_RANK[best]:
            best = status
    return best


def _v3(score: JSON) -> tuple[str, Decimal] | None:
    vector = str((score.get("cvss_v3") or {}).get("vectorString", ""))
    if vector.startswith("CVSS:3.0/"):
        vector = "CVSS:3.1/" + vector[len("CVSS:3.0/") :]
    try:
        result = score_vector(vector)
    except CvssError:
        return None
    return (result.vector, Decimal(str(result.base))) if result.version == "3.1" else None


def _v4_in(notes: Any) -> list[tuple[str, Decimal]]:
    out = []
    for note in notes or []:
        for vector in _V4.findall(str(note.get("text", ""))):
            try:
                result = score_vector(vector.rstrip("/"))
            except CvssError:
                continue
            out.append((result.vector, Decimal(str(result.base))))
    return out


def _credit(ack: JSON) -> str:
    parts = [str(n).strip() for n in ack.get("names") or [] if str(n).strip()]
    if str(ack.get("organization") or "").strip():
        parts.append(str(ack["organization"]).strip())
    if not parts and ack.get("summary"):
        parts.append(_line(ack["summary"], 300))
    return _line(", ".join(parts), 300)


def _notes(notes: Any) -> dict[str, str]:
    """Document notes → psirt's text fields: summary and description by category, impact and workarounds by the
    titles psirt writes (or "impact" / "workaround" / "mitigation" in a general note's title)."""
    out: dict[str, list[str]] = {"summary_en": [], "description_en": [], "impact_en": [], "workarounds_en": []}
    for note in notes or []:
        category, title, text = note.get("category"), _text(note.get("title")), _text(note.get("text"))
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


def parse(doc: JSON) -> _Plan:
    """What psirt keeps of a valid CSAF document (see the module docstring). Raises Refused for a document that is
    valid CSAF but cannot become a psirt advisory."""
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
    if "/" in tracking_id or _CONTROL.search(tracking_id):
        raise Refused("tracking ID contains '/' or a control character; it cannot be an advisory address")
    if tracking.get("status") not in ("final", "interim"):
        raise Refused(f"document status is “{tracking.get('status')}”: only final or interim documents are published")
    vulns = [v for v in doc.get("vulnerabilities") or [] if isinstance(v, dict)]
    if not vulns:
        raise Refused("the document names no vulnerabilities; a psirt advisory is about at least one")

    dropped: list[str] = []
    fields: dict[str, Any] = {"title_en": _line(document["title"], MAX_TITLE)}
    fields.update(_notes(document.get("notes")))
    if not fields["description_en"]:
        # No document-level description: the vulnerabilities' own descriptions, titled when there are several.
        # A text that only repeats the summary or the title (what psirt writes when it has no description) is not one.
        repeated = {fields["summary_en"], _text(document["title"]), ""}
        parts: list[str] = []
        for vuln in vulns:
            texts = [_text(n.get("text")) for n in vuln.get("notes") or [] if n.get("category") == "description"]
            texts = [t for t in texts if t not in repeated]
            if texts and len(vulns) > 1 and vuln.get("title"):
                texts = [f"{_line(vuln['title'], 300)}\n\n" + "\n\n".join(texts)]
            parts += [t for t in texts if t not in parts]
        fields["description_en"] = "\n\n".join(parts)
    if not fields["workarounds_en"]:
        fields["workarounds_en"] = "\n\n".join(
            dict.fromkeys(
                _text(r.get("details"))
                for v in vulns
                for r in v.get("remediations") or []
                if r.get("category") in ("workaround", "mitigation") and _text(r.get("details"))
            )
        )

    best_v3: tuple[str, Decimal] | None = None
    cwe_vuln: JSON | None = None
    for vuln in vulns:
        for score in vuln.get("scores") or []:
            found = _v3(score)
            if found and (best_v3 is None or found[1] > best_v3[1]):
                best_v3, cwe_vuln = found, vuln
    v4 = [found for v in vulns for found in _v4_in(v.get("notes"))]
    best_v4 = max(v4, key=lambda item: item[1]) if v4 else None
    fields["cvss31_vector"], fields["cvss31_base"] = best_v3 if best_v3 else ("", None)
    fields["cvss40_vector"], fields["cvss40_base"] = best_v4 if best_v4 else ("", None)
    scores = [s for s in (fields["cvss31_base"], fields["cvss40_base"]) if s is not None]
    fields["score"] = max(scores) if scores else None
    fields["severity"] = severity_for(fields["score"]) if fields["score"] is not None else ""
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
    fields["identifiers"] = _identifiers(vulns)
    fields["reference_urls"] = _references(document, vulns)
    acks = list(document.get("acknowledgments") or []) + [a for v in vulns for a in v.get("acknowledgments") or []]
    fields["credits_en"] = "\n".join(dict.fromkeys(c for c in (_credit(a) for a in acks) if c))
    for key in ("summary_en", "description_en", "impact_en", "workarounds_en"):
        fields[key] = fields[key][:50_000]

    history = _history(tracking)
    revisions = [(date, summary or "(no summary)") for date, _number, summary in history]
    if len(revisions) > 1000:
        raise Refused("more than 1000 revisions; not a history psirt can hold")

    tree = _Tree(doc.get("product_tree") or {}, _line(document["publisher"]["name"], 200))
    products: dict[tuple[str, str], _ProductPlan] = {}

    def plan_for(target: _Target) -> _ProductPlan:
        key = (_fit(target.line, 200), _fit(target.product, 200))
        plan = products.setdefault(key, _ProductPlan(line=key[0], name=key[1]))
        if target.slug_hint and not plan.slug_hint:
            plan.slug_hint = target.slug_hint
        return plan

    for leaf in tree.catalog_leaves():
        target = tree.target(leaf)
        plan = plan_for(target)
        plan.model_numbers += [m for m in leaf.model_numbers if m not in plan.model_numbers]
        if target.version and not target.is_range:
            plan.versions.setdefault((_fit(target.variant, 100), _fit(target.version, 100)), target.release_hint)
    for hardware_name in tree.hardware_of:
        for leaf in tree.leaves:
            if leaf.product == hardware_name and leaf.version:
                plan = plan_for(_Target(line=leaf.line, product=hardware_name))
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
                        _fit(fixed_target.line, 200),
                        _fit(fixed_target.product, 200),
                        _fit(fixed_target.variant, 100),
                    )
                    candidate = (str(rem.get("url") or ""), str(rem.get("date") or ""), _text(rem.get("details")))
                    if candidate not in fixes.setdefault(slot_key, []):
                        fixes[slot_key].append(candidate)
        for key, pid in named:
            named_target = tree.resolve(pid)
            if named_target is None:
                unresolved.add(pid)
                continue
            plan = plan_for(named_target)
            version = _fit(named_target.version, 100)
            variant = _fit(named_target.variant, 100)
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

    return _Plan(
        tracking_id=tracking_id,
        version=str(tracking.get("version", "")),
        fields=fields,
        revisions=revisions,
        published_at=_date(tracking["initial_release_date"], "initial_release_date"),
        revised_at=_date(tracking["current_release_date"], "current_release_date"),
        products=products,
        statuses=statuses,
        fixes=fixes,
        dropped=dropped,
    )


# --- writing -------------------------------------------------------------------------------------------------------


def _unique_slug(model: Any, base: str, *, hint: str = "") -> str:
    for candidate in (hint, base):
        candidate = candidate[:80].strip("-")
        valid = bool(candidate) and re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", candidate) is not None
        if valid and not model.objects.filter(slug=candidate).exists():
            return candidate
    stem = (slugify(base)[:70].strip("-") or "imported").lower()
    for n in range(1, 10_000):
        candidate = stem if n == 1 else f"{stem}-{n}"
        if not model.objects.filter(slug=candidate).exists():
            return candidate
    raise Refused("cannot find a free slug for a product")


def _catalog(plan: _Plan) -> dict[tuple[str, str], tuple[Product, dict[tuple[str, str], FirmwareRelease]]]:
    """Product lines, products and releases of the document (created when missing), in the tree's order."""
    out = {}
    lines: dict[str, ProductLine] = {}
    for (line_name, product_name), pp in plan.products.items():
        line = lines.get(line_name) or ProductLine.objects.filter(name_en=line_name).order_by("id").first()
        if line is None:
            position = (ProductLine.objects.aggregate(m=Max("position"))["m"] or 0) + 1
            line = ProductLine.objects.create(
                slug=_unique_slug(ProductLine, slugify(line_name)),
                name_en=line_name,
                position=min(position, MAX_POSITION),
            )
        lines[line_name] = line
        product = Product.objects.filter(line=line, name=product_name).order_by("id").first()
        if product is None:
            product = Product.objects.create(
                line=line,
                slug=_unique_slug(Product, slugify(product_name), hint=pp.slug_hint),
                name=product_name,
                model_numbers=_fit(", ".join(pp.model_numbers), 500),
                hardware_revisions=_fit(", ".join(pp.hardware), 200),
            )
        else:
            changed = False
            for attr, values in (("model_numbers", pp.model_numbers), ("hardware_revisions", pp.hardware)):
                have = [v.strip() for v in getattr(product, attr).split(",") if v.strip()]
                merged = have + [v for v in values if v not in have]
                if merged != have:
                    setattr(product, attr, _fit(", ".join(merged), 500 if attr == "model_numbers" else 200))
                    changed = True
            if changed:
                product.save()
        releases = {(r.variant, r.version): r for r in product.releases.all()}
        position = max((r.position for r in releases.values()), default=0)
        for (variant, version), release_hint in pp.versions.items():
            if (variant, version) in releases:
                continue
            position += POSITION_STEP
            if position > MAX_POSITION:
                raise Refused(f"{product_name} has too many releases to order")
            release = FirmwareRelease(product=product, version=version, variant=variant, position=position)
            if release_hint and not FirmwareRelease.objects.filter(public_id=release_hint).exists():
                release.public_id = release_hint  # psirt's own product IDs name the release: keep them stable
            release.save()
            releases[(variant, version)] = release
        out[(line_name, product_name)] = (product, releases)
    return out


def _range_bounds(text: str) -> tuple[str | None, str | None] | None:
    """(first affected version, fixed version) of a `vers` range, or None when it is not one psirt can bound."""
    try:
        lower, upper, inclusive = fm.VersionRange(text).bounds
    except ValueError:
        return None
    return lower, (None if inclusive else upper)


def _release(
    product: Product,
    releases: dict[tuple[str, str], FirmwareRelease],
    variant: str,
    version: str,
    *,
    below: FirmwareRelease | None = None,
) -> FirmwareRelease:
    """The release `version` of `product` named by a range bound, created when missing: just before `below` (the
    range's upper bound) when there is room between it and the release before it, else after every release."""
    key = (variant, _fit(version, 100))
    found = releases.get(key)
    if found is not None:
        return found
    same = sorted(r.position for (v, _version), r in releases.items() if v == variant)
    position = (same[-1] if same else 0) + POSITION_STEP
    if below is not None:
        previous = max((p for p in same if p < below.position), default=0)
        if below.position - previous > 1:
            position = below.position - max(1, (below.position - previous) // 2)
    if position > MAX_POSITION:
        raise Refused(f"{product.name} has too many releases to order")
    found = FirmwareRelease.objects.create(product=product, version=key[1], variant=variant, position=position)
    releases[key] = found
    return found


def _vendor_fix_for(
    fix: FirmwareRelease, variant: str, others: set[str], candidates: list[tuple[str, str, str]]
) -> tuple[str, str]:
    """(URL, date) of the vendor fix that is about `fix`: one remediation often names the products of several
    variants (psirt's do), so prefer the one whose text or URL names the fixed version and the variant (and, for
    the standard build, no other variant); the first one when none says."""

    def score(candidate: tuple[str, str, str]) -> int:
        text = f"{candidate[2]} {candidate[0]}"
        points = 2 if fix.version in text else 0
        if variant:
            points += 1 if variant in text else 0
        else:
            points += 0 if any(f"({other})" in text for other in others) else 1
        return points

    best = max(candidates, key=score)  # the first of equals: document order
    return best[0], best[1]


def _fill_release(release: FirmwareRelease, url: str, date: str) -> None:
    """The fixed release's download link and date from the vendor fix, where the catalog has none yet and they are
    ones the catalog accepts (an invalid one stays in the stored document only)."""
    changed = []
    if url and not release.download_url and len(url) <= 500:
        try:
            validate_http_url(url)
        except ValidationError:
            pass
        else:
            release.download_url = url
            changed.append("download_url")
    if date and release.release_date is None:
        try:
            day = _date(date, "remediation date").date()
            validate_release_date(day)
        except (Refused, ValidationError):
            pass
        else:
            release.release_date = day
            changed.append("release_date")
    if changed:
        release.save(update_fields=changed)


def _affected_rows(
    plan: _Plan, catalog: dict[tuple[str, str], tuple[Product, dict[tuple[str, str], FirmwareRelease]]]
) -> list[AffectedProduct]:
    rows = []
    for (line_name, product_name, variant), status in plan.statuses.items():
        product, releases = catalog[(line_name, product_name)]

        affected = [v for v in status["known_affected"] if not v.startswith("range:")]
        ranges = [v[len("range:") :] for v in status["known_affected"] if v.startswith("range:")]
        fixed = [releases[(variant, v)] for v in status["first_fixed"] + status["fixed"] if (variant, v) in releases]
        whole = "" in affected
        introduced: FirmwareRelease | None = None
        fix: FirmwareRelease | None = None
        affected_releases = [releases[(variant, v)] for v in affected if v and (variant, v) in releases]
        for text in ranges:
            bounds = _range_bounds(text)
            if bounds is None:
                whole = True
                continue
            lower, upper = bounds
            upper_release = _release(product, releases, variant, upper) if upper is not None else None
            if upper_release is not None:
                fixed.append(upper_release)
            if lower is None:
                whole = True
            else:
                affected_releases.append(_release(product, releases, variant, lower, below=upper_release))
        if affected_releases and not whole:
            introduced = min(affected_releases, key=lambda r: r.position)
            newest = max(r.position for r in affected_releases)
            later = [r for r in fixed if r.position > newest]
            fix = min(later, key=lambda r: r.position) if later else None
        elif whole or affected_releases:
            newest = max((r.position for r in affected_releases), default=0)
            later = [r for r in fixed if r.position > newest]
            fix = min(later, key=lambda r: r.position) if later else None
        elif fixed:
            fix = min(fixed, key=lambda r: r.position)
        else:
            continue  # only "not affected": no row in the affected table
        if fix is not None and (line_name, product_name, variant) in plan.fixes:
            others = {v for v, _version in releases if v and v != variant}
            url, date = _vendor_fix_for(fix, variant, others, plan.fixes[(line_name, product_name, variant)])
            _fill_release(fix, url, date)
        rows.append(AffectedProduct(product=product, variant=variant, introduced=introduced, fixed=fix))
    return rows


def _reserve_number(tracking_id: str, year: int) -> tuple[int, int]:
    """(year, number) of an imported advisory. An ID of psirt's shape takes its own year and number when free and
    moves that year's sequence past it, so psirt never issues the same number; otherwise the next number."""
    match = _OWN_ID.match(tracking_id)
    if match:
        own_year, number = int(match["year"]), int(match["number"])
        taken = Advisory.objects.filter(year=own_year, number=number).exists()
        if 1990 <= own_year <= 9999 and not taken and number <= 2_000_000_000:
            raised = AdvisorySequence.objects.filter(year=own_year, last__lt=number).update(last=number)
            if not raised and not AdvisorySequence.objects.filter(year=own_year).exists():
                try:
                    with transaction.atomic():
                        AdvisorySequence.objects.create(year=own_year, last=number)
                except IntegrityError:  # a concurrent first number of that year: raise it past ours
                    AdvisorySequence.objects.filter(year=own_year, last__lt=number).update(last=number)
            return own_year, number
        if 1990 <= own_year <= 9999:
            return own_year, next_in_year(AdvisorySequence, own_year)
    return year, next_in_year(AdvisorySequence, year)


def _is_newer(new: JSON, old: JSON) -> bool:
    def key(doc: JSON) -> tuple[datetime, int]:
        tracking = doc["document"]["tracking"]
        return (_date(tracking["current_release_date"], "current_release_date"), len(tracking["revision_history"]))

    return key(new) > key(old)


def _revision_count(doc: JSON) -> int:
    return len(doc["document"]["tracking"]["revision_history"])


def _changed_in_psirt(advisory: Advisory) -> bool:
    """Whether an imported advisory was revised or withdrawn in psirt after its last import."""
    source = advisory.source_csaf
    if not isinstance(source, dict) or advisory.state != AdvisoryState.PUBLISHED:
        return True
    return len(advisory.revisions.all()) != _revision_count(source)


def imported_document(advisory: Advisory) -> JSON | None:
    """The stored original CSAF document when psirt should serve it as the advisory's CSAF: the advisory was
    imported, has not been revised in psirt since (its revisions are exactly the document's) and the document's
    publisher is this organization as psirt writes it (a trusted provider's documents and provider-metadata name the
    same publisher, CSAF requirement 7). None otherwise: then psirt renders the document from its rows, as for its
    own advisories. Uses the prefetched revisions when there are (documents.advisory_queryset)."""
    from psirt.advisories.documents import publisher

    source = advisory.source_csaf
    if not isinstance(source, dict) or _changed_in_psirt(advisory):
        return None
    ours = publisher()
    theirs = source["document"]["publisher"]
    if (theirs.get("name"), theirs.get("namespace")) != (ours.name, ours.namespace):
        return None
    return source


def _write_tree_after_commit(advisory: Advisory) -> None:
    """Once the import has committed, put the advisory's documents into the CSAF provider tree, as a publication
    does (psirt.advisories.services). Best effort: a failure is logged and the periodic sync repairs the tree."""
    pk, advisory_id = advisory.pk, advisory.advisory_id

    def write() -> None:
        from psirt.advisories.provider import advisory_documents, update_documents

        try:
            update_documents(advisory_documents(Advisory.objects.get(pk=pk)))
        except Exception as exc:  # never undo a committed import for the tree
            logger.warning("CSAF tree not updated for imported %s: %s", advisory_id, type(exc).__name__)

    transaction.on_commit(write)


def sync_tree() -> None:
    """After a batch of imports: one pass over the provider tree instead of one listing rewrite per document."""
    from psirt.advisories.provider import sync_provider

    try:
        summary = sync_provider()
    except Exception as exc:  # the imports stand; the periodic sync repairs the tree
        logger.warning("CSAF tree not synchronised after the import: %s", type(exc).__name__)
        return
    if summary.failed:
        logger.warning("CSAF tree: %d advisories could not be rendered: %s", len(summary.failed), summary.failed[:20])


def import_csaf(
    *,
    document: Any,
    actor: Any = None,
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
    if (where := _unstorable(document)) is not None:
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
        if _is_translation(document):
            return _write_translation(document, actor=actor, request=request, source=name, write_tree=write_tree)
        plan = parse(document)
        return _write(plan, document, actor=actor, request=request, source=name, write_tree=write_tree)
    except Refused as exc:
        return ImportResult(name, "refused", messages=exc.messages)
    except IntegrityError:  # e.g. the same tracking ID imported by two processes at once; rolled back
        return ImportResult(name, "refused", messages=("conflicts with a concurrent change; import it again",))
    except DatabaseError as exc:  # the transaction is rolled back: nothing of the document is written
        return ImportResult(name, "refused", messages=(f"cannot be stored: {type(exc).__name__}",))
    except (KeyError, TypeError, ValueError) as exc:  # a valid document of a shape this code did not foresee
        return ImportResult(name, "refused", messages=(f"cannot map this document: {type(exc).__name__}: {exc}"[:300],))


def _serialise_imports() -> None:
    """One import writes at a time: two documents of a new vendor imported at once must not create two product lines
    of one name, nor two imports of one tracking ID race. The lock is the organization profile's row (the catalog
    and the advisories being written are that organization's), held until the import's transaction ends; imports
    are rare and take milliseconds, so nothing else waits noticeably."""
    from psirt.pages.models import OrganizationProfile

    OrganizationProfile.get()
    list(OrganizationProfile.objects.select_for_update().filter(id=1).values_list("id", flat=True))


def _write(
    plan: _Plan, document: JSON, *, actor: Any, request: HttpRequest | None, source: str, write_tree: bool
) -> ImportResult:
    with transaction.atomic():
        _serialise_imports()
        existing = Advisory.objects.select_for_update().filter(advisory_id=plan.tracking_id).first()
        if existing is not None:
            if existing.source_csaf is None:
                raise Refused(f"{plan.tracking_id} is an advisory written in psirt; an import does not overwrite it")
            if existing.source_csaf == document:
                return ImportResult(source, "unchanged", plan.tracking_id)
            if _changed_in_psirt(existing):
                raise Refused(f"{plan.tracking_id} has been revised (or withdrawn) in psirt since its import")
            if not _is_newer(document, existing.source_csaf):
                version = existing.source_csaf["document"]["tracking"].get("version")
                raise Refused(
                    f"version {plan.version} is not newer than the imported version {version} "
                    "(a changed document needs a new version and current_release_date)"
                )
            if len(plan.revisions) < existing.revisions.count():
                raise Refused("the new version has fewer revisions than the imported one")
            advisory = existing
            outcome: Outcome = "updated"
        else:
            year, number = _reserve_number(plan.tracking_id, plan.published_at.year)
            advisory = Advisory(advisory_id=plan.tracking_id, year=year, number=number, created_by=None)
            outcome = "imported"
        for name, value in plan.fields.items():
            setattr(advisory, name, value)
        advisory.state = AdvisoryState.PUBLISHED
        advisory.published_at = plan.published_at
        advisory.revised_at = plan.revised_at
        advisory.source_csaf = document
        advisory.save()
        catalog = _catalog(plan)
        AffectedProduct.objects.filter(advisory=advisory).delete()
        rows = _affected_rows(plan, catalog)
        for row in rows:
            row.advisory = advisory
        AffectedProduct.objects.bulk_create(rows)
        have = {r.number: r for r in advisory.revisions.all()}
        added = 0
        for number, (date, summary) in enumerate(plan.revisions, start=1):
            revision = have.get(number)
            if revision is None:
                Revision.objects.create(advisory=advisory, number=number, date=date, summary_en=summary)
                added += 1
            elif (revision.date, revision.summary_en) != (date, summary):
                revision.date, revision.summary_en = date, summary
                revision.save(update_fields=["date", "summary_en"])
        record(
            action="advisory.imported" if outcome == "imported" else "advisory.import_updated",
            actor=actor,
            request=request,
            target=advisory,
            data={
                "advisory": advisory.advisory_id,
                "version": plan.version,
                "revisions_added": added,
                "products": len(plan.products),
            },
        )
        if write_tree:
            _write_tree_after_commit(advisory)
    messages = [f"version {plan.version}", f"{added} revisions added", f"{len(rows)} affected products"]
    messages += [f"not kept in the fields (still in the stored document): {d}" for d in plan.dropped]
    return ImportResult(source, outcome, plan.tracking_id, tuple(messages))


# --- translations --------------------------------------------------------------------------------------------------


def _is_translation(doc: JSON) -> bool:
    document = doc["document"]
    return bool(document.get("source_lang")) and document.get("source_lang") != document.get("lang")


def _write_translation(
    doc: JSON, *, actor: Any, request: HttpRequest | None, source: str, write_tree: bool
) -> ImportResult:
    """A translation document (`source_lang` set, psirt writes zh-Hans ones) fills the Chinese texts of the advisory
    imported from its original: title, the four notes, the revision summaries. Texts the translation leaves in the
    source language (psirt writes the English one where no Chinese exists) stay empty on the Chinese side."""
    document = doc["document"]
    lang = str(document.get("lang", ""))
    if not lang.lower().startswith("zh"):
        raise Refused(f"a translation into “{lang[:20]}”: psirt keeps English and Simplified Chinese texts only")
    tracking = document["tracking"]
    tracking_id = str(tracking["id"])
    with transaction.atomic():
        _serialise_imports()
        advisory = Advisory.objects.select_for_update().filter(advisory_id=tracking_id).first()
        if advisory is None or not isinstance(advisory.source_csaf, dict):
            raise Refused(f"a translation of {tracking_id}, which has not been imported: import the original first")
        original = advisory.source_csaf["document"]["tracking"].get("version")
        if str(tracking.get("version")) != str(original):
            raise Refused(f"a translation of version {tracking.get('version')}; the imported original is {original}")
        notes = _notes(document.get("notes"))
        changes: dict[str, str] = {"title_zh": _line(document["title"], MAX_TITLE)}
        for key in ("summary", "description", "impact", "workarounds"):
            text = notes[f"{key}_en"][:50_000]
            changes[f"{key}_zh"] = "" if text == getattr(advisory, f"{key}_en") else text
        changed = [name for name, value in changes.items() if getattr(advisory, name) != value]
        for name in changed:
            setattr(advisory, name, changes[name])
        history = _history(tracking)
        revisions = list(advisory.revisions.order_by("number"))
        if len(revisions) != len(history):
            raise Refused("the translation's revision history does not match the imported original's")
        updated = 0
        for revision, (_when, _number, summary) in zip(revisions, history, strict=True):
            wanted = "" if summary == revision.summary_en else summary
            if revision.summary_zh != wanted:
                revision.summary_zh = wanted
                revision.save(update_fields=["summary_zh"])
                updated += 1
        if not changed and not updated:
            return ImportResult(source, "unchanged", tracking_id, ("translation (zh-Hans)",))
        advisory.save()
        record(
            action="advisory.import_translated",
            actor=actor,
            request=request,
            target=advisory,
            data={"advisory": tracking_id, "lang": lang[:20], "fields": changed, "revisions": updated},
        )
        if write_tree:
            _write_tree_after_commit(advisory)
    return ImportResult(source, "updated", tracking_id, (f"translation ({lang[:20]})",))
