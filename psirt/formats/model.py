"""What a published advisory revision says, independent of Django: the input of every renderer in `formats/`.

The advisories app turns its rows into these frozen dataclasses (one `Advisory` per published revision); the
renderers turn them into CSAF 2.0, CVE JSON 5, Atom entries. Keeping this layer free of the ORM lets the renderers
be pure functions that tests, the exporter and the importer can call without a database.

Product IDs (stable across revisions, because CSAF consumers diff revisions by product ID):

* a firmware version:   ``CSAFPID-<product-slug>-<release-id>`` when the catalog release has a stable identifier,
  else ``CSAFPID-<product-slug>-[<variant-slug>-]<version-slug>``;
* a version range:      ``CSAFPID-<product-slug>-[<variant-slug>-]range-<constraints-slug>``
  (``vers:generic/>=1.0|<2.0`` → ``range-ge1.0-lt2.0``);
* a hardware revision:  ``CSAFPID-<product-slug>-hw-<revision-slug>``;
* firmware installed on a hardware revision (the CSAF relationship, what product_status refers to when the product
  has hardware revisions): ``<firmware-id>-on-hw-<revision-slug>``.

A slug is the text lower-cased, every run of characters outside ``[a-z0-9.+]`` replaced by ``-``, leading and trailing
``-`` removed. `product_id()` implements the rule; `Product.status_ids()` gives the IDs a product status should list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError

RemediationCategory = Literal["vendor_fix", "workaround", "mitigation", "no_fix_planned", "none_available"]
REMEDIATION_CATEGORIES: frozenset[str] = frozenset(
    {"vendor_fix", "workaround", "mitigation", "no_fix_planned", "none_available"}
)
ExploitStatus = Literal["none", "poc", "active"]
EXPLOIT_STATUSES: frozenset[str] = frozenset({"none", "poc", "active"})
DocumentStatus = Literal["final", "interim"]
ReferenceCategory = Literal["self", "external"]

_SLUG_RUN = re.compile(r"[^a-z0-9.+]+")
_REVISION_NUMBER = re.compile(r"^(0|[1-9][0-9]*)$|^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_VERS = re.compile(r"^vers:[a-z.\-+][a-z0-9.\-+]*/\S+$")
_VERS_CONSTRAINT = re.compile(r"^(>=|<=|<|>|=|!=)?(.+)$")


def slug(text: str) -> str:
    """The product-ID slug of `text` (see the module docstring)."""
    return _SLUG_RUN.sub("-", text.lower()).strip("-")


def _require_aware(value: datetime | None, what: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")


@dataclass(frozen=True)
class Text:
    """A text in English and, optionally, Simplified Chinese. English is the source language and always wins when
    the Chinese text is missing."""

    en: str = ""
    zh: str = ""

    def get(self, lang: str) -> str:
        return self.zh if lang.lower().startswith("zh") and self.zh.strip() else self.en

    def __bool__(self) -> bool:
        return bool(self.en.strip())


@dataclass(frozen=True)
class Publisher:
    """The organization that issues the advisories (CSAF `document.publisher`)."""

    name: str
    namespace: str  # https URL identifying the publisher, e.g. "https://security.visiontek.example"
    contact_details: str = ""
    issuing_authority: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("publisher name is empty")
        if not self.namespace.startswith(("https://", "http://")):
            raise ValueError(f"publisher namespace must be an http(s) URL, got {self.namespace!r}")


@dataclass(frozen=True)
class Revision:
    """One entry of the revision history. `number` is an integer ("1", "2", …) or a semantic version ("1.0.0")."""

    number: str
    date: datetime
    summary: Text

    def __post_init__(self) -> None:
        if not _REVISION_NUMBER.match(self.number):
            raise ValueError(f"revision number must be an integer or semantic version, got {self.number!r}")
        _require_aware(self.date, "revision date")
        if not self.summary:
            raise ValueError(f"revision {self.number} has no summary")

    @property
    def sort_key(self) -> tuple[datetime, tuple[int, ...]]:
        """Date, then number: the order CSAF test 6.1.14 checks (and what two revisions on one day need)."""
        return (self.date, tuple(int(part) for part in self.number.split(".")))


@dataclass(frozen=True)
class Reference:
    url: str
    summary: Text
    category: ReferenceCategory = "external"

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")):
            raise ValueError(f"reference URL must be http(s), got {self.url!r}")
        if self.category not in ("self", "external"):
            raise ValueError(f"unknown reference category {self.category!r}")


@dataclass(frozen=True)
class Acknowledgment:
    """Credit: people and/or an organization, with an optional summary of what they did."""

    names: tuple[str, ...] = ()
    organization: str = ""
    summary: Text = field(default_factory=Text)
    urls: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not any(n.strip() for n in self.names) and not self.organization.strip() and not self.summary:
            raise ValueError("an acknowledgment needs a name, an organization or a summary")


# --- catalog -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One concrete firmware release of a product. `release_id` is the catalog's stable identifier of the release
    (preferred for the product ID); `variant` is the region/operator variant ("" for the standard build)."""

    version: str
    release_id: str = ""
    variant: str = ""
    cpe: str = ""
    purl: str = ""
    file_name: str = ""
    sha256: str = ""

    def __post_init__(self) -> None:
        if not self.version.strip():
            raise ValueError("version is empty")
        if self.sha256 and not re.fullmatch(r"[0-9a-fA-F]{64}", self.sha256):
            raise ValueError(f"sha256 must be 64 hex digits, got {self.sha256!r}")
        if self.sha256 and not self.file_name:
            raise ValueError("a firmware hash needs the file name it belongs to")

    @property
    def id_part(self) -> str:
        if self.release_id:
            return slug(self.release_id)
        return "-".join(p for p in (slug(self.variant), slug(self.version)) if p)

    @property
    def label(self) -> str:
        return self.version


