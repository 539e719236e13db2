"""Every change to reports goes through here: the web form, the API, the mail gate, the portal and the desk
call the same functions (keyword-only), which raise the domain exceptions of `psirt.intake.exceptions` and
write the audit log in the same transaction.

A report answered with a tracking ID is stored: files are encrypted to disk *before* the database transaction
(and removed again if it fails), the transaction holds the report, its files, its queued acknowledgment and
its audit entry together, and mail goes out only after the commit — a mail failure never undoes a report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from psirt.audit.services import record
from psirt.intake import ratelimit
from psirt.intake.exceptions import AttachmentRejected, InvalidReport, ReportClosed
from psirt.intake.files import SNIFF_BYTES, safe_filename, sniff
from psirt.intake.models import (
    Attachment,
    AuthorKind,
    EventKind,
    InboxState,
    Message,
    PublishPlan,
    Report,
    ReportEvent,
    Source,
    Stage,
    StashedFile,
    TrackingSequence,
    UploadStash,
    Via,
    YesNoUnknown,
)
from psirt.lib import pgp
from psirt.lib.crypto import StoredFile, file_store, keyed_hash, seal
from psirt.lib.sequences import next_in_year

logger = logging.getLogger(__name__)

TOKEN_BYTES = 32  # 256 bits; the issue asks for at least 128
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
MAGIC_SALT = "psirt.intake.portal-magic-link"
MAGIC_MAX_AGE = 14 * 24 * 3600
STASH_LIFETIME = dt.timedelta(days=1)
EMAIL_HASH_PURPOSE = "reporter-email"

# Text limits (characters). Generous for real reports; a 10 MB paste gets a clear message instead.
TEXT_LIMITS: dict[str, int] = {
    "reporter_name": 200,
    "reporter_email": 254,
    "organization": 200,
    "phone": 50,
    "references": 5_000,
    "product_other": 200,
    "version": 100,
    "description": 50_000,
    "technical_details": 200_000,
    "public_exploit": 10_000,
    "disclosure_plans": 10_000,
    "credit": 200,
    "pgp_key": pgp.MAX_KEY_LENGTH,
    "message": 50_000,
}


# ---------------------------------------------------------------------------------------------- inputs


@dataclass
class ReportInput:
    """A validated report as the three doors hand it over (the form and the API validate with
    `psirt.intake.forms.ReportForm`; the mail gate builds it from a message)."""

    reporter_name: str
    reporter_email: str
    description: str
    organization: str = ""
    phone: str = ""
    references: str = ""
    product: Any = None  # catalog.Product or None
    product_other: str = ""
    release: Any = None  # catalog.FirmwareRelease or None
    version: str = ""
    technical_details: str = ""
    exploit_public: str = YesNoUnknown.UNKNOWN
    public_exploit: str = ""
    plans_to_publish: str = PublishPlan.UNDECIDED
    disclosure_plans: str = ""
    proposed_disclosure_date: dt.date | None = None
    credit: str = ""
    credit_anonymous: bool = False
    pgp_key: str = ""
    accepted_guidelines: bool = False


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


@dataclass(frozen=True)
class Submission:
    """What submitting returns: the stored report and the private token (shown once, never stored)."""

    report: Report
    token: str

    @property
    def portal_url(self) -> str:
        return portal_url(self.report, self.token)


@dataclass
class _Written:
    stored: StoredFile
    name: str
    content_type: str
    kind: str
    name_mismatch: bool
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------- helpers


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def email_hash(email: str) -> str:
    """Keyed hash of the normalised address: finds a reporter's reports without storing the address."""
    return keyed_hash(normalise_email(email), purpose=EMAIL_HASH_PURPOSE)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", errors="replace")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def max_file_bytes() -> int:
    return int(settings.PSIRT_MAX_ATTACHMENT_MB) * 1024 * 1024


def max_total_bytes() -> int:
    return int(settings.PSIRT_MAX_ATTACHMENTS_TOTAL_MB) * 1024 * 1024


def portal_path(token: str, language: str = "en") -> str:
    with translation.override(language):
        return reverse("portal:home", kwargs={"token": token})


def portal_url(report: Report, token: str) -> str:
    return settings.PSIRT_BASE_URL + portal_path(token, report.language)


