"""Files arriving through any door: streamed into the encrypted store under per-file and total limits, the
stash that keeps uploads of a form that failed validation, audited downloads for staff, and housekeeping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.audit.services import record
from psirt.counters.services import ratelimit
from psirt.intake.exceptions import AttachmentRejected
from psirt.intake.models import (
    Attachment,
    Message,
    Report,
    StashedFile,
    UploadStash,
)
from psirt.intake.services.files import SNIFF_BYTES, safe_filename, sniff
from psirt.intake.services.tokens import TOKEN_RE, hash_token, new_token
from psirt.lib import stored_files
from psirt.lib.crypto import StoredFile, file_store

STASH_LIFETIME = dt.timedelta(days=1)
# A temporary or unreferenced file untouched this long belongs to no request still running (a request is cut off
# long before: gunicorn's timeout), so it is safe to remove.
ABANDONED_AFTER = dt.timedelta(hours=1)


@dataclass
class IncomingFile:
    """A file arriving through any door: a name as sent, and its bytes as chunks (or a file object)."""

    name: str
    source: IO[bytes] | Iterable[bytes] | bytes
    size: int | None = None

    def chunks(self) -> Iterator[bytes]:
        src = self.source
        if isinstance(src, bytes | bytearray):
            yield bytes(src)
            return
        if hasattr(src, "chunks"):
            yield from src.chunks()
            return
        if hasattr(src, "read"):
            while True:
                block = src.read(256 * 1024)
                if not block:
                    return
                yield block
        else:
            yield from src


@dataclass
class WrittenFile:
    stored: StoredFile
    name: str
    content_type: str
    kind: str
    name_mismatch: bool

    def row_fields(self) -> dict[str, Any]:
        """The columns an `Attachment` or a `StashedFile` row keeps of this file."""
        return {
            "name": self.name,
            "content_type": self.content_type,
            "kind": self.kind,
            "name_mismatch": self.name_mismatch,
            "size": self.stored.size,
            "storage_name": self.stored.name,
        }


def max_file_bytes() -> int:
    return int(settings.PSIRT_MAX_ATTACHMENT_MB) * 1024 * 1024


def max_total_bytes() -> int:
    return int(settings.PSIRT_MAX_ATTACHMENTS_TOTAL_MB) * 1024 * 1024


class _Meter:
    """Counts bytes while a file streams into the store: keeps the first bytes for sniffing and stops the
    upload as soon as a limit is crossed."""

    def __init__(self, *, total: int, limit: int, total_limit: int) -> None:
        self.total = total
        self.limit = limit
        self.total_limit = total_limit

    def measure(self, chunks: Iterator[bytes], name: str) -> Iterator[bytes]:
        self.head = bytearray()
        size = 0
        for chunk in chunks:
            if len(self.head) < SNIFF_BYTES:
                self.head.extend(chunk[: SNIFF_BYTES - len(self.head)])
            size += len(chunk)
            self.total += len(chunk)
            if size > self.limit:
                raise AttachmentRejected(_too_big_message(name, self.limit))
            if self.total > self.total_limit:
                raise AttachmentRejected(_total_too_big_message(self.total_limit))
            yield chunk


def write_files(files: Sequence[IncomingFile], *, already: int = 0) -> list[WrittenFile]:
    """Encrypt each file to the store, enforcing per-file and total limits while streaming.
    On any failure, files written so far are removed and AttachmentRejected is raised."""
    store = file_store()
    written: list[WrittenFile] = []
    meter = _Meter(total=already, limit=max_file_bytes(), total_limit=max_total_bytes())
    try:
        for incoming in files:
            name = safe_filename(incoming.name)
            # The size the client sent is checked first: an upload over a limit arrives without its content
            # (the upload handler stops keeping it at the limit), so its bytes alone would look small.
            if incoming.size is not None and incoming.size > meter.limit:
                raise AttachmentRejected(_too_big_message(name, meter.limit))
            if incoming.size is not None and meter.total + incoming.size > meter.total_limit:
                raise AttachmentRejected(_total_too_big_message(meter.total_limit))
            stored = store.save(meter.measure(incoming.chunks(), name), prefix="a")
            sniffed = sniff(bytes(meter.head), name)
            written.append(WrittenFile(stored, name, sniffed.content_type, sniffed.kind, sniffed.name_mismatch))
    except BaseException:
        for item in written:
            store.delete(item.stored.name)
        raise
    return written


def attach_files(
    report: Report,
    written: Sequence[WrittenFile],
    *,
    author_kind: str,
    message: Message | None = None,
    is_internal: bool = False,
) -> None:
    """Attachment rows for files `write_files` has already encrypted to the store."""
    for item in written:
        Attachment.objects.create(
            report=report, message=message, author_kind=author_kind, is_internal=is_internal, **item.row_fields()
        )


def _total_too_big_message(limit: int) -> str:
    return _("Together the files are over the limit of %(mb)d MB. Send fewer or smaller files.") % {
        "mb": limit // (1024 * 1024)
    }


def _too_big_message(name: str, limit: int) -> str:
    return _("“%(name)s” is larger than %(mb)d MB. Compress it or split it into parts.") % {
        "name": name,
        "mb": limit // (1024 * 1024),
    }


def stash_files(*, token: str | None, files: Sequence[IncomingFile]) -> str:
    """Keep uploads of a form that failed validation, encrypted, for a day. Returns the stash token for the
    form's hidden field (a new one unless `token` names a live stash). Raises AttachmentRejected on size."""
    stash = get_stash(token) if token else None
    if stash is None:
        token = new_token()
        stash = UploadStash.objects.create(token_hash=hash_token(token), expires_at=timezone.now() + STASH_LIFETIME)
    already = sum(f.size for f in stash.files.all())
    written = write_files(files, already=already)
    try:
        with transaction.atomic():
            for item in written:
                StashedFile.objects.create(stash=stash, **item.row_fields())
    except BaseException:
        for item in written:
            file_store().delete(item.stored.name)
        raise
    assert token is not None
    return token


