"""The stored original document (`Advisory.source_csaf`): whether a new version of it is newer. Whether the advisory
has been changed in psirt since its import, and when psirt serves the original as the advisory's CSAF, is the
document builder's call (`psirt.advisories.csaf.documents.imported_document`)."""

from __future__ import annotations

from datetime import datetime

from psirt.advisories.csaf.importer.base import JSON, parse_date


def is_newer(new: JSON, old: JSON) -> bool:
    def key(doc: JSON) -> tuple[datetime, int]:
        tracking = doc["document"]["tracking"]
        return (parse_date(tracking["current_release_date"], "current_release_date"), len(tracking["revision_history"]))

    return key(new) > key(old)
