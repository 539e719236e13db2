"""CSAF 2.0 import, `psirt import-csaf FILE_OR_DIR…` (see docs/csaf-provider.md). Import from this package: its
names are the public interface."""

from psirt.advisories.csaf.importer.base import JSON, ImportResult, Outcome, Refused, shown
from psirt.advisories.csaf.importer.catalog import POSITION_STEP
from psirt.advisories.csaf.importer.core import import_csaf, import_paths
from psirt.advisories.csaf.importer.files import MAX_BYTES, MAX_FILES, iter_files, read_document
from psirt.advisories.csaf.importer.parse import IMPORTABLE, MAX_ID, MAX_LIST, MAX_SUMMARY, MAX_TITLE, parse
from psirt.advisories.csaf.importer.write import logger, sync_tree

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
    "iter_files",
    "logger",
    "parse",
    "read_document",
    "shown",
    "sync_tree",
]
