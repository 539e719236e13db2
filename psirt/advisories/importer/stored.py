"""The stored original document (`Advisory.source_csaf`): whether a new version is newer, whether the advisory has
been changed in psirt since its import, and when psirt serves the original as the advisory's CSAF."""

from __future__ import annotations

from datetime import datetime

from psirt.advisories.importer.base import JSON, _date
from psirt.advisories.models import Advisory, AdvisoryState


def _is_newer(new: JSON, old: JSON) -> bool:
    def key(doc: JSON) -> tuple[datetime, int]:
        tracking = doc["document"]["tracking"]
        return (_date(tracking["current_release_date"], "current_release_date"), len(tracking["revision_history"]))

    return key(new) > key(old)


def _revision_count(doc: JSON) -> int:
    return len(doc["document"]["tracking"]["revision_history"])


def _changed_in_psirt(advisory: Advisory) -> bool:
    """Whether an imported advisory was revised or withdrawn in psirt after its last import."""
    source = advisory.source_csaf
    if not isinstance(source, dict) or advisory.state != AdvisoryState.PUBLISHED:
        return True
    return len(advisory.revisions.all()) != _revision_count(source)


def imported_document(advisory: Advisory) -> JSON | None:
    """The stored original CSAF document when psirt should serve it as the advisory's CSAF: the advisory was
    imported, has not been revised in psirt since (its revisions are exactly the document's) and the document's
    publisher is this organization as psirt writes it (a trusted provider's documents and provider-metadata name the
    same publisher, CSAF requirement 7). None otherwise: then psirt renders the document from its rows, as for its
    own advisories. Uses the prefetched revisions when there are (documents.advisory_queryset)."""
    from psirt.advisories.documents import publisher

    source = advisory.source_csaf
    if not isinstance(source, dict) or _changed_in_psirt(advisory):
        return None
    ours = publisher()
    theirs = source["document"]["publisher"]
    if (theirs.get("name"), theirs.get("namespace")) != (ours.name, ours.namespace):
        return None
    return source