def get_stash(token: str | None) -> UploadStash | None:
    if not token or not TOKEN_RE.match(token):
        return None
    return UploadStash.objects.filter(token_hash=hash_token(token), expires_at__gt=timezone.now()).first()


def stashed_files(token: str | None) -> list[StashedFile]:
    stash = get_stash(token)
    return list(stash.files.all()) if stash else []


def discard_stashed(*, token: str | None, public_ids: Iterable[str]) -> None:
    """Remove files the visitor unticked from the stash."""
    stash = get_stash(token)
    if stash is None:
        return
    ids = [str(i) for i in public_ids]
    for item in list(stash.files.all()):
        if str(item.public_id) in ids:
            file_store().delete(item.storage_name)
            item.delete()


def purge_expired_stashes(*, now: dt.datetime | None = None) -> int:
    """Delete stashes older than a day, files included. Returns how many stashes went."""
    now = now or timezone.now()
    store = file_store()
    count = 0
    for stash in UploadStash.objects.filter(expires_at__lte=now).prefetch_related("files"):
        for item in stash.files.all():
            store.delete(item.storage_name)
        stash.delete()
        count += 1
    return count


def open_attachment(*, attachment: Attachment, user: User, request: HttpRequest | None = None) -> Iterator[bytes]:
    """The decrypted bytes of an attachment for an authorised staff member; the download is audited first."""
    record(
        action="report.attachment_downloaded",
        actor=user,
        request=request,
        target=attachment.report,
        data={"attachment": str(attachment.public_id)},
    )
    return file_store().open(attachment.storage_name)


def open_reporter_attachment(
    *, report: Report, attachment: Attachment, request: HttpRequest | None = None
) -> Iterator[bytes]:
    """The decrypted bytes of a file of the reporter's own report (never an internal one), for the portal; the
    download is audited first (which report, which file, never the token)."""
    if attachment.report_id != report.pk or attachment.is_internal:
        raise ValueError("not a file the reporter may download")
    record(
        action="report.attachment_downloaded_by_reporter",
        request=request,
        target=report,
        data={"attachment": str(attachment.public_id)},
    )
    return file_store().open(attachment.storage_name)


def sweep_files(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Remove what a killed or timed-out process left in the file store, once nobody has touched it for
    `ABANDONED_AFTER`: temporary files (half-written files, upload spools) and stored files that no registered
    column names (`psirt.lib.stored_files`: attachments, stashes, and the files of higher apps such as regulatory
    evidence), written just before a crash or a rolled-back transaction, before their row. Both hold only
    ciphertext; nothing would ever read them again. Runs at start-up (`psirt up`, `psirt serve`) and with the
    hourly housekeeping."""
    moment = (now or timezone.now()).timestamp()
    store = file_store()
    partial = store.sweep_partial(older_than=ABANDONED_AFTER, now=moment)
    candidates = list(store.stored_names(older_than=ABANDONED_AFTER, now=moment))
    known = stored_files.referenced(candidates)
    orphans = [name for name in candidates if name not in known]
    for name in orphans:
        store.delete(name)
    return {"partial": partial, "orphans": len(orphans)}


def purge_expired(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Housekeeping: expired stashes, abandoned files and rate-limit counters."""
    return {
        "stashes": purge_expired_stashes(now=now),
        **sweep_files(now=now),
        "counters": ratelimit.purge_expired_counters(),
    }
