"""Reminders at 50 %, 80 %, the deadline and hourly while overdue, to the case's assignees and all leads, each
threshold once — across runs, after an outage, and with two workers on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import connection

from psirt.accounts.models import User
from psirt.mail.models import OutboxMessage
from psirt.mail.services import render_bilingual
from psirt.regulatory import services
from psirt.regulatory.clocks import Stage
from psirt.regulatory.models import Obligation, ReminderSent
from psirt.regulatory.reminders import send_reminders

UTC = dt.UTC


@pytest.fixture
def obligation(obligation: Obligation) -> Obligation:
    """The exploited case's obligation, without a measure yet (its final-report clock does not run)."""
    Obligation.objects.filter(pk=obligation.pk).update(measure_available_at=None)
    obligation.refresh_from_db()
    return obligation


def _mails() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template="regulatory/mail/reminder").order_by("pk"))


def _thresholds(obligation: Obligation, stage: str) -> set[str]:
    return set(ReminderSent.objects.filter(obligation=obligation, stage=stage).values_list("threshold", flat=True))


@pytest.mark.django_db
def test_each_threshold_once_to_assignees_and_leads(obligation: Obligation, lead: User, handler: User) -> None:
    aware = obligation.aware_at
    # 2 h after awareness: nothing reached yet.
    assert send_reminders(now=aware + dt.timedelta(hours=2)) == 0
    # 12 h: 50 % of the early warning.
    assert send_reminders(now=aware + dt.timedelta(hours=12)) == 1
    assert send_reminders(now=aware + dt.timedelta(hours=12, minutes=5)) == 0
    mails = _mails()
    assert sorted(json.loads(m.to)[0] for m in mails) == sorted([lead.email, handler.email])
    context = json.loads(mails[0].context)
    assert context["stage"] == Stage.EARLY_WARNING and context["threshold"] == "50"
    # 19.2 h: 80 %; 24 h: the deadline; then every full hour overdue, once each.
    assert send_reminders(now=aware + dt.timedelta(hours=19, minutes=30)) == 1
    assert send_reminders(now=aware + dt.timedelta(hours=24)) == 1
    assert send_reminders(now=aware + dt.timedelta(hours=24, minutes=30)) == 0
    assert send_reminders(now=aware + dt.timedelta(hours=25)) == 1
    assert send_reminders(now=aware + dt.timedelta(hours=25, minutes=59)) == 0
    assert send_reminders(now=aware + dt.timedelta(hours=26)) == 1
    assert _thresholds(obligation, Stage.EARLY_WARNING) == {"50", "80", "due", "overdue-1", "overdue-2"}


@pytest.mark.django_db
def test_a_filed_stage_stops_its_reminders(obligation: Obligation, lead: User) -> None:
    aware = obligation.aware_at
    services.decide(obligation=obligation, actor=lead, reportable=True, evidence="in the wild")
    services.submit_stage(obligation=obligation, actor=lead, stage=Stage.EARLY_WARNING)
    send_reminders(now=aware + dt.timedelta(hours=30))
    assert _thresholds(obligation, Stage.EARLY_WARNING) == set()
    # The 72 h notification still reminds: nothing at 30 h (42 %), its 50 % at 36 h.
    assert _thresholds(obligation, Stage.NOTIFICATION) == set()
    send_reminders(now=aware + dt.timedelta(hours=36))
    assert _thresholds(obligation, Stage.NOTIFICATION) == {"50"}
    assert _thresholds(obligation, Stage.EARLY_WARNING) == set()


@pytest.mark.django_db
def test_not_reportable_stops_reminders(obligation: Obligation, lead: User) -> None:
    services.decide(obligation=obligation, actor=lead, reportable=False, reason="Lab only")
    assert send_reminders(now=obligation.aware_at + dt.timedelta(hours=30)) == 0
    assert not _mails()


@pytest.mark.django_db
def test_a_worker_down_sends_the_missed_reminder_once(obligation: Obligation) -> None:
    aware = obligation.aware_at
    # Down from 1 h to 23 h: the 50 % and 80 % of the early warning were missed.
    assert send_reminders(now=aware + dt.timedelta(hours=23)) == 1
    mails = _mails()
    assert {json.loads(m.context)["threshold"] for m in mails} == {"80"}
    assert {"50", "80"} <= _thresholds(obligation, Stage.EARLY_WARNING)
    assert send_reminders(now=aware + dt.timedelta(hours=23, minutes=30)) == 0
    assert len(_mails()) == len(mails)


@pytest.mark.django_db
def test_reminder_mail_is_bilingual_and_discreet(obligation: Obligation) -> None:
    send_reminders(now=obligation.aware_at + dt.timedelta(hours=25))
    message = _mails()[0]
    subject, text, _html = render_bilingual(message.template, json.loads(message.context), "en")
    assert "OVERDUE" in subject
    assert "逾期" in subject
    assert "Early warning (24 h)" in text and "早期预警" in text
    assert obligation.title not in text  # titles can be telling
    assert f"/desk/regulatory/{obligation.public_id}/" in text


@pytest.mark.django_db(transaction=True)
def test_two_workers_send_each_threshold_once(obligation: Obligation) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent workers need PostgreSQL (SQLite serialises every writer)")
    now = obligation.aware_at + dt.timedelta(hours=12)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    counts: list[int] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            counts.append(send_reminders(now=now))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sum(counts) == 1
    assert ReminderSent.objects.filter(obligation=obligation).count() == 1
    assert len(_mails()) == 2  # one lead, one assigned handler
