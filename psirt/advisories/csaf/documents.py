"""The bridge from advisory rows to `psirt.formats`: what a published (or withdrawn) advisory says, as the frozen
`formats.model.Advisory` every renderer takes, and the CSAF documents and CVE records rendered from it.

Choices (each is what CSAF consumers and CNAs need to diff revisions safely):

* **Products and versions.** One product per catalog product the advisory names; its versions are the public releases
  of the named variant(s) *up to and including the first fixed release*: earlier ones than the first affected release
  are `known_not_affected`, the affected range `known_affected`, the fix `first_fixed`. Releases published after the
  fix are left out, so that adding a release to the catalog does not change an already published document.
  Without a fix every public release from the first affected one on is listed as affected.
* **Vulnerabilities.** psirt keeps one score, one CWE and one text per advisory; an advisory naming several CVEs
  becomes one vulnerability per CVE, each with those facts, and one without CVE when it names none. CNVD, CNNVD and EUVD
  IDs are listed on each vulnerability (psirt does not record which CVE they belong to).
* **Remediations.** `vendor_fix` per fixed product (the release's download link), `no_fix_planned` for a product
  past its end of support without a fix, `none_available` otherwise; the workarounds text as `workaround`.
* **Page URL** is the language-neutral `/advisories/<ID>/` (it redirects to the visitor's language).

No rendering here touches the catalog beyond the rows one advisory names: three queries per advisory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from psirt.advisories.models import PUBLIC_STATES, Advisory, AdvisoryState, AffectedProduct
from psirt.catalog.models import FirmwareRelease, Product
from psirt.formats import model as fm
from psirt.formats.csaf import csaf_document_url, csaf_translation_url, render_csaf, render_csaf_translation
from psirt.formats.cve import render_cve_record
from psirt.lib.http import absolute_url
from psirt.organization.models import OrganizationProfile

WELL_KNOWN_CSAF = "/.well-known/csaf"
_NON_CVE_ID = re.compile(r"^(CNVD|CNNVD|EUVD)-")


class DocumentError(ValueError):
    """The advisory cannot be expressed as a machine-readable document; the message says what to change."""


def document_base_url() -> str:
    """The folder of the CSAF provider (`<PSIRT_BASE_URL>/.well-known/csaf`): distributions live below it."""
    return absolute_url(WELL_KNOWN_CSAF)


def page_url(advisory: Advisory) -> str:
    return absolute_url(f"/advisories/{advisory.advisory_id}/")


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)


def _day(value: dt.date | None) -> dt.datetime | None:
    """A catalog date (no time) as midnight UTC, the way CSAF and CVE want a date-time."""
    return None if value is None else dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


def _profile() -> OrganizationProfile:
    return OrganizationProfile.get()


def publisher(profile: OrganizationProfile | None = None) -> fm.Publisher:
    profile = profile if profile is not None else _profile()
    namespace = (profile.website or "").strip() or absolute_url("")
    return fm.Publisher(
        name=profile.name_en.strip() or "psirt",
        namespace=namespace,
        contact_details=f"{profile.security_email}",
        issuing_authority=(
            f"{profile.name_en.strip() or 'The vendor'} product security team, under its vulnerability disclosure "
            f"policy: {absolute_url('/en/policy/')}"
        ),
    )


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n]", text or "") if part.strip()]


@dataclass
class _ProductPlan:
    """What one catalog product contributes: its versions (catalog order, variants grouped) and their statuses."""

    product: Product
    versions: list[fm.Version]
    not_affected: list[fm.Version]
    affected: list[fm.Version]
    first_fixed: list[tuple[fm.Version, FirmwareRelease]]  # (version, release row) for the vendor_fix remediation
    unfixed: bool  # some affected range has no fix


def _release_version(release: FirmwareRelease, needs_id: set[int]) -> fm.Version:
    return fm.Version(
        version=release.version,
        variant=release.variant,
        release_id=str(release.public_id) if release.pk in needs_id else "",
    )


def _plan_products(rows: Iterable[AffectedProduct]) -> list[_ProductPlan]:
    by_product: dict[int, list[AffectedProduct]] = {}
    for row in rows:
        by_product.setdefault(row.product_id, []).append(row)
    plans = []
    for product_rows in by_product.values():
        product = product_rows[0].product
        releases = sorted((r for r in product.releases.all() if r.is_public), key=lambda r: (r.variant, r.position))
        chosen: list[tuple[FirmwareRelease, str]] = []  # (release, status)
        unfixed = False
        for row in sorted(product_rows, key=lambda r: r.variant):
            variant = [r for r in releases if r.variant == row.variant]
            low = row.introduced.position if row.introduced is not None else None
            high = row.fixed.position if row.fixed is not None else None
            unfixed = unfixed or high is None
            for release in variant:
                if high is not None and release.position > high:
                    continue
                if low is not None and release.position < low:
                    status = "not_affected"
                elif high is not None and release.position == high:
                    status = "first_fixed"
                else:
                    status = "affected"
                chosen.append((release, status))
        if not any(status == "affected" for _, status in chosen):
            continue  # nothing public is affected: the product says nothing to a customer
        # Two releases whose version texts slug alike ("5.5.0" and "5-5-0") would share a product ID.
        seen: dict[str, int] = {}
        clashes: set[int] = set()
        for release, _ in chosen:
            key = fm.Version(version=release.version, variant=release.variant).id_part
            if key in seen:
                clashes.update({seen[key], release.pk})
            seen[key] = release.pk
        plan = _ProductPlan(product=product, versions=[], not_affected=[], affected=[], first_fixed=[], unfixed=unfixed)
        for release, status in chosen:
            version = _release_version(release, clashes)
            plan.versions.append(version)
            if status == "not_affected":
                plan.not_affected.append(version)
            elif status == "affected":
                plan.affected.append(version)
            else:
                plan.first_fixed.append((version, release))
        plans.append(plan)
    return plans


def _ids(product: fm.Product, versions: Iterable[fm.Version]) -> tuple[str, ...]:
    return tuple(pid for version in versions for pid in product.status_ids(version))


def _identifiers(advisory: Advisory) -> tuple[list[str | None], tuple[fm.VulnerabilityId, ...]]:
    cves: list[str | None] = [i for i in advisory.identifier_list if i.startswith("CVE-")]
    others = tuple(
        fm.VulnerabilityId(system=m.group(1), text=i) for i in advisory.identifier_list if (m := _NON_CVE_ID.match(i))
    )
    return cves, others


def _remediations(advisory: Advisory, plans: list[tuple[_ProductPlan, fm.Product]]) -> tuple[fm.Remediation, ...]:
    out: list[fm.Remediation] = []
    today = timezone.now().date()
    for plan, product in plans:
        affected_ids = _ids(product, plan.affected)
        for _version, release in plan.first_fixed:
            # A fix names only the affected releases of its own variant: the EU build's update does not fix the
            # standard build.
            variant_ids = _ids(product, [v for v in plan.affected if v.variant == release.variant])
            if not variant_ids:
                continue
            out.append(
                fm.Remediation(
                    category="vendor_fix",
                    details=fm.Text(
                        f"Update {plan.product.name} to firmware {release.version}"
                        + (f" ({release.variant})" if release.variant else "")
                        + " or later.",
                        f"将 {plan.product.name} 固件升级到 {release.version}"
                        + (f"（{release.variant}）" if release.variant else "")
                        + " 或更高版本。",
                    ),
                    product_ids=variant_ids,
                    url=release.download_url,
                    date=_day(release.release_date),
                )
            )
        if plan.unfixed:
            eos = plan.product.end_of_support
            if eos is not None and eos < today:
                details = fm.Text(
                    f"{plan.product.name} reached its end of support on {eos.isoformat()}: no fix is planned. "
                    "Replace the device or apply the workarounds.",
                    f"{plan.product.name} 已于 {eos.isoformat()} 终止支持，不计划提供修复。"
                    "请更换设备或采用临时解决措施。",
                )
                out.append(fm.Remediation(category="no_fix_planned", details=details, product_ids=affected_ids))
            else:
                details = fm.Text(
                    "No fixed firmware is available yet; this advisory will be revised when it is.",
                    "目前尚无修复固件；修复固件发布后将更新本公告。",
                )
                out.append(fm.Remediation(category="none_available", details=details, product_ids=affected_ids))
    if advisory.workarounds_en.strip():
        all_affected = tuple(pid for plan, product in plans for pid in _ids(product, plan.affected))
        out.append(
            fm.Remediation(
                category="workaround",
                details=fm.Text(advisory.workarounds_en, advisory.workarounds_zh),
                product_ids=all_affected,
            )
        )
    return tuple(out)


def _cvss(advisory: Advisory) -> tuple[fm.CvssV3 | None, fm.CvssV4 | None]:
    v3 = fm.CvssV3.from_vector(advisory.cvss31_vector) if advisory.cvss31_vector else None
    v4 = fm.CvssV4.from_vector(advisory.cvss40_vector) if advisory.cvss40_vector else None
    return v3, v4


def advisory_queryset() -> QuerySet[Advisory]:
    """Public advisories with everything `to_model` reads, in three queries whatever their number."""
    return Advisory.objects.filter(state__in=PUBLIC_STATES).prefetch_related(
        "revisions",
        Prefetch(
            "affected",
            queryset=AffectedProduct.objects.select_related("product__line", "introduced", "fixed").prefetch_related(
                "product__releases"
            ),
        ),
    )


def to_model(advisory: Advisory) -> fm.Advisory:
    """The published advisory as the renderers see it. Raises DocumentError when it cannot be one (not public yet,
    no public release affected, …)."""
    if advisory.state not in PUBLIC_STATES or advisory.published_at is None:
        raise DocumentError(f"{advisory.advisory_id} is not published.")
    revisions = tuple(
        fm.Revision(
            number=str(r.number),
            date=_aware(r.date) or advisory.published_at,
            summary=fm.Text(r.summary_en, r.summary_zh),
        )
        for r in sorted(advisory.revisions.all(), key=lambda r: r.number)
    )
    if not revisions:
        raise DocumentError(f"{advisory.advisory_id} has no revision.")
    profile = _profile()  # once per advisory: it is a query
    profile_name = profile.name_en.strip() or "psirt"
    plans = _plan_products(advisory.affected.all())
    if not plans:
        raise DocumentError(
            "No public firmware release lies in the affected range of any product: add the affected products and "
            "releases (public ones) before publishing."
        )
    products: list[tuple[_ProductPlan, fm.Product]] = []
    for plan in plans:
        product = fm.Product(
            slug=plan.product.slug,
            name=plan.product.name,
            vendor=profile_name,
            versions=tuple(plan.versions),
            line=plan.product.line.name_en,
            model_numbers=tuple(plan.product.model_number_list),
            hardware_revisions=tuple(_split(plan.product.hardware_revisions)),
        )
        products.append((plan, product))
    status = fm.ProductStatus(
        known_affected=tuple(pid for plan, p in products for pid in _ids(p, plan.affected)),
        first_fixed=tuple(pid for plan, p in products for pid in _ids(p, [v for v, _ in plan.first_fixed])),
        known_not_affected=tuple(pid for plan, p in products for pid in _ids(p, plan.not_affected)),
    )
    published = _aware(advisory.published_at)
    assert published is not None
    current = max(r.date for r in revisions)
    cves, other_ids = _identifiers(advisory)
    v3, v4 = _cvss(advisory)
    cwe = fm.Cwe(id=f"CWE-{advisory.cwe_id}") if advisory.cwe_id else None
    acknowledgments = tuple(
        fm.Acknowledgment(names=(line.strip(),)) for line in advisory.credits_en.splitlines() if line.strip()
    )
    references = tuple(
        fm.Reference(url=url, summary=fm.Text(url)) for url in advisory.reference_list if url.startswith("http")
    )
    # The exploit-status threat is dated when the team became aware of the exploitation (from the cases).
    exploitation = fm.Exploitation(
        status=advisory.exploitation or "none",  # type: ignore[arg-type]
        date=_aware(advisory.exploitation_aware_at) if advisory.exploitation != "none" else None,
    )
    remediations = _remediations(advisory, products)
    description = fm.Text(
        advisory.description_en.strip() or advisory.summary_en.strip() or advisory.title_en,
        advisory.description_zh.strip() or advisory.summary_zh.strip(),
    )
    vulnerabilities = tuple(
        fm.Vulnerability(
            title=fm.Text(advisory.title_en, advisory.title_zh),
            description=description,
            product_status=status,
            cve=cve,
            ids=other_ids,
            cwe=cwe,
            cvss_v3=v3,
            cvss_v4=v4,
            exploitation=exploitation,
            remediations=remediations,
            acknowledgments=acknowledgments,
            release_date=published,
        )
        for cve in (cves or [None])
    )
    base = document_base_url()
    has_chinese = bool(advisory.title_zh.strip())
    return fm.Advisory(
        tracking_id=advisory.advisory_id,
        title=fm.Text(advisory.title_en, advisory.title_zh),
        publisher=publisher(profile),
        initial_release_date=published,
        current_release_date=max(current, published),
        revisions=revisions,
        products=tuple(p for _, p in products),
        vulnerabilities=vulnerabilities,
        csaf_url=_https(csaf_document_url(base, advisory.advisory_id, published)),
        csaf_translation_url=(
            _https(csaf_translation_url(base, advisory.advisory_id, published)) if has_chinese else ""
        ),
        page_url=page_url(advisory),
        summary=fm.Text(advisory.summary_en, advisory.summary_zh),
        description=fm.Text(advisory.description_en, advisory.description_zh),
        impact=fm.Text(advisory.impact_en, advisory.impact_zh),
        workarounds=fm.Text(advisory.workarounds_en, advisory.workarounds_zh),
        severity=advisory.severity,
        references=references,
        acknowledgments=acknowledgments,
    )


def _https(url: str) -> str:
    """CSAF requires https for the documents' own URLs; a dev server on http gets its https twin (the tree is
    meant to be served over TLS in production, where PSIRT_BASE_URL must be https anyway)."""
    return "https://" + url[len("http://") :] if url.startswith("http://") else url


def csaf_documents(advisory: Advisory) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The English CSAF 2.0 document of the advisory's current revision and its zh-Hans translation (or None).

    An advisory imported from a CSAF document of this publisher and not revised in psirt since is served as it was
    imported (psirt's rows hold less than a foreign document may say); everything else is rendered from the rows."""
    if (original := imported_document(advisory)) is not None:
        return original, None
    doc = to_model(advisory)
    return render_csaf(doc), render_csaf_translation(doc)


