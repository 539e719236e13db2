from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils.module_loading import import_string
from django_tasks.base import Task

from psirt.lib import schedule
from psirt.lib.schedule import Periodic, collect, tick

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def test_every_periodic_entry_is_a_task_that_takes_no_arguments() -> None:
    for item in collect():
        task = import_string(item.task)
        assert isinstance(task, Task), item.task
        assert item.every >= 60


def test_a_period_is_enqueued_once_however_many_schedulers_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    class FakeTask:
        def enqueue(self) -> None:
            calls.append("x")

    monkeypatch.setattr(schedule, "import_string", lambda path: FakeTask())
    items = (Periodic("psirt.fake.every_minute", 60), Periodic("psirt.fake.hourly", 3600))
    assert tick(now=120.0, periodic=items) == ["psirt.fake.every_minute", "psirt.fake.hourly"]
    assert tick(now=150.0, periodic=items) == []  # same minute, same hour: already claimed
    assert tick(now=181.0, periodic=items) == ["psirt.fake.every_minute"]
    assert len(calls) == 3


def test_a_failing_enqueue_releases_its_claim_and_spares_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def enqueue(self) -> None:
            raise RuntimeError("queue down")

    class Fine:
        def enqueue(self) -> None:
            return None

    monkeypatch.setattr(schedule, "import_string", lambda path: Broken() if "broken" in path else Fine())
    items = (Periodic("psirt.fake.broken", 60), Periodic("psirt.fake.fine", 60))
    assert tick(now=60.0, periodic=items) == ["psirt.fake.fine"]
    monkeypatch.setattr(schedule, "import_string", lambda path: Fine())
    assert tick(now=70.0, periodic=items) == ["psirt.fake.broken"]  # retried within the same period


def test_real_tick_runs_the_periodic_tasks() -> None:
    # Test settings run tasks immediately: a tick runs every periodic task once, without error.
    assert tick(now=3600.0 * 1000) == [item.task for item in collect()]


def test_each_app_declares_its_own_periodic_tasks_and_the_scheduler_collects_them_all() -> None:
    collected = {item.task: item.every for item in collect()}
    assert collected == {
        "psirt.advisories.tasks.publish_due_advisories": 60,
        "psirt.mail.tasks.sweep_outbox": 60,
        "psirt.cases.tasks.send_deadline_reminders": 15 * 60,
        "psirt.intake.tasks.purge_expired": 60 * 60,
        "psirt.notify.tasks.purge_unconfirmed_subscriptions": 60 * 60,
        "psirt.audit.tasks.verify_audit_chain": 60 * 60,
        "psirt.advisories.tasks.sync_csaf_provider": 10 * 60,
        "psirt.advisories.tasks.sync_csaf_provider_full": 24 * 60 * 60,
        "psirt.ops.tasks.refresh_static_export": 10 * 60,
        "psirt.regulatory.tasks.send_regulatory_reminders": 5 * 60,
    }
