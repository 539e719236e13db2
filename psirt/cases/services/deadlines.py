"""Deadlines of cases: per-severity remediation times, whether a deadline is done, overdue or due soon (the one
rule: `deadline_status`, and `deadline_q` in SQL), and reminders.

- acknowledgment due: received + N business days (computed at intake, stored on the case);
- remediation due: confirmed + the days of the case's severity (leads edit them; the profile's default
  otherwise), moved when the severity changes while the fix is being made;
- the agreed disclosure date (a date; it passes at the end of that day, local time).

Reminders: the working day before a deadline, a mail to the case's assignees; once it has passed, a mail to
the leads. Each reminder is recorded (`DeadlineReminder`) in the transaction that queues its mail, so
running the task again sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from psirt.accounts.models import Role, User
from psirt.audit.services import record
from psirt.cases.exceptions import InvalidInput, NotAllowed
from psirt.cases.models import (
    ACK_STATES,
    DISCLOSURE_STATES,
    REMEDIATION_STATES,
    Case,
    DeadlineKind,
    DeadlineReminder,
    RemediationPolicy,
    ReminderAudience,
    deadline_binds_q,
)
from psirt.cases.services.workflow import FINISHED, CaseState
from psirt.intake.models import Report
from psirt.lib.access import require_lead
from psirt.lib.business_days import Calendar
from psirt.lib.http import absolute_url
from psirt.lib.severity import Severity
from psirt.mail.services import send_mail_bilingual
from psirt.organization.models import OrganizationProfile
from psirt.organization.queries import describe_day, organization_calendar

logger = logging.getLogger(__name__)

MAX_DAYS = 730

# The states in which each deadline binds (is owed and can pass) are `ACK_STATES`, `REMEDIATION_STATES` and
# `DISCLOSURE_STATES`, with the models (the stored next deadline is computed from them). Those in which it is
# done: the fix is made once the case awaits disclosure (or later), the disclosure is made once the case is
# published (or later); a finished case (closed, or an exit such as duplicate or not a vulnerability) owes
# nothing more. The acknowledgment is done once the case is acknowledged or has left "new".
REMEDIATION_DONE_STATES = frozenset({CaseState.AWAITING_DISCLOSURE, CaseState.PUBLISHED, *FINISHED})
DISCLOSURE_DONE_STATES = frozenset({CaseState.PUBLISHED, *FINISHED})
# How near an open deadline must be to be "due soon" (the disclosure window counts local days).
SOON: dict[str, dt.timedelta] = {
    DeadlineKind.ACKNOWLEDGMENT: dt.timedelta(days=2),
    DeadlineKind.REMEDIATION: dt.timedelta(days=14),
    DeadlineKind.DISCLOSURE: dt.timedelta(days=7),
}
DEADLINE_STATUSES = ("done", "overdue", "soon", "open", "none")


# --- whether a deadline is overdue: the one rule -------------------------------------------------------------


def deadline_status(case: Case, kind: str, now: dt.datetime) -> str:
    """Where one deadline of `case` stands at `now`: "done", "overdue", "soon", "open" or "none".

    - "none": the deadline is not set, or does not bind in the case's state (a remediation date kept on a case
      reopened to triage; a disclosure date agreed before the case is confirmed and being fixed);
    - "done": what it asks for happened, or nothing more is owed —
      acknowledgment: the case is acknowledged (`acknowledged_at`) or has left "new";
      remediation: the case awaits disclosure, is published or closed, or ended in an exit (rejected,
      duplicate, not a vulnerability, out of scope);
      disclosure: the case is published or closed, or ended in an exit;
    - otherwise the deadline binds (acknowledgment: new and not acknowledged; remediation: confirmed or in
      remediation; disclosure: in remediation or awaiting disclosure) and it is
      "overdue" once its instant is reached (due <= now; the agreed disclosure date: once its local day is
      over, i.e. the day is before today), "soon" within `SOON[kind]` (due <= now + window; disclosure: the
      day is at most that many days after today), "open" beyond.

    `deadline_q` selects the same cases in SQL; every page, count and reminder asks one of the two.
    """
    if kind == DeadlineKind.ACKNOWLEDGMENT:
        due: dt.datetime | dt.date | None = case.ack_due_at
        binds = case.state in ACK_STATES and case.acknowledged_at is None
        done = not binds
    elif kind == DeadlineKind.REMEDIATION:
        due = case.remediation_due_at
        binds = case.state in REMEDIATION_STATES
        done = case.state in REMEDIATION_DONE_STATES
    elif kind == DeadlineKind.DISCLOSURE:
        due = case.disclosure_date
        binds = case.state in DISCLOSURE_STATES
        done = case.state in DISCLOSURE_DONE_STATES
    else:
        raise ValueError(f"unknown deadline kind {kind!r}")
    if due is None:
        return "none"
    if done:
        return "done"
    if not binds:
        return "none"
    if isinstance(due, dt.datetime):
        if due <= now:
            return "overdue"
        return "soon" if due <= now + SOON[kind] else "open"
    today = timezone.localdate(now)
    if due < today:
        return "overdue"
    return "soon" if due <= today + SOON[kind] else "open"


DUE_FIELD: dict[str, str] = {
    DeadlineKind.ACKNOWLEDGMENT: "ack_due_at",
    DeadlineKind.REMEDIATION: "remediation_due_at",
    DeadlineKind.DISCLOSURE: "disclosure_date",
}


def deadline_q(kind: str, status: str, now: dt.datetime) -> Q:
    """SQL for the cases whose deadline of `kind` has `status` ("overdue", "soon" or "open") at `now`: exactly
    the cases for which `deadline_status(case, kind, now)` says so (tested against it)."""
    field = DUE_FIELD[kind]
    if kind == DeadlineKind.DISCLOSURE:
        today = timezone.localdate(now)
        passed, soon_end = today - dt.timedelta(days=1), today + SOON[kind]
    else:
        passed, soon_end = now, now + SOON[kind]
    if status == "overdue":
        window = Q(**{f"{field}__lte": passed})
    elif status == "soon":
        window = Q(**{f"{field}__gt": passed, f"{field}__lte": soon_end})
    elif status == "open":
        window = Q(**{f"{field}__gt": soon_end})
    else:
        raise ValueError(f"deadline_q selects overdue, soon or open deadlines, not {status!r}")
    return deadline_binds_q(kind) & window


def case_due_status(case: Case, now: dt.datetime) -> str:
    """The case as a whole: "overdue" if any of its deadlines is, else "soon" if any is due soon, else ""."""
    statuses = {deadline_status(case, kind, now) for kind in DeadlineKind.values}
    return "overdue" if "overdue" in statuses else "soon" if "soon" in statuses else ""


def overdue_q(now: dt.datetime) -> Q:
    """SQL for `case_due_status(case, now) == "overdue"`: some deadline of the case is overdue — the stored
    next deadline (the acknowledgment or the remediation, whichever binds: `deadline_q`'s two instants in one
    indexed column) has passed, or the agreed disclosure date has."""
    return Q(next_due__lte=now) | deadline_q(DeadlineKind.DISCLOSURE, "overdue", now)


def due_soon_q(now: dt.datetime) -> Q:
    """SQL for `case_due_status(case, now) == "soon"`: some deadline is due soon and none is overdue."""
    q = Q()
    for kind in DeadlineKind.values:
        q |= deadline_q(kind, "soon", now)
    return q & ~overdue_q(now)


# --- per-severity remediation times -----------------------------------------------------------------------


def default_remediation_days() -> int:
    return int(OrganizationProfile.get().remediation_days)


def remediation_days_for(severity: str) -> int:
    """Days to remediate a case of `severity` (the profile's default when leads set none, or no severity)."""
    days = (
        RemediationPolicy.objects.filter(severity=severity).values_list("days", flat=True).first() if severity else None
    )
    return int(days) if days else default_remediation_days()


def remediation_table() -> list[tuple[str, str | Promise, int, bool]]:
    """(severity, label, days, is_custom) for every severity, for the leads' form."""
    custom = dict(RemediationPolicy.objects.values_list("severity", "days"))
    default = default_remediation_days()
    return [(s, label, int(custom.get(s, default)), s in custom) for s, label in Severity.choices]


def set_remediation_days(*, severity: str, days: int | None, actor: User, request: HttpRequest | None = None) -> None:
    """A lead sets (or with None, removes) the remediation time of one severity. Existing deadlines stay:
    the new time applies to cases confirmed or re-scored from now on."""
    require_lead(actor, NotAllowed)
    if severity not in Severity.values:
        raise InvalidInput(_("Unknown severity."))
    if days is not None and not 1 <= int(days) <= MAX_DAYS:
        raise InvalidInput(_("Give a number of days between 1 and %(max)d.") % {"max": MAX_DAYS})
    with transaction.atomic():
        if days is None:
            RemediationPolicy.objects.filter(severity=severity).delete()
        else:
            RemediationPolicy.objects.update_or_create(severity=severity, defaults={"days": int(days)})
        record(
            action="cases.remediation_days_set",
            actor=actor,
            request=request,
            target_type="remediation_policy",
            target_id=severity,
            data={"days": days},
        )


def rescore_deadline(case: Case) -> None:
    """After a severity change while the fix is being made, move the remediation deadline to confirmed +
    the new severity's days (the reporters' portals follow, quietly). Call inside the change's transaction."""
    if case.confirmed_at is None or case.state not in REMEDIATION_STATES:
        return
    due = case.confirmed_at + dt.timedelta(days=remediation_days_for(case.severity))
    if due == case.remediation_due_at:
        return
    Case.objects.filter(pk=case.pk).update(remediation_due_at=due)
    case.remediation_due_at = due
    Report.objects.filter(case_link__case=case, case_link__is_duplicate=False).update(remediation_due_at=due)


def disclosure_instant(day: dt.date) -> dt.datetime:
    """The agreed disclosure date passes at the end of that day in the site's time zone."""
    tz = timezone.get_default_timezone()
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=tz)


