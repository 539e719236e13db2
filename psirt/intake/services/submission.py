"""Submitting a report (the web form, the API and the mail gate call `submit_report`).

A report answered with a tracking ID is stored: files are encrypted to disk *before* the database transaction
(and removed again if it fails), the transaction holds the report, its files, its queued acknowledgment and
its audit entry together, and mail goes out only after the commit — a mail failure never undoes a report.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.audit.services import record
from psirt.catalog.models import FirmwareRelease, Product
from psirt.counters.services import ratelimit
from psirt.counters.services.ratelimit import Limit
from psirt.counters.services.sequences import next_in_year_counting
from psirt.intake.exceptions import InvalidReport
from psirt.intake.models import (
    SEQUENCE_SCOPE,
    Attachment,
    AuthorKind,
    EventKind,
    PublishPlan,
    Report,
    Source,
    YesNoUnknown,
)
from psirt.intake.services.attachments import IncomingFile, get_stash, write_files
from psirt.intake.services.common import (
    TEXT_LIMITS,
    add_event,
    check_text_limits,
    mail_report_facts,
    prepare_reporter_mail,
)
from psirt.intake.services.limits import limit
from psirt.intake.services.tokens import email_hash, hash_token, new_token, normalise_email, portal_url
from psirt.lib import pgp
from psirt.lib.crypto import file_store, seal
from psirt.lib.http import client_address
from psirt.lib.prepared import PreparedInsert
from psirt.organization.models import OrganizationProfile, read_profile
from psirt.organization.queries import acknowledgment_due

logger = logging.getLogger(__name__)


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
    product: Product | None = None
    product_other: str = ""
    release: FirmwareRelease | None = None
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


@dataclass(frozen=True)
class Submission:
    """What submitting returns: the stored report and the private token (shown once, never stored)."""

    report: Report
    token: str

    @property
    def portal_url(self) -> str:
        return portal_url(self.report, self.token)


def _count_and_number(year: int, limits: Sequence[Limit]) -> int:
    """Count the submission's rate-limit hits and take the next tracking number of `year` (see
    psirt.counters.services.sequences)."""
    return next_in_year_counting(SEQUENCE_SCOPE, year, *limits)


def format_tracking_id(year: int, number: int) -> str:
    return f"VR-{year}-{number:04d}"


def _ack_due(now: dt.datetime, profile: OrganizationProfile, token: str | None) -> dt.datetime | None:
    try:
        return acknowledgment_due(now, profile, token)
    except Exception:
        # A broken calendar setting must not lose a report; the desk shows the deadline as unknown.
        logger.exception("acknowledgment deadline could not be computed")
        return None


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
    check_text_limits(
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
    address = ip or (client_address(request) if request is not None else None)
    limits = [limit("report_email", normalise_email(data.reporter_email))]
    if address:
        limits.insert(0, limit("report_ip", address))
    # Limits first (a read): a refused request costs no encrypted upload. Counted below.
    ratelimit.check(*limits)

    stash = get_stash(stash_token)
    stashed = list(stash.files.all()) if stash else []
    written = write_files(files, already=sum(f.size for f in stashed))
    token = new_token()
    now = timezone.now()
    # The profile with the change token it was read under, which the calendar is kept under too: one read.
    profile, profile_token = read_profile()
    ack_due = _ack_due(now, profile, profile_token)
    year = timezone.localtime(now).year
    # The report is built, and its texts encrypted, before the transaction opens: on SQLite every write
    # transaction waits for the one before it, so work done inside one holds up every other submission.
    report = Report(
        year=year,
        source=source,
        # Empty when the reporter wrote in none of the site languages: mail then goes out in every one.
        language=language if language in dict(settings.LANGUAGES) else "",
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
    # Their INSERTs compiled now, outside the transaction; only the number, and the report's id in each file's
    # row, are filled in there.
    report_insert = PreparedInsert(report, late=("number", "tracking_id"))
    attachment_inserts = [PreparedInsert(attachment, late=("report",)) for attachment in attachments]
    # The acknowledgment's row too; only its context, which names the tracking ID, is filled in there.
    acknowledgment = (
        prepare_reporter_mail(
            report=report, template="intake/mail/acknowledgment", token=token, reply_to=(profile.security_email,)
        )
        if send_acknowledgment
        else None
    )
    flush = False
    try:
        with _write_transaction() as joined:
            # 1. Count the request (the counter of an address is shared by all its requests) and take the
            #    year's next number. A refusal here costs no number.
            with _short_transaction(joined):
                report.number = _count_and_number(year, limits)
            report.tracking_id = format_tracking_id(year, report.number)
            # 2. Store the report, its files and its acknowledgment; the audit entry, whose chain head is the
            #    one contended row here, is appended last, just before COMMIT. Should this fail after a
            #    separate counter transaction, its number stays unused (a gap, logged below) but nothing else
            #    is left behind.
            try:
                with _short_transaction(joined, then_wait=True) as flush:
                    report_insert.run()
                    for attachment, insert in zip(attachments, attachment_inserts, strict=True):
                        attachment.report = report
                        insert.run()
                    if stash is not None:
                        stash.delete()
                    if data.proposed_disclosure_date:
                        add_event(
                            report,
                            EventKind.DATE_PROPOSED,
                            at=now,
                            by_reporter=True,
                            date=data.proposed_disclosure_date,
                        )
                    if acknowledgment is not None:
                        # Queued with the report: committed together, sent by the worker (the request never
                        # waits for the mail server, and a report is never without its acknowledgment).
                        acknowledgment.queue(_acknowledgment_context(report, profile))
                    record(
                        action="report.submitted",
                        request=request,
                        target=report,
                        data={"source": source, "files": len(written) + len(stashed)},
                    )
            except BaseException:
                if not connection.in_atomic_block:  # the number was committed on its own: a gap
                    logger.error("tracking ID %s was taken but its report could not be stored", report.tracking_id)
                raise
    except BaseException:
        store = file_store()
        for item in written:
            store.delete(item.stored.name)
        raise
    if flush:
        # Committed: the files belong to the report now, whatever happens here. Only once this returns is the
        # report on disk, and only then is it acknowledged (an error here answers 500, never 201).
        _wait_for_the_disk()
    return Submission(report=report, token=token)


@contextlib.contextmanager
def _write_transaction() -> Iterator[bool]:
    """The transaction a submission's writes share; yields whether they join it (then they need no
    savepoints of their own: a failure rolls all of it back). On SQLite, one: every write transaction there
    takes the whole database's write lock, so splitting the writes only adds a second wait for that lock and
    a second COMMIT per report. Elsewhere none: the counter-and-number transaction and the report's own
    transaction commit apart (see `_short_transaction`)."""
    if connection.vendor != "sqlite":
        yield False
        return
    with transaction.atomic():
        yield True


@contextlib.contextmanager
def _short_transaction(joined: bool, *, then_wait: bool = False) -> Iterator[bool]:
    """One of a submission's transactions on engines that lock rows one by one (PostgreSQL): the counter and
    number, then the report. Each takes a row every submission contends for (the address's rate counter and
    the year's sequence; the audit chain's head), and a row lock lasts until COMMIT — until the commit's WAL
    flush when COMMIT waits for it, so with the head held through a flush, intake's throughput was one report
    per disk flush. Their COMMITs do not wait for the disk (`synchronous_commit` off for the transaction): the
    rows are released as soon as the commit is logged. The counter-and-number transaction is written to disk
    by the report's flush. The report's (`then_wait`) commits so only where the database lets
    `_wait_for_the_disk` run (otherwise it waits for the disk itself, as before), and yields whether the
    caller must then call `_wait_for_the_disk` before it tells anyone the report is stored. Only for the
    outermost transaction: inside a caller's transaction the setting would apply to all of it."""
    outermost = not connection.in_atomic_block
    with transaction.atomic(savepoint=not joined):
        unflushed = outermost and connection.vendor == "postgresql" and (not then_wait or _disk_barrier_allowed())
        if unflushed:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield unflushed and then_wait