def magic_token(report: Report) -> str:
    """A signed, expiring portal token for mail about an existing report (we cannot mail the private
    token: only its hash is kept). Dies when the private link is re-issued."""
    payload = {"r": str(report.public_id), "k": _link_generation(report)}
    return "m." + signing.dumps(payload, salt=MAGIC_SALT, compress=True)


def _link_generation(report: Report) -> str:
    # Changes whenever the private token is re-issued, which kills every magic link sent before.
    return keyed_hash(report.token_hash, purpose="magic-link")[:20]


def magic_url(report: Report) -> str:
    return settings.PSIRT_BASE_URL + portal_path(magic_token(report), report.language)


def find_report_by_token(token: str) -> Report | None:
    """The report a private token or a magic link token opens, or None (also for malformed tokens)."""
    token = token or ""
    if token.startswith("m."):
        if len(token) > 400:
            return None
        try:
            data = signing.loads(token[2:], salt=MAGIC_SALT, max_age=MAGIC_MAX_AGE)
        except (signing.BadSignature, ValueError, TypeError):
            return None
        if not isinstance(data, dict):
            return None
        report = Report.objects.select_related("product", "release").filter(public_id=str(data.get("r"))).first()
        if report is None or not secrets.compare_digest(_link_generation(report), str(data.get("k", ""))):
            return None
        return report
    if not TOKEN_RE.match(token):
        return None
    return Report.objects.select_related("product", "release").filter(token_hash=hash_token(token)).first()


def _next_number(year: int) -> int:
    """Next tracking number of `year` (see psirt.lib.sequences)."""
    return next_in_year(TrackingSequence, year)


def format_tracking_id(year: int, number: int) -> str:
    return f"VR-{year}-{number:04d}"


_calendar_cache: dict[str, tuple[float, Any]] = {}
CALENDAR_CACHE_SECONDS = 300


def _calendar(country: str) -> Any:
    """The profile's business-day calendar, kept a few minutes per process: building it (and the holiday
    tables of a year) costs more than the rest of a submission."""
    import time

    from psirt.lib.business_days import calendar_for_profile

    cached = _calendar_cache.get(country)
    if cached is None or time.monotonic() - cached[0] > CALENDAR_CACHE_SECONDS:
        cached = (time.monotonic(), calendar_for_profile())
        _calendar_cache[country] = cached
    return cached[1]


