"""The CSAF 2.0 trusted provider (CSAF section 7): the tree served under `/.well-known/csaf/`, kept on disk under
`PSIRT_VAR_DIR/csaf/`. The tree on disk is the state: no table mirrors it.

Layout (URLs relative to `<PSIRT_BASE_URL>/.well-known/csaf/`)::

    provider-metadata.json                  requirement 7 (and 9: the well-known URL)
    openpgp/<FINGERPRINT>.asc               requirement 20: the public signing key
    white/                                  the TLP:WHITE directory (directory_url), requirement 14 listings
    white/index.txt                         requirement 12: every document path, relative to white/
    white/changes.csv                       requirement 13: "path","current_release_date", newest first
    white/csaf-feed-tlp-white.json          requirement 15: the ROLIE feed (hash and signature links per entry)
    white/<YYYY>/<file>.json                requirements 2 and 11: filename rule, year of initial_release_date
    white/<YYYY>/<file>.json.sha256/.sha512 requirement 18
    white/<YYYY>/<file>.json.asc            requirement 19: detached signature of the exact bytes
    white/<YYYY>/zh-hans/<file>.json (+…)   the zh-Hans translation: same tracking ID, so same file name, so a
                                            folder of its own (see formats.csaf.csaf_translation_url)

Choices:

* **One step, only what changed.** Publishing, revising or withdrawing an advisory calls `update_documents` with
  its rendered documents: each file is compared byte for byte with what is on disk and written only when it
  differs (a signature only when its document changed, it is missing, or it is not by the current key).
  `index.txt`, `changes.csv`, the ROLIE feed and `provider-metadata.json` are regenerated from the tree's own
  state — the entries of the ROLIE feed already on disk, or a scan of the documents when the feed is missing or
  unreadable — never from a re-render of every advisory. Writes are atomic (temporary file, then
  `os.replace`), and one file lock serialises writers, so two publications at once cannot lose an entry.
* **Withdrawn advisories stay.** CSAF 2.0 has no "withdrawn" status (2.1 adds a `csaf_withdrawn` category). As
  CSAF publishers do, the document stays at its URL, in the listings and in the feed, with a final revision
  whose summary says "Withdrawn: <reason>" (the withdrawal service adds it) and a newer current_release_date,
  so every consumer that polls changes.csv or the feed sees the withdrawal. Deleting the file would leave
  mirrors and aggregators holding the last version that still reads as valid.
* **Translations are documents.** They are listed in index.txt, changes.csv and the feed (requirement 15: all
  documents of a TLP level in one feed), with the tracking ID as entry ID like their original.
* **Without a signing key** (production with no `PSIRT_SIGNING_KEY_FILE`; `check --deploy` warns) the tree has
  hashes but no `.asc`, and provider-metadata says `csaf_provider`: claiming `csaf_trusted_provider` without
  requirement 19 would be false. Signatures appear at the next sync once a key is configured.
* **Repair.** A write that fails after the publication committed is logged; the periodic task
  `sync_csaf_provider` (psirt.lib.schedule) compares every public advisory with the tree and rewrites what is
  missing or stale, and removes what is no longer public.
* No fsync per file: an export writes tens of thousands of files; a crash mid-write leaves the previous version
  (os.replace is atomic) and the next sync completes the rest.

Modules: `layout` (names, folders, document paths), `files` (the tree on disk: atomic writes, signatures on disk,
the writers' lock), `listings` (index.txt, changes.csv, the ROLIE feed), `tree` (`ProviderTree`: documents, key,
provider-metadata.json), `site_tree` (the site's tree: update, export, find), `sync` (the repair against the
database). Import from this package: its names are the public interface.
"""

from psirt.advisories.csaf.provider.files import Changes
from psirt.advisories.csaf.provider.layout import (
    CHANGES_NAME,
    COMPANIONS,
    CSAF_SCHEMA_URL,
    FEED_NAME,
    HASHES,
    INDEX_NAME,
    JSON,
    KEY_FOLDER,
    LOCK_NAME,
    METADATA_NAME,
    ROLIE_SCHEME,
    TLP_FOLDER,
    TLP_LABEL,
    ProviderError,
    document_path,
    is_document_path,
)
from psirt.advisories.csaf.provider.listings import Entry
from psirt.advisories.csaf.provider.site_tree import (
    ExportSummary,
    base_url,
    current_key,
    export_tree,
    find_document,
    open_tree,
    provider_root,
    publisher_json,
    update_documents,
)
from psirt.advisories.csaf.provider.sync import SyncSummary, advisory_documents, sync_provider, update_after_commit
from psirt.advisories.csaf.provider.tree import ProviderTree

__all__ = [
    "CHANGES_NAME",
    "COMPANIONS",
    "CSAF_SCHEMA_URL",
    "FEED_NAME",
    "HASHES",
    "INDEX_NAME",
    "JSON",
    "KEY_FOLDER",
    "LOCK_NAME",
    "METADATA_NAME",
    "ROLIE_SCHEME",
    "TLP_FOLDER",
    "TLP_LABEL",
    "Changes",
    "Entry",
    "ExportSummary",
    "ProviderError",
    "ProviderTree",
    "SyncSummary",
    "advisory_documents",
    "base_url",
    "current_key",
    "document_path",
    "export_tree",
    "find_document",
    "is_document_path",
    "open_tree",
    "provider_root",
    "publisher_json",
    "sync_provider",
    "update_after_commit",
    "update_documents",
]