# A transactional WAL message: it gives the transaction an ID and a WAL record, so its COMMIT (synchronous)
# waits until the WAL is on disk up to that commit, which is after every commit this connection made before.
# Nothing reads the message.
_DISK_BARRIER = "SELECT pg_logical_emit_message(true, 'psirt.durable', '')"
_BARRIER_ALLOWED: dict[tuple[str, str], bool] = {}


def _disk_barrier_allowed() -> bool:
    """Whether the database role may run `_DISK_BARRIER` (PostgreSQL grants it to everyone unless an operator
    revoked it); asked once per process and database."""
    key = (connection.alias, str(connection.settings_dict.get("NAME")))
    if key not in _BARRIER_ALLOWED:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT has_function_privilege(current_user, 'pg_logical_emit_message(boolean,text,text)', 'EXECUTE')"
            )
            _BARRIER_ALLOWED[key] = bool(cursor.fetchone()[0])
    return _BARRIER_ALLOWED[key]


def _wait_for_the_disk() -> None:
    """Return once everything this connection committed is on disk (PostgreSQL; outside a transaction). The
    waits of concurrent submissions share one flush (the server's group commit), and no row is locked while
    they wait, so submissions no longer queue one disk flush each behind the audit chain's head."""
    assert not connection.in_atomic_block, "a disk barrier inside a transaction would not commit"
    with connection.cursor() as cursor:
        cursor.execute(_DISK_BARRIER)


def _acknowledgment_context(report: Report, profile: OrganizationProfile) -> dict[str, Any]:
    """What the acknowledgment says besides its links: the report's facts, the vendor's names, the deadline."""
    return {
        "report": mail_report_facts(report),
        "org_names": {"en": profile.name_en, "zh-hans": profile.name_zh or profile.name_en},
        "ack_business_days": profile.ack_business_days,
    }
