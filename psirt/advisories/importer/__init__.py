"""CSAF 2.0 import, `psirt import-csaf FILE_OR_DIR…` (see docs/csaf-provider.md). Import from this package: its
names are the public interface."""

from psirt.advisories.importer.base import JSON, ImportResult, Outcome, Refused, shown
from psirt.advisories.importer.catalog import POSITION_STEP
from psirt.advisories.importer.core import import_csaf, import_paths
from psirt.advisories.importer.files import MAX_BYTES, MAX_FILES, iter_files, read_document
from psirt.advisories.importer.parse import IMPORTABLE, MAX_ID, MAX_LIST, MAX_SUMMARY, MAX_TITLE, parse
from psirt.advisories.importer.stored import imported_document
from psirt.advisories.importer.write import logger, sync_tree

__all__ = [
    "IMPORTABLE",
    "JSON",
    "MAX_BYTES",
    "MAX_FILES",
    "MAX_ID",
    "MAX_LIST",
    "MAX_SUMMARY",
    "MAX_TITLE",
    "POSITION_STEP",
    "ImportResult",
    "Outcome",
    "Refused",
    "import_csaf",
    "import_paths",
    "imported_document",
    "iter_files",
    "logger",
    "parse",
    "read_document",
    "shown",
    "sync_tree",
]
