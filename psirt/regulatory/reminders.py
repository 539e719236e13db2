"""Reminders of regulatory clocks: at 50 % and 80 % of each clock, at its deadline, and every hour after it until
the stage is filed — to the case's assignees and all leads, through the outbox, in both languages.

Computed from the clocks on every scheduler tick (nothing is scheduled ahead). Each threshold is a unique
`ReminderSent` row inserted in the transaction that queues its mails: a second worker's insert fails and it sends
nothing, so each threshold is mailed once however many workers run. A worker that was down sends, when it is
back, one mail for the latest threshold reached and records the earlier ones it skipped (a burst of stale
"50 %" and "80 %" mails after an outage would only bury the one that matters).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from psirt.accounts.models import Role, User
from psirt.audit.services import record
from psirt.lib.http import absolute_url
from psirt.mail.services import send_mail_bilingual
from psirt.regulatory.clocks import Clock
from psirt.regulatory.models import Decision, Obligation, ReminderSent
from psirt.regulatory.services import ensure_exploited_obligations, obligation_clocks

FIXED = (("50", 0.5), ("80", 0.8))
HOUR = dt.timedelta(hours=1)


def reached(clock: Clock, now: dt.datetime) -> list[str]:
    """The thresholds of an open clock reached at `now`, oldest first: "50", "80", "due", then "overdue-<n>" for
    the n-th full hour past the deadline (only the latest of those: the hourly reminders replace each other)."""
    if clock.due_at is None or clock.done:
        return []
    fraction = clock.elapsed_fraction(now)
    out = [name for name, at in FIXED if fraction is not None and fraction >= at]
    if now >= clock.due_at:
        out.append("due")
        hours = int((now - clock.due_at) / HOUR)
        if hours >= 1:
            out.append(f"overdue-{hours}")
    return out


def recipients(obligation: Obligation) -> list[User]:
    people = {u.pk: u for u in User.objects.filter(role=Role.LEAD, is_active=True)}
    if obligation.case_id is not None:
        for user in User.objects.filter(assignments__case_id=obligation.case_id, is_active=True):
            people.setdefault(user.pk, user)
    return sorted(people.values(), key=lambda u: u.email)


def _send(obligation: Obligation, clock: Clock, thresholds: list[str], now: dt.datetime) -> bool:
    assert clock.due_at is not None
    latest = thresholds[-1]
    people = recipients(obligation)
    try:
        with transaction.atomic():
            # The latest threshold first: its unique row is the lock that makes this run the only sender.
            ReminderSent.objects.create(
                obligation=obligation,
                stage=clock.stage,
                clock_key=clock.key,
                due_at=clock.due_at,
                threshold=latest,
                sent_at=now,
                recipients=len(people),
            )
            done = set(
                ReminderSent.objects.filter(
                    obligation=obligation, stage=clock.stage, clock_key=clock.key, due_at=clock.due_at
                ).values_list("threshold", flat=True)
            )
            for skipped in thresholds[:-1]:
                if skipped not in done and not skipped.startswith("overdue-"):
                    ReminderSent.objects.create(
                        obligation=obligation,
                        stage=clock.stage,
                        clock_key=clock.key,
                        due_at=clock.due_at,
                        threshold=skipped,
                        sent_at=now,
                        recipients=0,
                    )
            for user in people:
                language = user.language or "en"
                send_mail_bilingual(
                    to=[user.email],
                    template="regulatory/mail/reminder",
                    context={
                        # The track, stage and deadline only: titles can be telling, and mail is less private
                        # than the desk. The link leads to the desk (sign-in + 2FA).
                        "track": obligation.track,
                        "stage": clock.stage,
                        "threshold": "overdue" if latest.startswith("overdue-") else latest,
                        "case_key": obligation.case.key if obligation.case else "",
                        "due": clock.due_at.strftime("%Y-%m-%d %H:%M UTC"),
                        "url": absolute_url(f"/{language}/desk/regulatory/{obligation.public_id}/"),
                    },
                    language=language,
                )
            record(
                action="regulatory.reminder_sent",
                target=obligation,
                data={"stage": clock.stage, "threshold": latest, "recipients": len(people)},
            )
    except IntegrityError:
        return False  # sent before, by an earlier run or a concurrent worker
    return True


def send_reminders(*, now: dt.datetime | None = None) -> int:
    """Send every reminder due now; idempotent. Returns the number of reminders (not mails) sent."""
    now = now or timezone.now()
    ensure_exploited_obligations()
    sent = 0
    for obligation in Obligation.objects.exclude(decision=Decision.NOT_REPORTABLE).select_related("case"):
        for clock in obligation_clocks(obligation):
            thresholds = reached(clock, now)
            if not thresholds or clock.due_at is None:
                continue
            if ReminderSent.objects.filter(
                obligation=obligation,
                stage=clock.stage,
                clock_key=clock.key,
                due_at=clock.due_at,
                threshold=thresholds[-1],
            ).exists():
                continue
            if _send(obligation, clock, thresholds, now):
                sent += 1
    return sent
