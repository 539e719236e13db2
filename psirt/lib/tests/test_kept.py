"""Values kept under a version token: read once per version and key, re-read after the bound, never past it."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.test import override_settings

from psirt.lib import kept as kept_module
from psirt.lib.kept import Kept, forget_all


def counter() -> tuple[list[int], Callable[[], int]]:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    return calls, compute


def test_a_value_is_computed_once_per_version_and_key() -> None:
    kept = Kept(max_entries=8, max_age=60)
    calls, compute = counter()
    assert kept.get("v1", "k", compute) == 1
    assert kept.get("v1", "k", compute) == 1
    assert kept.get("v1", "other", compute) == 2
    assert kept.get("v2", "k", compute) == 3  # a new version reads afresh
    assert len(calls) == 3


def test_a_value_older_than_the_bound_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = Kept(max_entries=8, max_age=60)
    _, compute = counter()
    now = kept_module.time.monotonic()
    monkeypatch.setattr(kept_module.time, "monotonic", lambda: now)
    assert kept.get("v", "k", compute) == 1
    monkeypatch.setattr(kept_module.time, "monotonic", lambda: now + 59.9)
    assert kept.get("v", "k", compute) == 1
    monkeypatch.setattr(kept_module.time, "monotonic", lambda: now + 60)
    assert kept.get("v", "k", compute) == 2


def test_a_full_store_drops_the_half_used_longest_ago_and_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = Kept(max_entries=4, max_age=60)
    _, compute = counter()
    clock = [1000.0]
    monkeypatch.setattr(kept_module.time, "monotonic", lambda: clock[0])
    for version in ("a", "b", "c", "d"):
        clock[0] += 1
        kept.get(version, "k", compute)
    clock[0] += 1
    assert kept.get("a", "k", compute) == 1  # "a", the oldest, used again: now the most recent
    clock[0] += 1
    assert kept.get("e", "k", compute) == 5  # full: "b" and "c" (used longest ago) go, "a" and "d" stay
    assert len(kept._shared) == 3
    assert kept.get("a", "k", compute) == 1
    assert kept.get("d", "k", compute) == 4
    assert kept.get("b", "k", compute) == 6
    assert len(kept._shared) == 4


def test_a_value_asked_for_again_and_again_outlives_a_crawl() -> None:
    kept = Kept(max_entries=8, max_age=60)
    calls, compute = counter()
    kept.get("v", "home", compute)
    for n in range(100):  # a crawler: pages asked for once
        kept.get("v", f"page-{n}", compute)
        assert kept.get("v", "home", compute) == 1
        assert len(kept._shared) <= 8
    assert len(calls) == 101


def test_a_store_of_one_keeps_the_newest_value() -> None:
    kept = Kept(max_entries=1, max_age=60)
    _, compute = counter()
    assert kept.get("a", "k", compute) == 1
    assert kept.get("b", "k", compute) == 2
    assert len(kept._shared) == 1
    assert kept.get("b", "k", compute) == 2
    assert kept.get("a", "k", compute) == 3


def test_values_are_shared_by_threads_and_forget_all_drops_them() -> None:
    kept = Kept(max_entries=8, max_age=60)
    _, compute = counter()
    mine = kept.get("v", "k", compute)
    seen: list[int] = []
    worker = threading.Thread(target=lambda: seen.append(kept.get("v", "k", compute)))
    worker.start()
    worker.join()
    assert (mine, seen) == (1, [1])  # the other thread read the value this one computed
    forget_all()
    assert kept.get("v", "k", compute) == 2


def test_a_change_of_the_settings_drops_every_kept_value() -> None:
    kept = Kept(max_entries=8, max_age=60)
    _, compute = counter()
    assert kept.get("v", "k", compute) == 1
    with override_settings(TIME_ZONE="Asia/Shanghai"):
        assert kept.get("v", "k", compute) == 2  # computed under the new settings
    assert kept.get("v", "k", compute) == 3  # and again once they are back