def cna_identity() -> tuple[str, str]:
    """(org ID, short name) for CVE records: PSIRT_CNA_ORG_ID / PSIRT_CNA_SHORT_NAME, else a stable placeholder
    org ID derived from the site address (a CNA replaces it with its own when it submits) and the vendor slug."""
    # The CVE schema wants a version-4 UUID: the placeholder is one, derived from the site address so it is stable.
    derived = uuid.UUID(bytes=hashlib.sha256(absolute_url("").encode()).digest()[:16], version=4)
    org_id = getattr(settings, "PSIRT_CNA_ORG_ID", "") or str(derived)
    short = getattr(settings, "PSIRT_CNA_SHORT_NAME", "") or (
        re.sub(r"[^a-z0-9_-]+", "-", _profile().name_en.lower()).strip("-")[:32] or "psirt"
    )
    if len(short) < 2:
        short = (short + "-cna")[:32]
    return org_id, short


def cve_records(advisory: Advisory) -> dict[str, dict[str, Any]]:
    """The CVE JSON 5 record of every CVE the advisory names, keyed by CVE ID (empty when it names none)."""
    doc = to_model(advisory)
    org_id, short = cna_identity()
    return {
        vuln.cve: render_cve_record(doc, vuln, cna_org_id=org_id, assigner_short_name=short)
        for vuln in doc.vulnerabilities
        if vuln.cve
    }


def revision_count(doc: dict[str, Any]) -> int:
    return len(doc["document"]["tracking"]["revision_history"])


def changed_since_import(advisory: Advisory) -> bool:
    """Whether an imported advisory was revised or withdrawn in psirt after its last import."""
    source = advisory.source_csaf
    if not isinstance(source, dict) or advisory.state != AdvisoryState.PUBLISHED:
        return True
    return len(advisory.revisions.all()) != revision_count(source)


def imported_document(advisory: Advisory) -> dict[str, Any] | None:
    """The stored original CSAF document when psirt should serve it as the advisory's CSAF: the advisory was
    imported, has not been revised in psirt since (its revisions are exactly the document's) and the document's
    publisher is this organization as psirt writes it (a trusted provider's documents and provider-metadata name the
    same publisher, CSAF requirement 7). None otherwise: then psirt renders the document from its rows, as for its
    own advisories. Uses the prefetched revisions when there are (`advisory_queryset`)."""
    source = advisory.source_csaf
    if not isinstance(source, dict) or changed_since_import(advisory):
        return None
    ours = publisher()
    theirs = source["document"]["publisher"]
    if (theirs.get("name"), theirs.get("namespace")) != (ours.name, ours.namespace):
        return None
    return source
