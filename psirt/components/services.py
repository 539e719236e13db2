"""Every change to SBOMs, vulnerability data and VEX decisions: keyword-only, checked, audited in the same
transaction.

Matching is incremental by construction: matches are stored per component version (`VulnerabilityMatch`), so a new
SBOM matches only the component versions it adds to the store, and a new or changed vulnerability record matches
only the stored versions of the packages it names. Nothing here walks the whole catalog."""

from __future__ import annotations

import datetime
import hashlib
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.db import connections, router, transaction
from django.db.models import Model, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.audit.services import record
from psirt.cases.models import Case
from psirt.cases.services.cases import open_team_case
from psirt.cases.services.remediation import set_affected_range
from psirt.catalog.models import FirmwareRelease
from psirt.components.access import can_decide, can_upload_sbom
from psirt.components.exceptions import InvalidDecision, NotAllowed, RetentionNotOver
from psirt.components.matching import AffectedRanges, version_key
from psirt.components.models import (
    AffectedPackage,
    Component,
    ComponentVersion,
    Justification,
    ReleaseComponent,
    SbomDocument,
    VexDecision,
    VexStatus,
    Vulnerability,
    VulnerabilityAlias,
    VulnerabilityMatch,
)
from psirt.components.sbom import ComponentRef, parse_sbom
from psirt.components.signals import vex_decided
from psirt.components.vulndata import VulnRecord
from psirt.lib.access import is_lead
from psirt.lib.bulk import column_name, insert_rows, insert_rows_returning

# CRA Art. 13: the SBOM is part of the technical documentation, kept ten years after the product is placed on the
# market or for the support period, whichever is longer; we count from the end of support.
RETENTION_YEARS = 10
MAX_STATEMENT = 4000
BATCH = 1000


def _key(purl_type: str, namespace: str, name: str) -> tuple[str, str, str]:
    # Generic (C) packages match by name alone: upstream data and SBOM generators disagree on their namespace.
    return (purl_type, "" if purl_type == "generic" else namespace, name)


# ---------------------------------------------------------------- SBOMs


def import_sbom(
    *,
    release: FirmwareRelease,
    data: bytes,
    actor: User | None,
    filename: str = "",
    request: HttpRequest | None = None,
) -> SbomDocument:
    """Parse and store an SBOM as the current one of `release`: the bytes as uploaded, the component versions it
    lists (shared with other releases), the release's links replaced by the new list, and matches for the
    component versions new to the store. One transaction: a bad file or a failure stores nothing. `actor` None
    is the command line, run by the operator."""
    if actor is not None and not can_upload_sbom(actor, release):
        raise NotAllowed(_("Only leads and handlers of this product line can upload an SBOM."))
    parsed = parse_sbom(data)
    with transaction.atomic():
        document = SbomDocument.objects.create(
            release=release,
            format=parsed.format,
            spec_version=parsed.spec_version,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            content=zlib.compress(data, 6),
            filename=filename[:255],
            component_count=len(parsed.components),
            uploaded_by=actor,
        )
        version_ids, new_ids = store_component_versions(parsed.components)
        linked = set(ReleaseComponent.objects.filter(release=release).values_list("component_version_id", flat=True))
        stale = linked.difference(version_ids)
        if stale:
            ReleaseComponent.objects.filter(release=release, component_version_id__in=stale).delete()
        insert_rows(
            ReleaseComponent,
            ("release", "component_version"),
            [(release.pk, v) for v in version_ids if v not in linked],
        )
        match_component_versions(new_ids)
        record(
            action="components.sbom_imported",
            actor=actor,
            request=request,
            target=release,
            data={
                "sbom": str(document.public_id),
                "format": f"{parsed.format} {parsed.spec_version}",
                "sha256": document.sha256,
                "components": len(parsed.components),
            },
        )
    return document


