"""Names and places in the provider tree: the fixed file and folder names, where a document lives below the TLP
folder (`document_path`), and the shapes of the paths the tree writes. No file access here."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from psirt.formats.csaf import SOURCE_LANG, csaf_filename
from psirt.lib.errors import DomainError

JSON = dict[str, Any]

TLP_FOLDER = "white"
TLP_LABEL = "WHITE"
METADATA_NAME = "provider-metadata.json"
KEY_FOLDER = "openpgp"
FEED_NAME = "csaf-feed-tlp-white.json"
INDEX_NAME = "index.txt"
CHANGES_NAME = "changes.csv"
LOCK_NAME = ".lock"
CSAF_SCHEMA_URL = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
ROLIE_SCHEME = "urn:ietf:params:rolie:category:information-type"
HASHES: tuple[tuple[str, Callable[[bytes], Any]], ...] = (("sha256", hashlib.sha256), ("sha512", hashlib.sha512))
COMPANIONS = (".sha256", ".sha512", ".asc")

YEAR_DIR = re.compile(r"^[0-9]{4}$")
LANG_DIR = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
FILE_NAME = re.compile(r"^[+\-a-z0-9_]+\.json$")


class ProviderError(DomainError):
    """A document cannot be placed in the tree (the message says why)."""

    status = 422


def document_path(doc: JSON) -> str:
    """Where a document lives below white/: `<YYYY>/<file>` for an original, `<YYYY>/<lang>/<file>` for a
    translation (a document whose source_lang differs from its lang). Raises ProviderError for a document whose
    tracking data cannot name a file."""
    try:
        document = doc["document"]
        tracking = document["tracking"]
        tracking_id = str(tracking["id"])
        year = str(tracking["initial_release_date"])[:4]
    except (KeyError, TypeError) as exc:
        raise ProviderError(f"the document has no {exc} in /document/tracking") from None
    if not YEAR_DIR.match(year):
        raise ProviderError(f"initial_release_date {tracking.get('initial_release_date')!r} has no year")
    name = csaf_filename(tracking_id)
    lang = str(document.get("lang") or "")
    source = str(document.get("source_lang") or "")
    if source and lang and source.lower() != lang.lower():
        folder = lang.lower()
        if not LANG_DIR.match(folder) or folder == SOURCE_LANG:
            raise ProviderError(f"the translation's language {lang!r} cannot name a folder")
        return f"{year}/{folder}/{name}"
    return f"{year}/{name}"


def is_document_path(path: str) -> bool:
    """Whether `path` (relative to white/) has the shape of a document path the tree writes."""
    parts = path.split("/")
    if len(parts) == 2:
        return bool(YEAR_DIR.match(parts[0]) and FILE_NAME.match(parts[1]))
    if len(parts) == 3:
        return bool(YEAR_DIR.match(parts[0]) and LANG_DIR.match(parts[1]) and FILE_NAME.match(parts[2]))
    return False


def https_url(url: str) -> str:
    """CSAF wants https URLs (the ROLIE links, canonical_url); a dev server on http gets its https twin, the same
    rule psirt.advisories.csaf.documents applies to the documents' own URLs."""
    return "https://" + url[len("http://") :] if url.startswith("http://") else url