def _ack_due(now: dt.datetime, profile: Any) -> dt.datetime | None:
    try:
        result: dt.datetime = _calendar(profile.calendar_country).add_business_days(now, int(profile.ack_business_days))
        return result
    except Exception:
        # A broken calendar setting must not lose a report; the desk shows the deadline as unknown.
        logger.exception("acknowledgment deadline could not be computed")
        return None


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
                raise AttachmentRejected(
                    _("Together the files are over the limit of %(mb)d MB. Send fewer or smaller files.")
                    % {"mb": self.total_limit // (1024 * 1024)}
                )
            yield chunk


def _write_files(files: Sequence[IncomingFile], *, already: int = 0) -> list[_Written]:
    """Encrypt each file to the store, enforcing per-file and total limits while streaming.
    On any failure, files written so far are removed and AttachmentRejected is raised."""
    store = file_store()
    written: list[_Written] = []
    meter = _Meter(total=already, limit=max_file_bytes(), total_limit=max_total_bytes())
    try:
        for incoming in files:
            name = safe_filename(incoming.name)
            if incoming.size is not None and incoming.size > meter.limit:
                raise AttachmentRejected(_too_big_message(name, meter.limit))
            stored = store.save(meter.measure(incoming.chunks(), name), prefix="a")
            sniffed = sniff(bytes(meter.head), name)
            written.append(_Written(stored, name, sniffed.content_type, sniffed.kind, sniffed.name_mismatch))
    except BaseException:
        for item in written:
            store.delete(item.stored.name)
        raise
    return written


def _attach(
    report: Report,
    written: Sequence[_Written],
    *,
    author_kind: str,
    message: Message | None = None,
    is_internal: bool = False,
) -> None:
    """Attachment rows for files `_write_files` has already encrypted to the store."""
    for item in written:
        Attachment.objects.create(
            report=report,
            message=message,
            name=item.name,
            content_type=item.content_type,
            kind=item.kind,
            name_mismatch=item.name_mismatch,
            size=item.stored.size,
            storage_name=item.stored.name,
            author_kind=author_kind,
            is_internal=is_internal,
        )


def _too_big_message(name: str, limit: int) -> str:
    return _("“%(name)s” is larger than %(mb)d MB. Compress it or split it into parts.") % {
        "name": name,
        "mb": limit // (1024 * 1024),
    }


def _check_text_limits(values: dict[str, str]) -> None:
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        limit = TEXT_LIMITS.get(name)
        if limit is not None and len(value or "") > limit:
            errors[name] = [
                _("This text is %(length)d characters long; the limit is %(limit)d.")
                % {"length": len(value), "limit": limit}
            ]
        if value and "\x00" in value:
            errors.setdefault(name, []).append(_("This text contains a null character; remove it."))
    if errors:
        raise InvalidReport(errors)


def _event(report: Report, kind: str, **kwargs: Any) -> ReportEvent:
    return ReportEvent.objects.create(report=report, kind=kind, **kwargs)


# ---------------------------------------------------------------------------------------------- stash


def stash_files(*, token: str | None, files: Sequence[IncomingFile]) -> str:
    """Keep uploads of a form that failed validation, encrypted, for a day. Returns the stash token for the
    form's hidden field (a new one unless `token` names a live stash). Raises AttachmentRejected on size."""
    stash = _get_stash(token) if token else None
    if stash is None:
        token = new_token()
        stash = UploadStash.objects.create(token_hash=hash_token(token), expires_at=timezone.now() + STASH_LIFETIME)
    already = sum(f.size for f in stash.files.all())
    written = _write_files(files, already=already)
    try:
        with transaction.atomic():
            for item in written:
                StashedFile.objects.create(
                    stash=stash,
                    name=item.name,
                    content_type=item.content_type,
                    kind=item.kind,
                    name_mismatch=item.name_mismatch,
                    size=item.stored.size,
                    storage_name=item.stored.name,
                )
    except BaseException:
        for item in written:
            file_store().delete(item.stored.name)
        raise
    assert token is not None
    return token


def _get_stash(token: str | None) -> UploadStash | None:
    if not token or not TOKEN_RE.match(token):
        return None
    return UploadStash.objects.filter(token_hash=hash_token(token), expires_at__gt=timezone.now()).first()


def stashed_files(token: str | None) -> list[StashedFile]:
    stash = _get_stash(token)
    return list(stash.files.all()) if stash else []


def discard_stashed(*, token: str | None, public_ids: Iterable[str]) -> None:
    """Remove files the visitor unticked from the stash."""
    stash = _get_stash(token)
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


# ---------------------------------------------------------------------------------------------- submit


def submit_report(
    *,
    data: ReportInput,
    files: Sequence[IncomingFile] = (),
    stash_token: str | None = None,
    source: str = Source.WEB,
    language: str = "en",
    request: HttpRequest | None = None,
    ip: str | None = None,
    send_acknowledgment: bool = True,
) -> Submission:
    """Store a new report and its files; return it with its private token.

    Raises RateLimited (per address and per e-mail), InvalidReport (limits every door shares) or
    AttachmentRejected. The acknowledgment mail (with the private link, encrypted to the reporter's key if
    given) is sent after the commit; a mail failure is logged and does not affect the report."""
    from psirt.audit.services import client_ip

    _check_text_limits(
        {
            name: getattr(data, name)
            for name in TEXT_LIMITS
            if hasattr(data, name) and isinstance(getattr(data, name), str)
        }
    )
    if not data.reporter_email.strip() or not data.description.strip():
        raise InvalidReport(
            {
                **(
                    {"reporter_email": [_("An e-mail address is required.")]} if not data.reporter_email.strip() else {}
                ),
                **({"description": [_("Describe the vulnerability.")]} if not data.description.strip() else {}),
            }
        )
    from psirt.pages.models import OrganizationProfile

    address = ip or client_ip(request)
    limits = [("report_email", normalise_email(data.reporter_email))]
    if address:
        limits.insert(0, ("report_ip", address))
    # Limits first (a read): a refused request costs no encrypted upload. Counted below.
    ratelimit.check(*limits)

    stash = _get_stash(stash_token)
    stashed = list(stash.files.all()) if stash else []
    written = _write_files(files, already=sum(f.size for f in stashed))
    token = new_token()
    now = timezone.now()
    profile = OrganizationProfile.get()
    ack_due = _ack_due(now, profile)
    year = timezone.localtime(now).year
    # The report is built, and its texts encrypted, before the transaction opens: on SQLite every write
    # transaction waits for the one before it, so work done inside one holds up every other submission.
    report = Report(
        year=year,
        source=source,
        language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
        created_at=now,
        reporter_name=seal(data.reporter_name.strip()),
        reporter_email=seal(data.reporter_email.strip()),
        email_hash=email_hash(data.reporter_email),
        organization=seal(data.organization.strip()),
        phone=seal(data.phone.strip()),
        references=seal(data.references),
        product=data.product,
        product_other=seal(data.product_other.strip() if data.product is None else ""),
        release=data.release,
        version=seal(data.version.strip() or (data.release.version if data.release is not None else "")),
        description=seal(data.description),
        description_is_pgp=pgp.is_armored_message(data.description),
        technical_details=seal(data.technical_details),
        exploit_public=data.exploit_public,
        public_exploit=seal(data.public_exploit),
        plans_to_publish=data.plans_to_publish,
        disclosure_plans=seal(data.disclosure_plans),
        proposed_disclosure_date=data.proposed_disclosure_date,
        credit=seal("" if data.credit_anonymous else data.credit.strip()),
        credit_anonymous=data.credit_anonymous,
        pgp_key=seal(data.pgp_key.strip()),
        accepted_guidelines_at=now if data.accepted_guidelines else None,
        ack_due_at=ack_due,
        token_hash=hash_token(token),
        token_issued_at=now,
    )
    attachments = [
        Attachment(
            name=seal(item.name),
            content_type=item.content_type,
            kind=item.kind,
            name_mismatch=item.name_mismatch,
            size=item.stored.size,
            storage_name=item.stored.name,
            author_kind=AuthorKind.REPORTER,
        )
        for item in written
    ] + [
        # The stash's encrypted file becomes the attachment as is: no second copy, no re-encryption.
        Attachment(
            name=seal(sf.name),
            content_type=sf.content_type,
            kind=sf.kind,
            name_mismatch=sf.name_mismatch,
            size=sf.size,
            storage_name=sf.storage_name,
            author_kind=AuthorKind.REPORTER,
        )
        for sf in stashed
    ]
    try:
        # Two transactions, so that no row every submission contends for stays locked while the report is
        # stored. A row lock lasts until COMMIT, and on PostgreSQL a COMMIT waits for the disk: with the
        # rate counter, the year's sequence and the audit head all held through one transaction, that
        # transaction's span was the whole intake's throughput limit (one report per span).
        # 1. Count the request (the counter of an address is shared by all its requests) and take the
        #    year's next number: two statements and a COMMIT. A refusal here costs no number.
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if outermost:  # inside a caller's transaction this would apply to all of it
                _commit_without_waiting_for_the_disk()
            ratelimit.hit_all(*limits)
            report.number = _next_number(year)
        report.tracking_id = format_tracking_id(year, report.number)
        # 2. Store the report, its files and its acknowledgment; the audit entry, whose chain head is the one
        #    contended row here, is appended last, just before COMMIT. Should this transaction fail, its
        #    number stays unused (a gap, logged below) but nothing else is left behind.
        try:
            with transaction.atomic():
                report.save(force_insert=True)
                for attachment in attachments:
                    attachment.report = report
                    attachment.save(force_insert=True)
                if stash is not None:
                    stash.delete()
                if data.proposed_disclosure_date:
                    _event(
                        report, EventKind.DATE_PROPOSED, at=now, by_reporter=True, date=data.proposed_disclosure_date
                    )
                if send_acknowledgment:
                    # Queued with the report: committed together, sent by the worker (the request never
                    # waits for the mail server, and a report is never without its acknowledgment).
                    _send_acknowledgment(report, token, profile)
                record(
                    action="report.submitted",
                    request=request,
                    target=report,
                    data={"source": source, "files": len(written) + len(stashed)},
                )
        except BaseException:
            logger.error("tracking ID %s was taken but its report could not be stored", report.tracking_id)
            raise
    except BaseException:
        store = file_store()
        for item in written:
            store.delete(item.stored.name)
        raise
    return Submission(report=report, token=token)


def _commit_without_waiting_for_the_disk() -> None:
    """On PostgreSQL, let this transaction's COMMIT return before its WAL reaches the disk. Waiting for that
    flush is what limits intake there (measured: most waiting backends wait on WALSync). Safe for the
    counter-and-number transaction only: the report's own transaction, which follows, commits
    synchronously, and its flush writes every earlier WAL record too, so once a report is acknowledged its
    number and count are on disk; a crash before that loses at most a count and a number no report has."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _mail_report(report: Report) -> dict[str, str]:
    """What mail templates may say about a report: plain values, no report text."""
    ack_due = timezone.localtime(report.ack_due_at).strftime("%Y-%m-%d %H:%M %Z") if report.ack_due_at else ""
    return {
        "tracking_id": report.tracking_id,
        "reporter_name": report.reporter_name,
        "stage": report.stage,
        "ack_due": ack_due,
    }


def _send_acknowledgment(report: Report, token: str, profile: Any) -> None:
    from psirt.notify.mail import send_mail_bilingual

    send_mail_bilingual(
        to=[report.reporter_email],
        template="intake/mail/acknowledgment",
        context={
            "report": _mail_report(report),
            "portal_url": portal_url(report, token),
            "lost_link_url": settings.PSIRT_BASE_URL + _lost_link_path(report.language),
            "org_name": profile.name_en if report.language == "en" else (profile.name_zh or profile.name_en),
            "ack_business_days": profile.ack_business_days,
        },
        language=report.language,
        pgp_key=report.pgp_key,
        reply_to=[profile.security_email],
    )


def _lost_link_path(language: str) -> str:
    with translation.override(language):
        return reverse("intake:lost_link")


# ---------------------------------------------------------------------------------------------- portal


def _portal_limit(report: Report) -> None:
    with transaction.atomic():
        ratelimit.hit("portal_report", str(report.public_id))


def _notify_team(report: Report, what: str) -> None:
    """Tell the security mailbox that something happened on a report — without its content."""
    from psirt.notify.mail import send_mail_bilingual
    from psirt.pages.models import OrganizationProfile

    profile = OrganizationProfile.get()
    with translation.override("en"):
        url = settings.PSIRT_BASE_URL + reverse("desk:intake:report", kwargs={"public_id": report.public_id})
    send_mail_bilingual(
        to=[profile.security_email],
        template="intake/mail/team_notice",
        context={"report": {"tracking_id": report.tracking_id}, "what": what, "desk_url": url},
        language="en",
    )


def add_reporter_message(
    *,
    report: Report,
    body: str,
    files: Sequence[IncomingFile] = (),
    via: str = Via.PORTAL,
    request: HttpRequest | None = None,
) -> Message:
    """A message (and/or files) from the reporter on their report. Raises InvalidReport when empty/too long,
    RateLimited, AttachmentRejected."""
    body = body or ""
    if not body.strip() and not files:
        raise InvalidReport({"body": [_("Write a message or choose a file.")]})
    _check_text_limits({"message": body})
    _portal_limit(report)
    written = _write_files(files)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                report=report,
                author_kind=AuthorKind.REPORTER,
                body=body,
                body_is_pgp=pgp.is_armored_message(body),
                via=via,
            )
            _attach(report, written, author_kind=AuthorKind.REPORTER, message=message)
            _event(report, EventKind.FILES if not body.strip() else EventKind.MESSAGE, by_reporter=True)
            record(
                action="report.reporter_message",
                request=request,
                target=report,
                data={"via": via, "files": len(written)},
            )
            _notify_team(report, "message")
    except BaseException:
        for item in written:
            file_store().delete(item.stored.name)
        raise
    return message


def propose_disclosure_date(*, report: Report, date: dt.date, request: HttpRequest | None = None) -> None:
    """The reporter proposes (or changes) the date they would like to disclose."""
    if not report.is_open:
        raise ReportClosed(_("This report is closed; write a message to the team instead."))
    today = timezone.localdate()
    if date <= today:
        raise InvalidReport({"date": [_("Choose a date in the future.")]})
    if date > today + dt.timedelta(days=2 * 366):
        raise InvalidReport({"date": [_("Choose a date within the next two years.")]})
    _portal_limit(report)
    with transaction.atomic():
        Report.objects.filter(pk=report.pk).update(proposed_disclosure_date=date, updated_at=timezone.now())
        report.proposed_disclosure_date = date
        _event(report, EventKind.DATE_PROPOSED, by_reporter=True, date=date)
        record(action="report.date_proposed", request=request, target=report, data={"date": date.isoformat()})
        _notify_team(report, "date")


def set_credit(*, report: Report, credit: str, anonymous: bool, request: HttpRequest | None = None) -> None:
    """The reporter edits how they want to be credited (or asks for no credit)."""
    credit = "" if anonymous else (credit or "").strip()
    _check_text_limits({"credit": credit})
    if not anonymous and not credit:
        raise InvalidReport({"credit": [_("Enter the name to credit, or choose no public credit.")]})
    _portal_limit(report)
    with transaction.atomic():
        report.credit = credit
        report.credit_anonymous = anonymous
        report.save(update_fields=["credit", "credit_anonymous", "updated_at"])
        _event(report, EventKind.CREDIT, by_reporter=True)
        record(action="report.credit_changed", request=request, target=report)


def request_new_link(*, email: str, language: str = "en", request: HttpRequest | None = None) -> None:
    """ "Lost my link": limits, then queues the same background task whether or not the address is known,
    so neither the answer nor its timing tells a stranger which addresses reported something."""
    from psirt.audit.services import client_ip
    from psirt.intake.tasks import send_fresh_links

    address = client_ip(request)
    with transaction.atomic():
        ratelimit.hit_all(*([("lostlink_ip", address)] if address else []), ("lostlink_email", normalise_email(email)))
    send_fresh_links.enqueue(email_hash=email_hash(email))


def reissue_links(*, email_hash_value: str) -> int:
    """New private tokens for every report filed from this address (old links stop working), mailed to
    the address on file. Returns how many reports were found. Runs in the background task."""
    from psirt.notify.mail import send_mail_bilingual

    reports = list(Report.objects.filter(email_hash=email_hash_value).order_by("created_at"))
    if not reports:
        return 0
    with transaction.atomic():
        now = timezone.now()
        for report in reports:
            token = new_token()
            report.token_hash = hash_token(token)
            report.token_issued_at = now
            report.save(update_fields=["token_hash", "token_issued_at", "updated_at"])
            _event(report, EventKind.LINK, by_reporter=True)
            record(action="report.link_reissued", target=report)
            # One mail per report: each may carry its own OpenPGP key.
            send_mail_bilingual(
                to=[report.reporter_email],
                template="intake/mail/new_link",
                context={"report": _mail_report(report), "portal_url": portal_url(report, token)},
                language=report.language,
                pgp_key=report.pgp_key,
            )
    return len(reports)


def record_staff_view(*, report: Report, user: Any, request: HttpRequest | None = None) -> None:
    """Every staff view of a report is audited (SPEC B9)."""
    record(action="report.viewed", actor=user, request=request, target=report)


def open_attachment(*, attachment: Attachment, user: Any, request: HttpRequest | None = None) -> Iterator[bytes]:
    """The decrypted bytes of an attachment for an authorised staff member; the download is audited first."""
    record(
        action="report.attachment_downloaded",
        actor=user,
        request=request,
        target=attachment.report,
        data={"attachment": str(attachment.public_id)},
    )
    return file_store().open(attachment.storage_name)


def post_team_message(
    *,
    report: Report,
    author: Any,
    body: str,
    is_internal: bool = False,
    files: Sequence[IncomingFile] = (),
    request: HttpRequest | None = None,
) -> Message:
    """A message from the team. Not internal: the reporter gets a mail with a magic portal link (and the
    text itself only when it can be encrypted to their key). Internal: a staff note, never shown to them."""
    if not (body or "").strip():
        raise InvalidReport({"body": [_("Write a message.")]})
    _check_text_limits({"message": body})
    written = _write_files(files)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                report=report,
                author_kind=AuthorKind.TEAM,
                author=author,
                body=body,
                is_internal=is_internal,
                via=Via.DESK,
            )
            _attach(report, written, author_kind=AuthorKind.TEAM, message=message, is_internal=is_internal)
            if not is_internal:
                _event(report, EventKind.MESSAGE)
            record(
                action="report.internal_note" if is_internal else "report.team_message",
                actor=author,
                request=request,
                target=report,
            )
            if not is_internal:
                notify_reporter(report=report, message=message)
    except BaseException:
        for item in written:
            file_store().delete(item.stored.name)
        raise
    return message


def notify_reporter(*, report: Report, message: Message | None = None, what: str = "message") -> None:
    """Queue a mail telling the reporter something new is in their portal (a magic link; the message text
    only when it can be encrypted to their key). Call inside the transaction of the change."""
    from psirt.notify.mail import send_mail_bilingual

    send_mail_bilingual(
        to=[report.reporter_email],
        template="intake/mail/reporter_notice",
        context={
            "report": _mail_report(report),
            "what": what,
            "portal_url": magic_url(report),
            "message_body": message.body if (message is not None and report.pgp_key) else "",
        },
        language=report.language,
        pgp_key=report.pgp_key,
    )


def set_stage(
    *, report: Report, stage: str, actor: Any, request: HttpRequest | None = None, notify: bool = True
) -> None:
    """Move the reporter-visible stage (the case desk calls this as the case moves). Records a timeline
    event; acknowledging stamps `acknowledged_at`. Notifies the reporter by mail unless `notify=False`."""
    if stage not in Stage.values:
        raise InvalidReport({"stage": [_("Unknown stage.")]})
    if stage == report.stage:
        return
    with transaction.atomic():
        fields = ["stage", "updated_at"]
        report.stage = stage
        if stage == Stage.ACKNOWLEDGED and report.acknowledged_at is None:
            report.acknowledged_at = timezone.now()
            fields.append("acknowledged_at")
        report.save(update_fields=fields)
        _event(report, EventKind.STAGE, stage=stage)
        record(action="report.stage_changed", actor=actor, request=request, target=report, data={"stage": stage})
        if notify:
            notify_reporter(report=report, what="stage")


def mark_taken(*, report: Report, actor: Any, request: HttpRequest | None = None) -> None:
    """A case has taken the report: it leaves the leads' inbox (its case's people see it from now on)."""
    with transaction.atomic():
        report.inbox_state = InboxState.TAKEN
        report.save(update_fields=["inbox_state", "updated_at"])
        record(action="report.taken", actor=actor, request=request, target=report)


def set_agreed_disclosure_date(
    *, report: Report, date: dt.date | None, actor: Any, request: HttpRequest | None = None
) -> None:
    """The team records the disclosure date agreed with the reporter (shown in the portal)."""
    with transaction.atomic():
        report.agreed_disclosure_date = date
        report.save(update_fields=["agreed_disclosure_date", "updated_at"])
        _event(report, EventKind.DATE_AGREED, date=date)
        record(
            action="report.date_agreed",
            actor=actor,
            request=request,
            target=report,
            data={"date": date.isoformat() if date else None},
        )
        notify_reporter(report=report, what="date")


@dataclass(frozen=True)
class DescriptionForStaff:
    """The description as staff should read it: decrypted with the team key when it is an OpenPGP message
    and the key is configured; otherwise as received with `note` saying why."""

    text: str
    was_encrypted: bool
    decrypted: bool
    note: str = ""


def description_for_staff(report: Report) -> DescriptionForStaff:
    text = report.description
    if not report.description_is_pgp:
        return DescriptionForStaff(text=text, was_encrypted=False, decrypted=False)
    if not pgp.team_key_configured():
        return DescriptionForStaff(
            text=text,
            was_encrypted=True,
            decrypted=False,
            note=_("This report is OpenPGP-encrypted and no team key is configured (PSIRT_TEAM_KEY_FILE)."),
        )
    try:
        return DescriptionForStaff(text=pgp.decrypt_with_team_key(text), was_encrypted=True, decrypted=True)
    except pgp.PgpError as exc:
        return DescriptionForStaff(text=text, was_encrypted=True, decrypted=False, note=str(exc))


def purge_expired(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Housekeeping: expired stashes and rate-limit counters."""
    return {"stashes": purge_expired_stashes(now=now), "counters": ratelimit.purge_expired_counters()}