@dataclass(frozen=True)
class VersionRange:
    """A contiguous range of versions in `vers` notation, for releases that are not enumerated one by one:
    ``vers:generic/<5.5.0``, ``vers:generic/>=1.0|<2.0``, ``vers:generic/>=1.0|<=1.9``, ``vers:generic/*``.
    One interval per range (several intervals: several ranges) so that CVE JSON 5 can express it exactly."""

    vers: str
    variant: str = ""

    def __post_init__(self) -> None:
        if not _VERS.match(self.vers):
            raise ValueError(f"not a vers range: {self.vers!r} (expected e.g. 'vers:generic/>=1.0|<2.0')")
        self.bounds  # noqa: B018 - raises ValueError for shapes CVE JSON 5 cannot express

    @property
    def scheme(self) -> str:
        return self.vers[len("vers:") :].split("/", 1)[0]

    @property
    def constraints(self) -> tuple[tuple[str, str], ...]:
        """(operator, version) pairs; operator "" means equality."""
        body = self.vers.split("/", 1)[1]
        if body == "*":
            return (("*", ""),)
        out = []
        for part in body.split("|"):
            m = _VERS_CONSTRAINT.match(part)
            if not m or not m.group(2):
                raise ValueError(f"bad vers constraint {part!r} in {self.vers!r}")
            out.append((m.group(1) or "", m.group(2)))
        return tuple(out)

    @property
    def bounds(self) -> tuple[str | None, str | None, bool]:
        """(lower inclusive bound or None, upper bound or None, upper bound inclusive?)."""
        cons = self.constraints
        if cons == (("*", ""),):
            return (None, None, False)
        ops = tuple(op for op, _ in cons)
        upper_inclusive = bool(ops) and ops[-1] == "<="
        if ops in {("<",), ("<=",)}:
            return (None, cons[0][1], upper_inclusive)
        if ops == (">=",):
            return (cons[0][1], None, False)
        if ops in {(">=", "<"), (">=", "<=")}:
            return (cons[0][1], cons[1][1], upper_inclusive)
        raise ValueError(
            f"unsupported vers range {self.vers!r}: use '<B', '<=B', '>=A', '>=A|<B', '>=A|<=B' or '*' "
            "(several intervals: several ranges; single versions: a Version)"
        )

    @property
    def id_part(self) -> str:
        body = self.vers.split("/", 1)[1]
        for op, word in ((">=", "ge"), ("<=", "le"), ("!=", "ne"), (">", "gt"), ("<", "lt"), ("=", "eq")):
            body = body.replace(op, word)
        body = body.replace("*", "all").replace("|", "-")
        return "-".join(p for p in (slug(self.variant), "range-" + slug(body)) if p)

    @property
    def label(self) -> str:
        lower, upper, inclusive = self.bounds
        parts = []
        if lower is not None:
            parts.append(f">= {lower}")
        if upper is not None:
            parts.append(f"{'<=' if inclusive else '<'} {upper}")
        return "versions " + (", ".join(parts) if parts else "(all)")


AnyVersion = Version | VersionRange


