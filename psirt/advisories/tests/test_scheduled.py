"""Scheduled publication: an approved advisory goes out on its agreed disclosure date by itself, through the
worker; a schedule whose conditions no longer hold is dropped with the reason on the desk."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone

from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.exceptions import EmbargoNotReached, NoFixOrMitigation
from psirt.advisories.models import Advisory, AdvisoryState
from psirt.advisories.tests.conftest import approve, make_case
from psirt.audit.models import AuditEvent
from psirt.cases.models import Case
from psirt.catalog.models import FirmwareRelease, Product

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _reset_task_backends() -> None:
    """django-tasks caches its backends and does not listen to setting changes: forget them."""
    from asgiref.local import Local
    from django_tasks import task_backends

    task_backends.__dict__.pop("settings", None)
    task_backends._connections = Local(task_backends.thread_critical)  # type: ignore[attr-defined]


@pytest.fixture
def embargoed(product: Product, releases: dict[str, FirmwareRelease], lead: User) -> Advisory:
    """An approved advisory with a fix whose case's agreed disclosure date is in three days."""
    case = make_case(product=product, disclosure_date=timezone.localdate() + dt.timedelta(days=3))
    advisory = services.create_advisory(cases=[case], actor=lead)
    services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={},
        affected=[services.AffectedInput(product=product, fixed=releases["V5.6.0"])],
    )
    return approve(advisory, lead)


def _the_day_comes(advisory: Advisory) -> dt.datetime:
    """Move the agreed date (and the schedule) to today, as if the days had passed."""
    today = timezone.localdate()
    Case.objects.filter(advisories=advisory).update(disclosure_date=today)
    moment = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    Advisory.objects.filter(pk=advisory.pk).update(scheduled_for=moment)
    return moment


def test_publishing_before_the_date_is_refused_but_scheduling_works(embargoed: Advisory, lead: User) -> None:
    with pytest.raises(EmbargoNotReached):
        services.publish_advisory(advisory=embargoed, actor=lead)
    advisory = services.schedule_publication(advisory=embargoed, actor=lead)
    expected = timezone.make_aware(dt.datetime.combine(timezone.localdate() + dt.timedelta(days=3), dt.time.min))
    assert advisory.scheduled_for == expected
    # Not due yet: the periodic task leaves it alone.
    assert services.publish_due_advisories() == []
    advisory.refresh_from_db()
    assert advisory.state == AdvisoryState.APPROVED


def test_scheduling_checks_everything_but_the_date_now(product: Product, lead: User) -> None:
    case = make_case(product=product, disclosure_date=timezone.localdate() + dt.timedelta(days=3))
    advisory = approve(services.create_advisory(cases=[case], actor=lead), lead)
    with pytest.raises(NoFixOrMitigation):
        services.schedule_publication(advisory=advisory, actor=lead)


@pytest.mark.django_db(transaction=True)
def test_worker_publishes_on_the_disclosure_date_without_anyone(embargoed: Advisory, lead: User) -> None:
    from django_tasks_db.models import DBTaskResult

    with override_settings(TASKS=DB_TASKS):
        _reset_task_backends()
        try:
            services.schedule_publication(advisory=embargoed, actor=lead)
            job = DBTaskResult.objects.get()
            assert job.run_after == embargoed.__class__.objects.get(pk=embargoed.pk).scheduled_for
            # Before the day: the worker finds nothing to run.
            call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
            embargoed.refresh_from_db()
            assert embargoed.state == AdvisoryState.APPROVED
            moment = _the_day_comes(embargoed)
            DBTaskResult.objects.update(run_after=moment)
            call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
        finally:
            _reset_task_backends()
    embargoed.refresh_from_db()
    assert embargoed.state == AdvisoryState.PUBLISHED
    assert embargoed.scheduled_for is None
    assert Case.objects.get(advisories=embargoed).state == "published"
    assert AuditEvent.objects.filter(action="advisory.published", actor=lead).exists()


def test_periodic_task_is_idempotent(embargoed: Advisory, lead: User, anonymous: Client) -> None:
    from psirt.advisories.tasks import publish_due_advisories

    services.schedule_publication(advisory=embargoed, actor=lead)
    _the_day_comes(embargoed)
    first = publish_due_advisories.enqueue()
    second = publish_due_advisories.enqueue()
    assert first.return_value == [embargoed.advisory_id]
    assert second.return_value == []
    assert embargoed.revisions.count() == 1
    assert anonymous.get(embargoed.get_absolute_url()).status_code == 200


def test_a_schedule_that_no_longer_holds_is_dropped_with_the_reason(embargoed: Advisory, lead: User) -> None:
    services.schedule_publication(advisory=embargoed, actor=lead)
    _the_day_comes(embargoed)
    # The fix was pulled after scheduling (edited in the database behind the service's back).
    embargoed.affected.update(fixed=None)
    assert services.publish_due_advisories() == []
    embargoed.refresh_from_db()
    assert embargoed.state == AdvisoryState.APPROVED
    assert embargoed.scheduled_for is None
    assert "no fix" in embargoed.schedule_problem
    assert AuditEvent.objects.filter(action="advisory.schedule_failed").exists()


def test_command_publishes_due_advisories(embargoed: Advisory, lead: User, capsys: pytest.CaptureFixture[str]) -> None:
    services.schedule_publication(advisory=embargoed, actor=lead)
    _the_day_comes(embargoed)
    call_command("publish_due_advisories")
    assert f"published {embargoed.advisory_id}" in capsys.readouterr().out


def test_scheduling_for_today_publishes_at_once_with_the_immediate_backend(
    product: Product, releases: dict[str, FirmwareRelease], lead: User, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    case = make_case(product=product, disclosure_date=timezone.localdate())
    advisory = services.create_advisory(cases=[case], actor=lead)
    services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={},
        affected=[services.AffectedInput(product=product, fixed=releases["V5.6.0"])],
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.schedule_publication(advisory=approve(advisory, lead), actor=lead)
    advisory.refresh_from_db()
    assert advisory.state == AdvisoryState.PUBLISHED
