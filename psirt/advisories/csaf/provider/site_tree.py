"""The site's tree: where it lives, the key and publisher it is written with, and the locked entry points that
write it: `update_documents` after a publication, `export_tree` from scratch, `find_document` for the pages."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from psirt.advisories.csaf import documents
from psirt.advisories.csaf.provider.files import Changes, tree_lock
from psirt.advisories.csaf.provider.layout import JSON, TLP_FOLDER, YEAR_DIR, ProviderError, document_path
from psirt.advisories.csaf.provider.listings import Entry
from psirt.advisories.csaf.provider.tree import ProviderTree
from psirt.formats.csaf import TRANSLATION_LANG, csaf_filename
from psirt.lib.paths import shared_dir
from psirt.lib.signing import SigningKey, SigningUnavailable, signing_key

# One logger for the whole provider tree (the package name), so one log setting covers all its parts.
logger = logging.getLogger("psirt.advisories.csaf.provider")


def provider_root() -> Path:
    return shared_dir() / "csaf"


def base_url() -> str:
    return documents.document_base_url()


def current_key() -> SigningKey | None:
    try:
        return signing_key()
    except SigningUnavailable as exc:
        logger.warning("CSAF tree written without signatures: %s", exc)
        return None


def publisher_json() -> JSON:
    """The publisher object of the documents (psirt.advisories.csaf.documents.publisher), for provider-metadata.json:
    requirement 7 asks that the two match."""
    p = documents.publisher()
    out: JSON = {"category": "vendor", "name": p.name, "namespace": p.namespace}
    if p.contact_details:
        out["contact_details"] = p.contact_details
    if p.issuing_authority:
        out["issuing_authority"] = p.issuing_authority
    return out


def open_tree(root: Path | None = None) -> ProviderTree:
    return ProviderTree(root or provider_root(), base_url=base_url(), key=current_key())


def update_documents(docs: Sequence[JSON], *, root: Path | None = None, publisher: JSON | None = None) -> Changes:
    """Put `docs` (an advisory's English document and translation) into the tree and update the listings: edited
    around the documents' own lines when the listings are in this writer's shape, else regenerated from the tree's
    state. Rewrites only files whose bytes change. A changed signing key re-signs the whole tree."""
    tree = open_tree(root)
    with tree_lock(tree.root):
        publisher = publisher or publisher_json()
        if docs and not tree.key_changed() and _update_in_place(tree, docs, publisher):
            tree.write_key()
            tree.write_metadata(publisher)
            return tree.changes
        if tree.key_changed():
            logger.info("CSAF tree: the signing key changed; re-signing every document")
            entries = tree.scan_entries()
            for rel in entries:
                _resign(tree, rel)
            entries = tree.scan_entries()
        else:
            listed = tree.read_entries()
            entries = listed if listed is not None else tree.scan_entries()
        paths = {document_path(doc) for doc in docs}
        names = {path.rsplit("/", 1)[-1] for path in paths}
        for rel, entry in list(entries.items()):
            if entry.name in names and rel not in paths:  # e.g. a translation the revision dropped
                tree.remove_document(rel)
                del entries[rel]
        for doc in docs:
            entry = tree.put(doc)
            entries[entry.path] = entry
        tree.write_key()
        tree.write_listings(entries, publisher=publisher)
        tree.write_metadata(publisher)
    return tree.changes


def _update_in_place(tree: ProviderTree, docs: Sequence[JSON], publisher: JSON) -> bool:
    """The usual publication: put `docs` and edit the listings around their lines (`splice_listings`): the Python
    work does not depend on the size of the tree, only one copy of each listing does. The old entries are found
    from the documents on disk: the advisory's document and translation where `docs` go (a translation the
    revision dropped is removed). False when the listings must be regenerated whole (the documents are then in
    place already)."""
    paths = [document_path(doc) for doc in docs]
    candidates = set(paths)
    for path in paths:
        year, name = path.split("/", 1)[0], path.rsplit("/", 1)[-1]
        candidates |= {f"{year}/{name}", f"{year}/{TRANSLATION_LANG.lower()}/{name}"}
    old: dict[str, str] = {}
    for rel in sorted(candidates):
        try:
            data = (tree.tlp_dir / rel).read_bytes()
        except FileNotFoundError:
            continue
        except OSError:
            return False
        try:
            doc = json.loads(data)
            if document_path(doc) != rel:
                return False
            old[rel] = str(doc["document"]["tracking"]["current_release_date"])
        except (ValueError, KeyError, TypeError, ProviderError):
            return False
    entries = [tree.put(doc) for doc in docs]
    for rel in sorted(set(old) - set(paths)):
        tree.remove_document(rel)
    return tree.splice_listings(old, entries, publisher=publisher)


def _resign(tree: ProviderTree, rel: str) -> None:
    path = tree.tlp_dir / rel
    data = path.read_bytes()
    asc = path.with_name(path.name + ".asc")
    if tree.key is not None and not tree._signature_current(data, asc):
        tree._write(asc, tree.key.sign_detached(data).encode("ascii"), compare=False)


@dataclass
class ExportSummary:
    root: Path
    documents: int
    translations: int
    signed: bool
    fingerprint: str
    files: int


def export_tree(
    root: Path,
    docs: Iterable[JSON],
    *,
    base: str | None = None,
    key: SigningKey | None = None,
    publisher: JSON | None = None,
) -> ExportSummary:
    """Write a whole tree from scratch into `root` (an empty folder): the same writer as the live tree, without
    the comparisons a fresh folder does not need; each document file is created once, in place (nothing lists it
    before the listings, written last and atomically)."""
    tree = ProviderTree(root, base_url=base or base_url(), key=key)
    entries: dict[str, Entry] = {}
    translations = 0
    with tree_lock(tree.root):
        for doc in docs:
            path = document_path(doc)
            if path in entries:
                raise ProviderError(f"two documents want {path}: their tracking IDs differ only in case or signs")
            try:
                entry = tree.put(doc, fresh=True)
            except FileExistsError:
                raise ProviderError(f"{TLP_FOLDER}/{path} is already in {root}: export into an empty folder") from None
            entries[entry.path] = entry
            translations += entry.path.count("/") == 2
        publisher = publisher or publisher_json()
        tree.write_key()
        tree.write_listings(entries, publisher=publisher, fresh=True)
        tree.write_metadata(publisher)
    return ExportSummary(
        root=tree.root,
        documents=len(entries) - translations,
        translations=translations,
        signed=key is not None,
        fingerprint=key.fingerprint if key else "",
        files=len(tree.changes.written),
    )


def find_document(tracking_id: str, *, translation: bool = False, root: Path | None = None) -> str | None:
    """The path (relative to white/) of a tracking ID's document in the tree, or None. Looks in each year folder:
    a handful of stat calls, no listing read."""
    base = (root or provider_root()) / TLP_FOLDER
    name = csaf_filename(tracking_id)
    try:
        years = sorted((e.name for e in os.scandir(base) if YEAR_DIR.match(e.name)), reverse=True)
    except FileNotFoundError:
        return None
    for year in years:
        rel = f"{year}/zh-hans/{name}" if translation else f"{year}/{name}"
        if (base / rel).is_file():
            return rel
    return None