@dataclass(frozen=True)
class Product:
    """A product of the catalog as the advisory names it: vendor → (product line) → product → versions, with its
    hardware revisions when the firmware runs on several boards."""

    slug: str
    name: str
    vendor: str
    versions: tuple[AnyVersion, ...]
    line: str = ""
    model_numbers: tuple[str, ...] = ()
    hardware_revisions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.slug or slug(self.slug) != self.slug.lower():
            raise ValueError(f"product slug must be a slug, got {self.slug!r}")
        if not self.name.strip() or not self.vendor.strip():
            raise ValueError("product and vendor names must not be empty")
        if not self.versions:
            raise ValueError(f"product {self.slug!r} lists no versions")

    def version_id(self, version: AnyVersion) -> str:
        """The product ID of the firmware version itself (without hardware)."""
        return f"CSAFPID-{self.slug.lower()}-{version.id_part}"

    def hardware_id(self, revision: str) -> str:
        return f"CSAFPID-{self.slug.lower()}-hw-{slug(revision)}"

    def status_ids(self, version: AnyVersion, hardware_revision: str | None = None) -> tuple[str, ...]:
        """The product IDs a product status lists for `version`: the version itself when the product has no hardware
        revisions, else the firmware installed on the given hardware revision (or on each of them)."""
        if version not in self.versions:
            raise ValueError(f"{version!r} is not a version of product {self.slug!r}")
        if not self.hardware_revisions:
            if hardware_revision is not None:
                raise ValueError(f"product {self.slug!r} has no hardware revisions")
            return (self.version_id(version),)
        revisions = self.hardware_revisions if hardware_revision is None else (hardware_revision,)
        if hardware_revision is not None and hardware_revision not in self.hardware_revisions:
            raise ValueError(f"{hardware_revision!r} is not a hardware revision of {self.slug!r}")
        return tuple(f"{self.version_id(version)}-on-hw-{slug(rev)}" for rev in revisions)


def product_id(product: Product, version: AnyVersion, hardware_revision: str | None = None) -> str:
    """The one product ID for `version` of `product` (on `hardware_revision` when the product has revisions)."""
    ids = product.status_ids(version, hardware_revision)
    if len(ids) != 1:
        raise ValueError(f"product {product.slug!r} has hardware revisions: name one")
    return ids[0]


@dataclass(frozen=True)
class ProductEntry:
    """What a product ID stands for: a firmware version (`hardware_revision` None), a hardware revision (`version`
    None), or a firmware version installed on a hardware revision (both set)."""

    product: Product
    version: AnyVersion | None
    hardware_revision: str | None


def index_products(products: tuple[Product, ...]) -> dict[str, ProductEntry]:
    """Every product ID the catalog part of an advisory defines, in catalog order. Raises ValueError when two entries
    would share an ID (e.g. versions "5.5.0" and "5-5-0" of one product): give the releases distinct release IDs."""
    index: dict[str, ProductEntry] = {}

    def put(pid: str, entry: ProductEntry) -> None:
        if pid in index:
            raise ValueError(f"product ID {pid!r} would name two products; give the releases distinct release IDs")
        index[pid] = entry

    for product in products:
        for version in product.versions:
            put(product.version_id(version), ProductEntry(product, version, None))
        for revision in product.hardware_revisions:
            put(product.hardware_id(revision), ProductEntry(product, None, revision))
            for version in product.versions:
                put(f"{product.version_id(version)}-on-hw-{slug(revision)}", ProductEntry(product, version, revision))
    return index


# --- vulnerabilities ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CvssV3:
    """A CVSS v3.1 vector with its scores. The scores must be the ones the vector gives (checked with the `cvss`
    library); `from_vector` computes them."""

    vector: str
    base_score: float
    base_severity: str
    temporal_score: float | None = None
    environmental_score: float | None = None

    def __post_init__(self) -> None:
        if not self.vector.startswith("CVSS:3.1/"):
            raise ValueError(f"not a CVSS v3.1 vector: {self.vector!r}")
        try:
            cvss = CVSS3(self.vector)
        except CVSSError as exc:
            raise ValueError(f"invalid CVSS v3.1 vector {self.vector!r}: {exc}") from exc
        base, temporal, environmental = (float(s) for s in cvss.scores())
        if (
            float(self.base_score) != base
            or self.base_severity != cvss.severities()[0].upper()
            or (self.temporal_score is not None and float(self.temporal_score) != temporal)
            or (self.environmental_score is not None and float(self.environmental_score) != environmental)
        ):
            raise ValueError(f"scores do not match the vector {self.vector!r} (base {base}, temporal {temporal})")

    @classmethod
    def from_vector(cls, vector: str) -> CvssV3:
        try:
            cvss = CVSS3(vector)
        except CVSSError as exc:
            raise ValueError(f"invalid CVSS v3.1 vector {vector!r}: {exc}") from exc
        base, temporal, environmental = (float(s) for s in cvss.scores())
        metrics = set(cvss.original_metrics)
        has_temporal = bool(metrics & {"E", "RL", "RC"})
        has_env = bool(metrics & {"CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA"})
        return cls(
            vector=cvss.clean_vector(),
            base_score=base,
            base_severity=cvss.severities()[0].upper(),
            temporal_score=temporal if has_temporal else None,
            environmental_score=environmental if has_env else None,
        )

    def as_first_json(self) -> dict[str, object]:
        """The FIRST CVSS v3.1 JSON object: version, vectorString, every metric the vector sets, base score and
        severity, temporal/environmental scores when the vector has those metrics."""
        return dict(CVSS3(self.vector).as_json(minimal=True))


