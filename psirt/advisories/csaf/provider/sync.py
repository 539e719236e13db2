"""The sync with the database: the documents of a public advisory, and `sync_provider`, the periodic repair that
brings the tree in line with the public advisories and the VEX documents of the components' public decisions."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import Max

from psirt.advisories.csaf.documents import DocumentError, advisory_queryset, csaf_documents
from psirt.advisories.csaf.provider.files import Changes, tree_lock
from psirt.advisories.csaf.provider.layout import JSON
from psirt.advisories.csaf.provider.listings import Entry
from psirt.advisories.csaf.provider.site_tree import open_tree, publisher_json, update_documents
from psirt.advisories.csaf.provider.tree import ProviderTree
from psirt.advisories.models import Advisory
from psirt.components.models import Vulnerability
from psirt.components.publication import csaf_vex_documents, published_vulnerabilities
from psirt.formats.csaf import csaf_filename
from psirt.formats.text import rfc3339

# One logger for the whole provider tree (the package name), so one log setting covers all its parts.
logger = logging.getLogger("psirt.advisories.csaf.provider")


def advisory_documents(advisory: Advisory) -> list[JSON]:
    """The documents the tree holds for a public advisory: English, then the translation when there is one."""
    english, translation = csaf_documents(advisory)
    return [english] if translation is None else [english, translation]


def update_after_commit(advisory: Advisory, documents: Sequence[JSON] | None = None) -> None:
    """Put the advisory's CSAF documents into the tree once the current transaction has committed: `documents`
    when the caller validated them inside its transaction, else those rendered from the committed advisory. A
    rolled-back change writes nothing. Best effort: a failed write is logged and left to the periodic
    `sync_csaf_provider` task, and the committed change stands."""
    pk, advisory_id = advisory.pk, advisory.advisory_id

    def write() -> None:
        try:
            docs = documents if documents is not None else advisory_documents(Advisory.objects.get(pk=pk))
            update_documents(docs)
        except Exception:  # never undo a committed change for the tree
            logger.exception(
                "CSAF provider tree not updated for %s; the sync_csaf_provider task will repair it", advisory_id
            )

    transaction.on_commit(write)


@dataclass
class SyncSummary:
    checked: int = 0
    rendered: int = 0
    failed: list[str] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)


def sync_provider(*, full: bool = False, root: Path | None = None) -> SyncSummary:
    """Bring the tree in line with the public advisories: render what is missing or stale, remove what is no longer
    public, regenerate the listings. The quick check (default) renders only advisories whose tree entry is missing
    or has another current_release_date; `full` renders every one and compares bytes (catches edits that change a
    document without a revision, e.g. the organisation's name)."""
    summary = SyncSummary()
    tree = open_tree(root)
    with tree_lock(tree.root):
        listed = None if full else tree.read_entries()
        on_disk = listed if listed is not None else tree.scan_entries()
        present = set(tree.document_paths())
        by_name: dict[str, list[Entry]] = {}
        for entry in on_disk.values():
            by_name.setdefault(entry.name, []).append(entry)
        key_changed = tree.key_changed()
        rows = advisory_queryset().annotate(last_revision=Max("revisions__date"))
        expected: set[str] = set()
        entries: dict[str, Entry] = {}
        for advisory in rows:
            summary.checked += 1
            known = by_name.get(csaf_filename(advisory.advisory_id), [])
            if not full and not key_changed and _looks_current(tree, advisory, advisory.last_revision, known, present):
                for entry in known:
                    expected.add(entry.path)
                    entries[entry.path] = entry
                continue
            try:
                docs = advisory_documents(advisory)
            except DocumentError as exc:
                # By design without a document (e.g. an imported VEX saying "not affected" for every release):
                # nothing to list, nothing to repair, no alarm on every run.
                logger.debug("CSAF tree: %s has no document: %s", advisory.advisory_id, exc)
                continue
            except Exception:
                logger.exception("CSAF tree: %s cannot be rendered; left as it is", advisory.advisory_id)
                summary.failed.append(advisory.advisory_id)
                for entry in known:  # keep what is there rather than drop a published advisory
                    expected.add(entry.path)
                    entries[entry.path] = entry
                continue
            summary.rendered += 1
            for doc in docs:
                entry = tree.put(doc)
                expected.add(entry.path)
                entries[entry.path] = entry
        for doc in vex_documents(summary):
            entry = tree.put(doc)
            expected.add(entry.path)
            entries[entry.path] = entry
        for rel in sorted(present - expected):
            logger.info("CSAF tree: removing %s (no public advisory has it)", rel)
            tree.remove_document(rel)
        publisher = publisher_json()
        tree.write_key()
        tree.write_listings(entries, publisher=publisher)
        tree.write_metadata(publisher)
    summary.changes = tree.changes
    return summary


def vex_documents(summary: SyncSummary | None = None) -> list[JSON]:
    """The CSAF VEX documents (and zh-Hans translations) of every vulnerability with a public decision
    (`psirt.components.publication`), validated there; one that fails is logged and counted, never written."""
    docs: list[JSON] = []
    for vulnerability in published_vulnerabilities():
        try:
            rendered = csaf_vex_documents(vulnerability)
        except Exception:
            logger.exception("CSAF tree: the VEX document of %s cannot be rendered", vulnerability.vuln_id)
            if summary is not None:
                summary.failed.append(vulnerability.vuln_id)
            continue
        if rendered:
            if summary is not None:
                summary.rendered += 1
            docs += rendered
    return docs


def update_vex_after_commit(vulnerability: Vulnerability) -> None:
    """Put the VEX document of `vulnerability` into the tree (called once decisions have committed). Best effort,
    like the advisories: a failure is logged and repaired by the periodic sync."""
    try:
        docs = csaf_vex_documents(vulnerability)
        if docs:
            update_documents(docs)
    except Exception:
        logger.exception("CSAF provider tree not updated for %s; the sync task will repair it", vulnerability.vuln_id)


def _looks_current(
    tree: ProviderTree, advisory: Advisory, last_revision: dt.datetime | None, known: list[Entry], present: set[str]
) -> bool:
    """Cheap check without rendering: the tree has this advisory's documents (and translation when it has Chinese
    text) with the current_release_date its revisions give (the newest is `last_revision`), and all companion
    files."""
    if not known or advisory.published_at is None:
        return False
    last = last_revision or advisory.published_at
    current = rfc3339(max(last, advisory.published_at))
    wants_translation = bool(advisory.title_zh.strip())
    if len(known) != (2 if wants_translation else 1):
        return False
    for entry in known:
        if entry.current != current or entry.path not in present:
            return False
        target = tree.tlp_dir / entry.path
        suffixes = (".sha256", ".sha512", ".asc") if tree.key is not None else (".sha256", ".sha512")
        if not all(target.with_name(target.name + s).exists() for s in suffixes):
            return False
    return True
