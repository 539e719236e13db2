"""The CSAF 2.0 trusted provider tree under `/.well-known/csaf/` (see docs/csaf-provider.md). Import from this
package: its names are the public interface."""

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