def store_component_versions(refs: Sequence[ComponentRef]) -> tuple[list[int], list[int]]:
    """The ids of the component versions `refs` name, creating missing ones; and the ids of those created."""
    keys = {(r.purl_type, r.namespace, r.name) for r in refs}
    components = _components(keys)
    missing = [k for k in keys if k not in components]
    if missing:
        insert_rows(Component, ("purl_type", "namespace", "name"), missing)
        components = _components(keys)
    wanted = {(components[(r.purl_type, r.namespace, r.name)], r.version) for r in refs}
    existing = _versions(wanted)
    new = [(c, v) for c, v in wanted if (c, v) not in existing]
    created = {
        (c, v): pk
        for pk, c, v in insert_rows_returning(
            ComponentVersion, ("component", "version"), new, returning=("id", "component", "version")
        )
    }
    if len(created) < len(new):  # some stored meanwhile by a concurrent import: theirs, and matched by it
        existing = _versions(wanted)
    everything = {**existing, **created}
    return list(everything.values()), list(created.values())


def _components(keys: set[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
    return cast(dict[tuple[str, str, str], int], _ids_by(Component, ("purl_type", "namespace", "name"), keys))


def _versions(wanted: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    return cast(dict[tuple[int, str], int], _ids_by(ComponentVersion, ("component", "version"), wanted))


def _ids_by(model: type[Model], fields: Sequence[str], keys: Iterable[tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
    """The ids of the stored rows whose `fields` (those of a unique constraint) equal one of `keys`, asked as
    tuples (`(a, b) IN (VALUES …)`, which both engines answer with one index probe a key; an IN list per column
    would probe every combination of them)."""
    found: dict[tuple[Any, ...], int] = {}
    ordered = sorted(keys)
    database = connections[router.db_for_read(model)]
    meta = model._meta
    columns = ", ".join(database.ops.quote_name(column_name(model, name)) for name in fields)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = 900 // len(fields)  # within SQLite's 999 parameters
    with database.cursor() as cursor:
        for start in range(0, len(ordered), per_statement):
            chunk = ordered[start : start + per_statement]
            cursor.execute(
                f"SELECT {columns}, {database.ops.quote_name(str(meta.pk.column))} "  # noqa: S608 — names from the model, values bound
                f"FROM {database.ops.quote_name(meta.db_table)} "
                f"WHERE ({columns}) IN (VALUES {', '.join([placeholder] * len(chunk))})",
                [value for key in chunk for value in key],
            )
            found.update((tuple(row[:-1]), row[-1]) for row in cursor.fetchall())
    return found


def retention_ends(release: FirmwareRelease) -> datetime.date | None:
    """The first day an SBOM of `release` may be deleted; None while the product's end of support is unknown
    (then it is kept)."""
    end = release.product.end_of_support
    if end is None:
        return None
    try:
        return end.replace(year=end.year + RETENTION_YEARS) + datetime.timedelta(days=1)
    except ValueError:  # 29 February
        return end.replace(year=end.year + RETENTION_YEARS, day=28) + datetime.timedelta(days=1)


def delete_sbom(
    *, document: SbomDocument, actor: User, today: datetime.date | None = None, request: HttpRequest | None = None
) -> None:
    """Delete a stored SBOM once its retention is over (a lead only). Before: RetentionNotOver."""
    if not is_lead(actor):
        raise NotAllowed(_("Only a lead can delete an SBOM."))
    today = today or timezone.localdate()
    ends = retention_ends(document.release)
    if ends is None:
        raise RetentionNotOver(
            _("This SBOM is kept until %(years)s years after the end of support, which is not set for this product.")
            % {"years": RETENTION_YEARS}
        )
    if today < ends:
        raise RetentionNotOver(
            _("This SBOM must be kept until %(date)s (end of support plus %(years)s years).")
            % {"date": (ends - datetime.timedelta(days=1)).isoformat(), "years": RETENTION_YEARS}
        )
    with transaction.atomic():
        record(
            action="components.sbom_deleted",
            actor=actor,
            request=request,
            target=document.release,
            data={"sbom": str(document.public_id), "sha256": document.sha256},
        )
        document.delete()


def sbom_bytes(document: SbomDocument) -> bytes:
    return zlib.decompress(bytes(document.content))


# ---------------------------------------------------------------- matching


def match_component_versions(version_ids: Iterable[int]) -> int:
    """Match these component versions against every stored affected package of their components; returns the
    number of matches added."""
    ids = list(version_ids)
    added = 0
    for start in range(0, len(ids), BATCH):
        rows = list(
            ComponentVersion.objects.filter(pk__in=ids[start : start + BATCH]).values_list(
                "pk", "version", "component__purl_type", "component__namespace", "component__name"
            )
        )
        by_key: dict[tuple[str, str, str], list[tuple[int, str]]] = defaultdict(list)
        for pk, version, t, ns, n in rows:
            by_key[_key(t, ns, n)].append((pk, version))
        names = sorted({k[2] for k in by_key})
        matches: list[tuple[int, int]] = []
        for vulnerability_id, t, ns, n, events, versions in AffectedPackage.objects.filter(name__in=names).values_list(
            "vulnerability_id", "purl_type", "namespace", "name", "events", "versions"
        ):
            candidates = by_key.get(_key(t, ns, n))
            if not candidates:
                continue
            ranges = AffectedRanges(t, n, events, versions)
            matches += [(vulnerability_id, pk) for pk, version in candidates if ranges.contains(version)]
        insert_rows(VulnerabilityMatch, ("vulnerability", "component_version"), matches)
        added += len(matches)
    return added


@dataclass(frozen=True)
class _Package:
    """An affected package about to be matched: the vulnerability's id and its ranges."""

    vulnerability_id: int
    purl_type: str
    namespace: str
    name: str
    events: list[dict[str, str]]
    versions: list[str]


class StoredVersions:
    """The stored versions of components, read once per component during one import and kept with their sort
    keys: a large import names the same packages again and again (every batch of records about OpenSSL), and
    reading and keying their versions once per batch cost more than the matching itself. Lives for one import
    (one transaction): new SBOMs match themselves against the stored records (`match_component_versions`)."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str, str], list[tuple[int, str, Any]]] = {}

    def of(self, keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], list[tuple[int, str, Any]]]:
        """(id, version, sort key) of each stored version of each component named by `keys` (`_key` form)."""
        wanted = set(keys)
        missing = wanted - self._known.keys()
        if missing:
            for key in missing:
                self._known[key] = []
            names = sorted({k[2] for k in missing})
            types = sorted({k[0] for k in missing})
            for start in range(0, len(names), BATCH):
                for pk, version, t, ns, n in ComponentVersion.objects.filter(
                    component__purl_type__in=types, component__name__in=names[start : start + BATCH]
                ).values_list("pk", "version", "component__purl_type", "component__namespace", "component__name"):
                    key = _key(t, ns, n)
                    if key in missing:
                        self._known[key].append((pk, version, version_key(t, n, version)))
        return {k: self._known[k] for k in wanted}


def _match_packages(packages: Sequence[_Package], stored_versions: StoredVersions | None = None) -> int:
    """Match affected packages (of new or changed records, whose old matches are gone) against the stored
    versions of the components they name: one query for the versions of the components not read yet in this
    import, then in memory. Returns the number of matches added. Never reads the release links: the catalog's
    size does not matter."""
    by_key: dict[tuple[str, str, str], list[_Package]] = defaultdict(list)
    for package in packages:
        by_key[_key(package.purl_type, package.namespace, package.name)].append(package)
    if not by_key:
        return 0
    versions = (stored_versions or StoredVersions()).of(by_key)
    matches: list[tuple[int, int]] = []
    for key, listed in by_key.items():
        stored = versions[key]
        if not stored:
            continue
        for package in listed:
            ranges = AffectedRanges(package.purl_type, package.name, package.events, package.versions)
            matches += [
                (package.vulnerability_id, pk) for pk, version, sort_key in stored if ranges.contains(version, sort_key)
            ]
    insert_rows(VulnerabilityMatch, ("vulnerability", "component_version"), matches)
    return len(matches)


def match_vulnerability(vulnerability: Vulnerability) -> int:
    """(Re)match one vulnerability against the stored versions of the packages it names."""
    VulnerabilityMatch.objects.filter(vulnerability=vulnerability).delete()
    return _match_packages(
        [
            _Package(p.vulnerability_id, p.purl_type, p.namespace, p.name, p.events, p.versions)
            for p in vulnerability.packages.all()
        ]
    )


@dataclass
class ImportStats:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    matches: int = 0


# Records stored per round of queries: each round costs about ten queries whatever its size.
IMPORT_BATCH = 500


def import_vulnerabilities(*, records: Iterable[VulnRecord], actor: User | None = None) -> ImportStats:
    """Store vulnerability records; a record whose normalised content is already stored is left alone (so a
    re-import changes nothing), a changed one replaces its packages and is re-matched. Records are stored in
    batches (`IMPORT_BATCH`) with a fixed number of queries per batch, not per record; a record repeated in the
    input is stored in input order (the last one wins). One transaction, audited once per run."""
    stats = ImportStats()
    with transaction.atomic():
        batch: dict[str, VulnRecord] = {}
        stored_versions = StoredVersions()
        for item in records:
            if item.vuln_id in batch or len(batch) >= IMPORT_BATCH:
                _store_batch(list(batch.values()), stats, stored_versions)
                batch = {}
            batch[item.vuln_id] = item
        _store_batch(list(batch.values()), stats, stored_versions)
        if stats.created or stats.updated:
            record(
                action="components.vulnerabilities_imported",
                actor=actor,
                target_type="vulnerability",
                data={"created": stats.created, "updated": stats.updated, "unchanged": stats.unchanged},
            )
    return stats


def _store_batch(items: list[VulnRecord], stats: ImportStats, stored_versions: StoredVersions) -> None:
    """Store records with distinct IDs: one query to find the stored hashes, then bulk writes and one matching
    pass for the new and changed ones."""
    if not items:
        return
    digests = {item.vuln_id: item.content_hash for item in items}
    stored = {
        vuln_id: (pk, digest)
        for vuln_id, pk, digest in Vulnerability.objects.filter(vuln_id__in=list(digests)).values_list(
            "vuln_id", "pk", "content_hash"
        )
    }
    new = [item for item in items if item.vuln_id not in stored]
    changed = [item for item in items if item.vuln_id in stored and stored[item.vuln_id][1] != digests[item.vuln_id]]
    stats.unchanged += len(items) - len(new) - len(changed)
    if not new and not changed:
        return
    ids: dict[str, int] = {}
    if changed:
        now = timezone.now()
        ids.update({item.vuln_id: stored[item.vuln_id][0] for item in changed})
        Vulnerability.objects.bulk_update(
            [
                Vulnerability(
                    pk=ids[item.vuln_id],
                    aliases=list(item.aliases),
                    summary=item.summary,
                    source=item.source,
                    content_hash=digests[item.vuln_id],
                    imported_at=now,
                )
                for item in changed
            ],
            ["aliases", "summary", "source", "content_hash", "imported_at"],
            batch_size=BATCH,
        )
        changed_ids = list(ids.values())
        AffectedPackage.objects.filter(vulnerability_id__in=changed_ids).delete()
        VulnerabilityAlias.objects.filter(vulnerability_id__in=changed_ids).delete()
        VulnerabilityMatch.objects.filter(vulnerability_id__in=changed_ids).delete()
        stats.updated += len(changed)
    if new:
        now = timezone.now()
        inserted = insert_rows_returning(
            Vulnerability,
            ("vuln_id", "aliases", "summary", "source", "content_hash", "imported_at"),
            [(item.vuln_id, list(item.aliases), item.summary, item.source, digests[item.vuln_id], now) for item in new],
            returning=("vuln_id", "id"),
        )
        ids.update((vuln_id, pk) for vuln_id, pk in inserted)
        if len(inserted) < len(new):  # stored meanwhile by a concurrent import: its row is the one to extend
            late = [item.vuln_id for item in new if item.vuln_id not in ids]
            ids.update(Vulnerability.objects.filter(vuln_id__in=late).values_list("vuln_id", "pk"))
        stats.created += len(new)
    written = [*changed, *new]
    insert_rows(
        VulnerabilityAlias,
        ("vulnerability", "alias"),
        [
            (ids[item.vuln_id], alias)
            for item in written
            for alias in sorted({a.upper() for a in (item.vuln_id, *item.aliases)})
        ],
    )
    packages = [
        _Package(ids[item.vuln_id], p.purl_type, p.namespace, p.name, [dict(e) for e in p.events], list(p.versions))
        for item in written
        for p in item.packages
    ]
    insert_rows(
        AffectedPackage,
        ("vulnerability", "purl_type", "namespace", "name", "events", "versions"),
        [(p.vulnerability_id, p.purl_type, p.namespace, p.name, p.events, p.versions) for p in packages],
    )
    stats.matches += _match_packages(packages, stored_versions)


# ---------------------------------------------------------------- decisions


def decide(
    *,
    releases: Sequence[FirmwareRelease],
    vulnerability: Vulnerability,
    status: str,
    actor: User,
    justification: str = "",
    impact_statement: str = "",
    action_statement: str = "",
    impact_statement_zh: str = "",
    action_statement_zh: str = "",
    fixed_in: FirmwareRelease | None = None,
    case: Case | None = None,
    maintainer_notified_at: datetime.date | None = None,
    maintainer_notice: str = "",
    open_case: bool = False,
    request: HttpRequest | None = None,
) -> list[VexDecision]:
    """Record one decision for each release (a product range or a whole line at once). Each is a new row — the
    previous decision stays as history. The statements are in English, each with an optional Chinese translation
    (`*_zh`). Refuses the whole set when one release may not be decided by `actor`.
    `open_case` (affected only, instead of linking `case`): open a new case for the fix in the same transaction
    (`open_case_for`), linked to every decision."""
    impact_statement, action_statement = impact_statement.strip(), action_statement.strip()
    impact_statement_zh, action_statement_zh = impact_statement_zh.strip(), action_statement_zh.strip()
    maintainer_notice = maintainer_notice.strip()
    if status not in VexStatus.values:
        raise InvalidDecision(_("Choose a VEX status."))
    if not releases:
        raise InvalidDecision(_("Choose at least one release."))
    statements = (impact_statement, action_statement, impact_statement_zh, action_statement_zh)
    if any(len(text) > MAX_STATEMENT for text in statements) or len(maintainer_notice) > 500:
        raise InvalidDecision(_("A statement can be at most %(n)s characters.") % {"n": MAX_STATEMENT})
    if status == VexStatus.NOT_AFFECTED:
        if justification not in Justification.values:
            raise InvalidDecision(_("Not affected needs one of the standard justifications."))
        if not impact_statement:
            raise InvalidDecision(_("Not affected needs an impact statement saying why."))
    elif justification:
        raise InvalidDecision(_("A justification belongs only to a not affected decision."))
    if status == VexStatus.AFFECTED and not action_statement:
        raise InvalidDecision(_("Affected needs an action statement: what customers should do."))
    if impact_statement_zh and not impact_statement:
        raise InvalidDecision(_("A Chinese impact statement translates the English one: give the English one too."))
    if action_statement_zh and not action_statement:
        raise InvalidDecision(_("A Chinese action statement translates the English one: give the English one too."))
    if status != VexStatus.FIXED and fixed_in is not None:
        raise InvalidDecision(_("Only a fixed decision names the release with the fix."))
    if open_case and status != VexStatus.AFFECTED:
        raise InvalidDecision(_("A new case is opened only for an affected decision."))
    if open_case and case is not None:
        raise InvalidDecision(_("Either link an existing case or open a new one, not both."))
    if maintainer_notified_at is not None and maintainer_notified_at > timezone.localdate():
        raise InvalidDecision(_("The maintainer cannot have been notified in the future."))
    for release in releases:
        if not can_decide(actor, release):
            raise NotAllowed(_("You cannot decide for %(release)s.") % {"release": str(release)})
        if fixed_in is not None and (fixed_in.product_id != release.product_id or fixed_in.position > release.position):
            raise InvalidDecision(
                _(
                    "%(release)s cannot be fixed by %(fix)s: the fix must be this release or an earlier one of the "
                    "same product."
                )
                % {"release": str(release), "fix": str(fixed_in)}
            )
    with transaction.atomic():
        if open_case:
            case = open_case_for(releases=releases, vulnerability=vulnerability, actor=actor, request=request)
        decisions = [
            VexDecision.objects.create(
                release=release,
                vulnerability=vulnerability,
                status=status,
                justification=justification,
                impact_statement=impact_statement,
                action_statement=action_statement,
                impact_statement_zh=impact_statement_zh,
                action_statement_zh=action_statement_zh,
                # Fixed without a named release: this release itself contains the fix.
                fixed_in=(fixed_in or release) if status == VexStatus.FIXED else None,
                case=case,
                maintainer_notified_at=maintainer_notified_at,
                maintainer_notice=maintainer_notice,
                decided_by=actor,
            )
            for release in releases
        ]
        for decision in decisions:
            record(
                action="components.vex_decided",
                actor=actor,
                request=request,
                target=decision.release,
                data={
                    "vulnerability": vulnerability.vuln_id,
                    "status": status,
                    "justification": justification,
                    "maintainer_notified": maintainer_notified_at.isoformat() if maintainer_notified_at else "",
                    "case": case.key if case is not None else "",
                },
            )
        transaction.on_commit(lambda: vex_decided.send(sender=VexDecision, vulnerability=vulnerability))
    return decisions


def open_case_for(
    *,
    releases: Sequence[FirmwareRelease],
    vulnerability: Vulnerability,
    actor: User,
    request: HttpRequest | None = None,
) -> Case:
    """A new case for the fix of `vulnerability` in `releases`, prefilled: its title names the vulnerability (and
    its CVE) and the matching component versions; its product is theirs when they share one; an affected range per
    product and variant from the oldest of the releases, without a fix yet. Audited by the cases app
    (`case.opened`, source `components`)."""
    ids = [r.pk for r in releases]
    components = sorted(
        {
            f"{name} {version}"
            for name, version in ComponentVersion.objects.filter(
                release_links__release_id__in=ids, matches__vulnerability=vulnerability
            ).values_list("component__name", "version")
        }
    )
    label = vulnerability.vuln_id
    cves = [c for c in vulnerability.cve_ids if c.upper() != label.upper()]
    if cves:
        label += f" ({cves[0]})"
    title = _("%(vulnerability)s in %(components)s") % {
        "vulnerability": label,
        "components": ", ".join(components[:5]) + (" …" if len(components) > 5 else "")
        if components
        else _("a third-party component"),
    }
    products = {r.product_id: r.product for r in releases}
    case = open_team_case(
        title=title[:200],
        actor=actor,
        product=next(iter(products.values())) if len(products) == 1 else None,
        source=f"components:{vulnerability.vuln_id}",
        request=request,
    )
    oldest: dict[tuple[int, str], FirmwareRelease] = {}
    for release in releases:
        key = (release.product_id, release.variant)
        if key not in oldest or release.position < oldest[key].position:
            oldest[key] = release
    for (product_id, variant), first in sorted(oldest.items(), key=lambda item: (item[0][0], item[0][1])):
        set_affected_range(
            case=case, product=products[product_id], variant=variant, introduced=first, actor=actor, request=request
        )
    return case


def releases_in_range(*, first: FirmwareRelease, last: FirmwareRelease) -> list[FirmwareRelease]:
    """The releases of one product (and variant) from `first` to `last` in catalog order, both included."""
    if first.product_id != last.product_id or first.variant != last.variant:
        raise InvalidDecision(_("A range runs within one product and variant."))
    low, high = sorted((first.position, last.position))
    return list(
        FirmwareRelease.objects.filter(
            Q(product_id=first.product_id) & Q(variant=first.variant) & Q(position__gte=low) & Q(position__lte=high)
        ).order_by("position")
    )
