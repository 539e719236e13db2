"""What the reporter does in the portal: messages and files, a proposed disclosure date, how to be credited.
Each is rate-limited per report and tells the security mailbox that something happened (never what).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from psirt.audit.services import record
from psirt.counters.services import ratelimit
from psirt.intake.exceptions import InvalidReport, ReportClosed
from psirt.intake.models import (
    AuthorKind,
    EventKind,
    Message,
    Report,
    Via,
)
from psirt.intake.services.attachments import IncomingFile, attach_files, write_files
from psirt.intake.services.common import add_event, check_text_limits
from psirt.intake.services.limits import limit
from psirt.lib import pgp
from psirt.lib.crypto import file_store
from psirt.lib.http import absolute_url
from psirt.mail.services import send_mail_bilingual
from psirt.organization.models import OrganizationProfile


def _portal_limit(report: Report) -> None:
    with transaction.atomic():
        ratelimit.hit(limit("portal_report", str(report.public_id)))


def _notify_team(report: Report, what: str) -> None:
    """Tell the security mailbox that something happened on a report — without its content."""

    profile = OrganizationProfile.get()
    with translation.override("en"):
        url = absolute_url(reverse("desk:intake:report", kwargs={"public_id": report.public_id}))
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
    check_text_limits({"message": body})
    _portal_limit(report)
    written = write_files(files)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                report=report,
                author_kind=AuthorKind.REPORTER,
                body=body,
                body_is_pgp=pgp.is_armored_message(body),
                via=via,
            )
            attach_files(report, written, author_kind=AuthorKind.REPORTER, message=message)
            add_event(report, EventKind.FILES if not body.strip() else EventKind.MESSAGE, by_reporter=True)
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
        add_event(report, EventKind.DATE_PROPOSED, by_reporter=True, date=date)
        record(action="report.date_proposed", request=request, target=report, data={"date": date.isoformat()})
        _notify_team(report, "date")


def set_credit(*, report: Report, credit: str, anonymous: bool, request: HttpRequest | None = None) -> None:
    """The reporter edits how they want to be credited (or asks for no credit)."""
    credit = "" if anonymous else (credit or "").strip()
    check_text_limits({"credit": credit})
    if not anonymous and not credit:
        raise InvalidReport({"credit": [_("Enter the name to credit, or choose no public credit.")]})
    _portal_limit(report)
    with transaction.atomic():
        report.credit = credit
        report.credit_anonymous = anonymous
        report.save(update_fields=["credit", "credit_anonymous", "updated_at"])
        add_event(report, EventKind.CREDIT, by_reporter=True)
        record(action="report.credit_changed", request=request, target=report)
