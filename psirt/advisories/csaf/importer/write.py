"""Writing one planned advisory in one transaction with its audit record: its number, its fields, catalog rows and
revisions; imports serialised; the CSAF provider tree brought up to date after the commit."""

from __future__ import annotations

import logging
import re

from django.db import transaction
from django.http import HttpRequest

from psirt.accounts.models import User
from psirt.advisories.csaf.documents import changed_since_import
from psirt.advisories.csaf.importer.base import JSON, ImportResult, Outcome, Refused
from psirt.advisories.csaf.importer.catalog import affected_rows_for, catalog_for
from psirt.advisories.csaf.importer.parse import ImportPlan
from psirt.advisories.csaf.importer.stored import is_newer
from psirt.advisories.csaf.provider import sync_provider, update_after_commit
from psirt.advisories.models import SEQUENCE_SCOPE, Advisory, AdvisoryState, AffectedProduct, Revision
from psirt.audit.services import record
from psirt.counters.services.sequences import move_past, next_in_year
from psirt.organization.models import OrganizationProfile

# One logger for the whole importer (the package name), so one log setting covers all its parts.
logger = logging.getLogger("psirt.advisories.csaf.importer")

_OWN_ID = re.compile(r"^(?P<prefix>[A-Za-z0-9]+)-SA-(?P<year>\d{4})-(?P<number>\d{3,9})$")


def _reserve_number(tracking_id: str, year: int) -> tuple[int, int]:
    """(year, number) of an imported advisory. An ID of psirt's shape takes its own year and number when free and
    moves that year's sequence past it, so psirt never issues the same number; otherwise the next number."""
    match = _OWN_ID.match(tracking_id)
    if match:
        own_year, number = int(match["year"]), int(match["number"])
        taken = Advisory.objects.filter(year=own_year, number=number).exists()
        if 1990 <= own_year <= 9999 and not taken and number <= 2_000_000_000:
            move_past(SEQUENCE_SCOPE, own_year, number)
            return own_year, number
        if 1990 <= own_year <= 9999:
            return own_year, next_in_year(SEQUENCE_SCOPE, own_year)
    return year, next_in_year(SEQUENCE_SCOPE, year)


def sync_tree() -> None:
    """After a batch of imports: one pass over the provider tree instead of one listing rewrite per document."""
    try:
        summary = sync_provider()
    except Exception as exc:  # the imports stand; the periodic sync repairs the tree
        logger.warning("CSAF tree not synchronised after the import: %s", type(exc).__name__)
        return
    if summary.failed:
        logger.warning("CSAF tree: %d advisories could not be rendered: %s", len(summary.failed), summary.failed[:20])


def serialise_imports() -> None:
    """One import writes at a time: two documents of a new vendor imported at once must not create two product lines
    of one name, nor two imports of one tracking ID race. The lock is the organization profile's row (the catalog
    and the advisories being written are that organization's), held until the import's transaction ends; imports
    are rare and take milliseconds, so nothing else waits noticeably."""
    OrganizationProfile.get()
    list(OrganizationProfile.objects.select_for_update().filter(id=1).values_list("id", flat=True))


def write_plan(
    plan: ImportPlan, document: JSON, *, actor: User | None, request: HttpRequest | None, source: str, write_tree: bool
) -> ImportResult:
    with transaction.atomic():
        serialise_imports()
        existing = Advisory.objects.select_for_update().filter(advisory_id=plan.tracking_id).first()
        if existing is not None:
            if existing.source_csaf is None:
                raise Refused(f"{plan.tracking_id} is an advisory written in psirt; an import does not overwrite it")
            if existing.source_csaf == document:
                return ImportResult(source, "unchanged", plan.tracking_id)
            if changed_since_import(existing):
                raise Refused(f"{plan.tracking_id} has been revised (or withdrawn) in psirt since its import")
            if not is_newer(document, existing.source_csaf):
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
        catalog = catalog_for(plan)
        AffectedProduct.objects.filter(advisory=advisory).delete()
        rows = affected_rows_for(plan, catalog)
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
            update_after_commit(advisory)
    messages = [f"version {plan.version}", f"{added} revisions added", f"{len(rows)} affected products"]
    messages += [f"not kept in the fields (still in the stored document): {d}" for d in plan.dropped]
    return ImportResult(source, outcome, plan.tracking_id, tuple(messages))
