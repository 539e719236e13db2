"""A translation document (`source_lang` set; zh-Hans, as psirt writes them) fills the Chinese texts of an
advisory imported from its original."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from psirt.accounts.models import User
from psirt.advisories.csaf.importer.base import JSON, ImportResult, Refused, one_line
from psirt.advisories.csaf.importer.parse import MAX_TITLE, parse_history, parse_notes
from psirt.advisories.csaf.importer.write import serialise_imports
from psirt.advisories.csaf.provider import update_after_commit
from psirt.advisories.models import Advisory
from psirt.audit.services import record


def is_translation(doc: JSON) -> bool:
    document = doc["document"]
    return bool(document.get("source_lang")) and document.get("source_lang") != document.get("lang")


def write_translation(
    doc: JSON, *, actor: User | None, request: HttpRequest | None, source: str, write_tree: bool
) -> ImportResult:
    """A translation document (`source_lang` set, psirt writes zh-Hans ones) fills the Chinese texts of the advisory
    imported from its original: title, the four notes, the revision summaries. Texts the translation leaves in the
    source language (psirt writes the English one where no Chinese exists) stay empty on the Chinese side."""
    document = doc["document"]
    lang = str(document.get("lang", ""))
    if not lang.lower().startswith("zh"):
        raise Refused(f"a translation into “{lang[:20]}”: psirt keeps English and Simplified Chinese texts only")
    tracking = document["tracking"]
    tracking_id = str(tracking["id"])
    with transaction.atomic():
        serialise_imports()
        advisory = Advisory.objects.select_for_update().filter(advisory_id=tracking_id).first()
        if advisory is None or not isinstance(advisory.source_csaf, dict):
            raise Refused(f"a translation of {tracking_id}, which has not been imported: import the original first")
        original = advisory.source_csaf["document"]["tracking"].get("version")
        if str(tracking.get("version")) != str(original):
            raise Refused(f"a translation of version {tracking.get('version')}; the imported original is {original}")
        notes = parse_notes(document.get("notes"))
        changes: dict[str, str] = {"title_zh": one_line(document["title"], MAX_TITLE)}
        for key in ("summary", "description", "impact", "workarounds"):
            text = notes[f"{key}_en"][:50_000]
            changes[f"{key}_zh"] = "" if text == getattr(advisory, f"{key}_en") else text
        changed = [name for name, value in changes.items() if getattr(advisory, name) != value]
        for name in changed:
            setattr(advisory, name, changes[name])
        history = parse_history(tracking)
        revisions = list(advisory.revisions.order_by("number"))
        if len(revisions) != len(history):
            raise Refused("the translation's revision history does not match the imported original's")
        updated = 0
        for revision, (_when, _number, summary) in zip(revisions, history, strict=True):
            wanted = "" if summary == revision.summary_en else summary
            if revision.summary_zh != wanted:
                revision.summary_zh = wanted
                revision.save(update_fields=["summary_zh"])
                updated += 1
        if not changed and not updated:
            return ImportResult(source, "unchanged", tracking_id, ("translation (zh-Hans)",))
        advisory.save()
        record(
            action="advisory.import_translated",
            actor=actor,
            request=request,
            target=advisory,
            data={"advisory": tracking_id, "lang": lang[:20], "fields": changed, "revisions": updated},
        )
        if write_tree:
            update_after_commit(advisory)
    return ImportResult(source, "updated", tracking_id, (f"translation ({lang[:20]})",))