@dataclass(frozen=True)
class CvssV4:
    """A CVSS v4.0 vector and its score (CVSS-B, -BT, -BE or -BTE, whatever metrics the vector holds)."""

    vector: str
    score: float
    severity: str

    def __post_init__(self) -> None:
        if not self.vector.startswith("CVSS:4.0/"):
            raise ValueError(f"not a CVSS v4.0 vector: {self.vector!r}")
        try:
            cvss = CVSS4(self.vector)
        except CVSSError as exc:
            raise ValueError(f"invalid CVSS v4.0 vector {self.vector!r}: {exc}") from exc
        if float(self.score) != float(cvss.base_score) or self.severity != str(cvss.severity).upper():
            raise ValueError(f"score does not match the vector {self.vector!r} ({cvss.base_score})")

    @classmethod
    def from_vector(cls, vector: str) -> CvssV4:
        try:
            cvss = CVSS4(vector)
        except CVSSError as exc:
            raise ValueError(f"invalid CVSS v4.0 vector {vector!r}: {exc}") from exc
        return cls(vector=cvss.clean_vector(), score=float(cvss.base_score), severity=str(cvss.severity).upper())


@dataclass(frozen=True)
class Cwe:
    """A CWE weakness. An empty name means "the catalog name" (see `formats.csaf_validate.cwe_name`)."""

    id: str
    name: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"CWE-[1-9][0-9]*", self.id):
            raise ValueError(f"CWE id must look like 'CWE-79', got {self.id!r}")


@dataclass(frozen=True)
class VulnerabilityId:
    """A non-CVE identifier: CNVD-2026-01234 (system "CNVD"), CNNVD-202603-123 (system "CNNVD")."""

    system: str
    text: str

    def __post_init__(self) -> None:
        if not self.system.strip() or not self.text.strip():
            raise ValueError("vulnerability IDs need a system name and a value")
        if re.fullmatch(r"CVE-\d{4}-\d{4,}", self.text):
            raise ValueError("a CVE ID goes in Vulnerability.cve, not in ids")


@dataclass(frozen=True)
class Exploitation:
    """What is known about exploitation: none known, a public proof of concept, or active exploitation."""

    status: ExploitStatus = "none"
    date: datetime | None = None

    def __post_init__(self) -> None:
        if self.status not in EXPLOIT_STATUSES:
            raise ValueError(f"unknown exploitation status {self.status!r}")
        _require_aware(self.date, "exploitation date")


@dataclass(frozen=True)
class Remediation:
    """What a customer can do for the listed products (product IDs as given by `Product.status_ids`)."""

    category: RemediationCategory
    details: Text
    product_ids: tuple[str, ...]
    url: str = ""
    date: datetime | None = None

    def __post_init__(self) -> None:
        if self.category not in REMEDIATION_CATEGORIES:
            raise ValueError(f"unknown remediation category {self.category!r}")
        if not self.details:
            raise ValueError("a remediation needs details")
        if not self.product_ids:
            raise ValueError("a remediation must name the products it applies to")
        if self.url and not self.url.startswith(("https://", "http://")):
            raise ValueError(f"remediation URL must be http(s), got {self.url!r}")
        _require_aware(self.date, "remediation date")


@dataclass(frozen=True)
class ProductStatus:
    known_affected: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    first_fixed: tuple[str, ...] = ()
    known_not_affected: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (self.known_affected or self.fixed or self.first_fixed or self.known_not_affected):
            raise ValueError("a vulnerability needs at least one product status")
        affected = set(self.known_affected)
        fixed = set(self.fixed) | set(self.first_fixed)
        clash = (affected & fixed) | (affected & set(self.known_not_affected)) | (fixed & set(self.known_not_affected))
        if clash:
            raise ValueError(f"contradicting product status for {sorted(clash)}")

    def all_ids(self) -> tuple[str, ...]:
        return self.known_affected + self.first_fixed + self.fixed + self.known_not_affected