# --- reminders --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """One open deadline: the instant it passes, and the local day it is stated as (for the agreed disclosure
    date, the agreed day itself — its instant is the midnight that ends it, which is already the next day)."""

    case: Case
    kind: str
    due_at: dt.datetime
    day: dt.date


def _deadlines(now: dt.datetime, horizon: dt.timedelta) -> list[Deadline]:
    """Every open deadline up to `horizon` from now (and every passed one), from three indexed queries."""
    until = now + horizon
    found: list[Deadline] = []
    # The deadlines that bind (`deadline_status` neither "done" nor "none"), up to the horizon.
    acks = Case.objects.filter(deadline_binds_q(DeadlineKind.ACKNOWLEDGMENT), ack_due_at__lt=until)
    found += [
        Deadline(c, DeadlineKind.ACKNOWLEDGMENT, c.ack_due_at, timezone.localdate(c.ack_due_at))
        for c in acks
        if c.ack_due_at
    ]
    fixes = Case.objects.filter(deadline_binds_q(DeadlineKind.REMEDIATION), remediation_due_at__lt=until)
    found += [
        Deadline(c, DeadlineKind.REMEDIATION, c.remediation_due_at, timezone.localdate(c.remediation_due_at))
        for c in fixes
        if c.remediation_due_at
    ]
    last_day = timezone.localdate(until)
    disclosures = Case.objects.filter(deadline_binds_q(DeadlineKind.DISCLOSURE), disclosure_date__lte=last_day)
    found += [
        Deadline(c, DeadlineKind.DISCLOSURE, disclosure_instant(c.disclosure_date), c.disclosure_date)
        for c in disclosures
        if c.disclosure_date
    ]
    return found


def _working_day_before(day: dt.date, calendar: Calendar) -> dt.date:
    before = day - dt.timedelta(days=1)
    for _i in range(60):  # the longest holiday runs are ~9 days; 60 is a safe bound
        if calendar.is_business_day(before):
            return before
        before -= dt.timedelta(days=1)
    return before


def due_text(deadline: Deadline, calendar: Calendar) -> str:
    """When the deadline falls, in the active language, as the case page states it: the day described by
    `describe_day` (weekend or holiday noted), then the local time — or, for the agreed disclosure date,
    that it passes at the end of the day."""
    day = str(describe_day(deadline.day, calendar=calendar))
    if deadline.kind == DeadlineKind.DISCLOSURE:
        return _("%(day)s, end of the day") % {"day": day}
    return f"{day} {timezone.localtime(deadline.due_at).strftime('%H:%M %Z')}"


def _send_once(
    *, deadline: Deadline, audience: str, recipients: list[User], now: dt.datetime, calendar: Calendar
) -> bool:
    # The day is described now, in both languages: the worker renders the mail later, from plain values.
    due = {}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            due[language] = due_text(deadline, calendar)
    try:
        with transaction.atomic():
            DeadlineReminder.objects.create(
                case=deadline.case,
                kind=deadline.kind,
                audience=audience,
                due_at=deadline.due_at,
                sent_at=now,
                recipients=len(recipients),
            )
            case = deadline.case
            for user in recipients:
                language = user.language or "en"
                send_mail_bilingual(
                    to=[user.email],
                    template="cases/mail/reminder",
                    context={
                        "key": case.key,
                        # Only the case number and the deadline: titles can be telling, and mail is less
                        # private than the desk. The link leads to the desk (sign-in + 2FA).
                        "kind": deadline.kind,
                        "passed": audience == ReminderAudience.LEADS,
                        "due_en": due["en"],
                        "due_zh": due["zh-hans"],
                        "url": absolute_url(f"/{language}/desk/cases/{case.public_id}/"),
                    },
                    language=language,
                )
            record(
                action="case.reminder_sent",
                target=case,
                data={"kind": deadline.kind, "audience": audience, "recipients": len(recipients)},
            )
    except IntegrityError:
        return False  # sent before (by an earlier run, or a concurrent worker)
    return True


def send_deadline_reminders(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Send what is due: the working day before a deadline to the case's assignees; after it, to the leads.
    Idempotent (each reminder once per deadline instant); safe to run as often as you like."""

    now = now or timezone.now()
    calendar = organization_calendar()
    today = timezone.localdate(now)
    leads = list(User.objects.filter(role=Role.LEAD, is_active=True))
    sent = {"assignees": 0, "leads": 0}
    already = set(
        DeadlineReminder.objects.filter(sent_at__gte=now - dt.timedelta(days=800)).values_list(
            "case_id", "kind", "audience", "due_at"
        )
    )
    for deadline in _deadlines(now, horizon=dt.timedelta(days=20)):
        if deadline.due_at <= now:
            audience, people = ReminderAudience.LEADS, leads
        elif _working_day_before(deadline.day, calendar) <= today:
            audience = ReminderAudience.ASSIGNEES
            people = [u for u in deadline.case.assignees.all() if u.is_active]
        else:
            continue
        if (deadline.case.pk, deadline.kind, audience, deadline.due_at) in already or not people:
            continue
        if _send_once(deadline=deadline, audience=audience, recipients=people, now=now, calendar=calendar):
            sent[audience] += 1
    return sent
