"""The team's side of a report: audited views, team messages and internal notes, the reporter-visible stage,
the agreed disclosure date, and the description as staff should read it (decrypted with the team key).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.audit.services import record
from psirt.intake.exceptions import InvalidReport
from psirt.intake.models import (
    AuthorKind,
    EventKind,
    InboxState,
    Message,
    Report,
    Stage,
    Via,
)
from psirt.intake.services.attachments import IncomingFile, attach_files, write_files
from psirt.intake.services.common import add_event, check_text_limits, mail_report_facts, send_reporter_mail
from psirt.lib import pgp
from psirt.lib.crypto import file_store


def record_staff_view(*, report: Report, user: User, request: HttpRequest | None = None) -> None:
    """Every staff view of a report is audited."""
    record(action="report.viewed", actor=user, request=request, target=report)


def post_team_message(
    *,
    report: Report,
    author: User,
    body: str,
    is_internal: bool = False,
    files: Sequence[IncomingFile] = (),
    request: HttpRequest | None = None,
) -> Message:
    """A message from the team. Not internal: the reporter gets a mail with a magic portal link (and the
    text itself only when it can be encrypted to their key). Internal: a staff note, never shown to them."""
    if not (body or "").strip():
        raise InvalidReport({"body": [_("Write a message.")]})
    check_text_limits({"message": body})
    written = write_files(files)
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
            attach_files(report, written, author_kind=AuthorKind.TEAM, message=message, is_internal=is_internal)
            if not is_internal:
                add_event(report, EventKind.MESSAGE)
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
    send_reporter_mail(
        report=report,
        template="intake/mail/reporter_notice",
        context={
            "report": mail_report_facts(report),
            "what": what,
            "message_body": message.body if (message is not None and report.pgp_key) else "",
        },
    )


def set_stage(
    *, report: Report, stage: str, actor: User, request: HttpRequest | None = None, notify: bool = True
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
        add_event(report, EventKind.STAGE, stage=stage)
        record(action="report.stage_changed", actor=actor, request=request, target=report, data={"stage": stage})
        if notify:
            notify_reporter(report=report, what="stage")


def mark_taken(*, report: Report, actor: User, request: HttpRequest | None = None) -> None:
    """A case has taken the report: it leaves the leads' inbox (its case's people see it from now on)."""
    with transaction.atomic():
        report.inbox_state = InboxState.TAKEN
        report.save(update_fields=["inbox_state", "updated_at"])
        record(action="report.taken", actor=actor, request=request, target=report)


def set_agreed_disclosure_date(
    *, report: Report, date: dt.date | None, actor: User, request: HttpRequest | None = None
) -> None:
    """The team records the disclosure date agreed with the reporter (shown in the portal)."""
    with transaction.atomic():
        report.agreed_disclosure_date = date
        report.save(update_fields=["agreed_disclosure_date", "updated_at"])
        add_event(report, EventKind.DATE_AGREED, date=date)
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
