"""Periodic work: the clock that enqueues recurring tasks for `psirt worker`.

django-tasks runs what is queued but has no clock. `psirt scheduler` is that clock. Any number of
schedulers may run (one per machine is simplest): each period's enqueue is claimed with an atomic
`cache.add` on the shared database cache, so the same task is enqueued once per period however many
schedulers tick. Every periodic task is idempotent, so a missed or doubled tick does no harm."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import signal
import time
from dataclasses import dataclass
from types import FrameType

from django.apps import apps
from django.core.cache import cache
from django.utils.module_loading import import_string

logger = logging.getLogger("psirt.scheduler")


@dataclass(frozen=True)
class Periodic:
    task: str  # dotted path of a django-tasks Task
    every: int  # seconds


def collect() -> tuple[Periodic, ...]:
    """Every periodic task of psirt's installed apps: each app declares its own as `PERIODIC` in its `tasks`
    module, next to the tasks themselves."""
    found: list[Periodic] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("psirt.") or importlib.util.find_spec(f"{config.name}.tasks") is None:
            continue
        found.extend(getattr(importlib.import_module(f"{config.name}.tasks"), "PERIODIC", ()))
    return tuple(found)


def tick(now: float | None = None, periodic: tuple[Periodic, ...] | None = None) -> list[str]:
    """Enqueue every periodic task (all of `collect()` unless given) whose current period has not been claimed
    yet. Returns their paths."""
    moment = time.time() if now is None else now
    enqueued = []
    for item in collect() if periodic is None else periodic:
        slot = int(moment // item.every)
        key = f"psirt:schedule:{item.task}:{slot}"
        if not cache.add(key, 1, timeout=item.every * 3):
            continue  # another scheduler (or an earlier tick) has this period
        try:
            import_string(item.task).enqueue()
        except Exception:
            # One broken task must not stop the clock for the others; the claim is released to retry.
            cache.delete(key)
            logger.exception("could not enqueue %s", item.task)
            continue
        enqueued.append(item.task)
        logger.info("enqueued %s", item.task)
    return enqueued


def run_forever(*, interval: float = 5.0) -> None:
    """Tick until SIGTERM/SIGINT; the current tick always finishes."""
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("scheduler started: %d periodic tasks", len(collect()))
    while not stopping:
        tick()
        deadline = time.monotonic() + interval
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.2)
    logger.info("scheduler stopped")