@dataclass(frozen=True)
class Vulnerability:
    """One vulnerability of the advisory. `cve` is None when no CVE was assigned (CNVD/CNNVD IDs go in `ids`)."""

    title: Text
    description: Text
    product_status: ProductStatus
    cve: str | None = None
    ids: tuple[VulnerabilityId, ...] = ()
    cwe: Cwe | None = None
    cvss_v3: CvssV3 | None = None
    cvss_v4: CvssV4 | None = None
    exploitation: Exploitation = field(default_factory=Exploitation)
    remediations: tuple[Remediation, ...] = ()
    references: tuple[Reference, ...] = ()
    acknowledgments: tuple[Acknowledgment, ...] = ()
    discovery_date: datetime | None = None
    release_date: datetime | None = None

    def __post_init__(self) -> None:
        if self.cve is not None and not re.fullmatch(r"CVE-\d{4}-\d{4,}", self.cve):
            raise ValueError(f"not a CVE ID: {self.cve!r}")
        if not self.title or not self.description:
            raise ValueError("a vulnerability needs a title and a description")
        _require_aware(self.discovery_date, "discovery date")
        _require_aware(self.release_date, "release date")
        known = set(self.product_status.all_ids())
        for remediation in self.remediations:
            unknown = set(remediation.product_ids) - known
            if unknown:
                raise ValueError(f"remediation names products without a status: {sorted(unknown)}")


# --- the advisory --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Advisory:
    """A published advisory revision: everything the CSAF document, the CVE records and the feeds say.

    `csaf_url` is the canonical https URL of the English CSAF document (its `self` reference, see
    `formats.csaf.csaf_document_url`); `csaf_translation_url` the URL of the zh-Hans translation when there is
    one; `page_url` the public HTML page."""

    tracking_id: str
    title: Text
    publisher: Publisher
    initial_release_date: datetime
    current_release_date: datetime
    revisions: tuple[Revision, ...]
    products: tuple[Product, ...]
    vulnerabilities: tuple[Vulnerability, ...]
    csaf_url: str
    page_url: str
    summary: Text = field(default_factory=Text)
    description: Text = field(default_factory=Text)
    impact: Text = field(default_factory=Text)
    workarounds: Text = field(default_factory=Text)
    legal_disclaimer: Text = field(default_factory=Text)
    status: DocumentStatus = "final"
    severity: str = ""  # aggregate severity shown on the page ("Critical", …); empty when not rated
    references: tuple[Reference, ...] = ()
    acknowledgments: tuple[Acknowledgment, ...] = ()
    csaf_translation_url: str = ""

    def __post_init__(self) -> None:
        if not self.tracking_id.strip() or self.tracking_id != self.tracking_id.strip():
            raise ValueError(f"bad tracking ID {self.tracking_id!r}")
        if not self.title:
            raise ValueError("an advisory needs an English title")
        if self.status not in ("final", "interim"):
            raise ValueError(f"a published advisory is final or interim, not {self.status!r}")
        if not self.revisions:
            raise ValueError("an advisory needs at least one revision")
        numbers = [r.number for r in self.revisions]
        if len(set(numbers)) != len(numbers):
            raise ValueError(f"duplicate revision numbers: {numbers}")
        _require_aware(self.initial_release_date, "initial release date")
        _require_aware(self.current_release_date, "current release date")
        if self.current_release_date < self.initial_release_date:
            raise ValueError("current release date is before the initial release date")
        for url in (self.csaf_url, self.csaf_translation_url):
            if url and not url.startswith("https://"):
                raise ValueError(f"CSAF URLs must be https, got {url!r}")
        if not self.page_url.startswith(("https://", "http://")):
            raise ValueError(f"page URL must be http(s), got {self.page_url!r}")
        if not self.vulnerabilities:
            raise ValueError("a security advisory needs at least one vulnerability")
        cves = [v.cve for v in self.vulnerabilities if v.cve]
        if len(set(cves)) != len(cves):
            raise ValueError(f"a CVE appears twice: {cves}")
        slugs = [p.slug for p in self.products]
        if len(set(slugs)) != len(slugs):
            raise ValueError(f"a product appears twice: {slugs}")

    @property
    def sorted_revisions(self) -> tuple[Revision, ...]:
        return tuple(sorted(self.revisions, key=lambda r: r.sort_key))

    @property
    def version(self) -> str:
        """The document version: the highest revision number."""
        return max(self.revisions, key=lambda r: tuple(int(p) for p in r.number.split("."))).number

    @property
    def has_chinese(self) -> bool:
        """Whether a zh-Hans translation document exists: the advisory has at least a Chinese title."""
        return bool(self.title.zh.strip())
