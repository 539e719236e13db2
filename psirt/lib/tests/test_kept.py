"""Values kept under a version token: read once per version and key, re-read after the bound, never past it."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

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


def test_a_full_store_starts_again_and_stays_bounded() -> None:
    kept = Kept(max_entries=3, max_age=60)
    _, compute = counter()
    for version in ("a", "b", "c", "d"):
        kept.get(version, "k", compute)
    assert len(kept._store()) == 1  # cleared when full, then the new value kept
    assert kept.get("d", "k", compute) == 4
    assert kept.get("a", "k", compute) == 5


def test_values_kept_per_thread_are_not_shared_and_forget_all_drops_them() -> None:
    kept = Kept(max_entries=8, max_age=60, per_thread=True)
    shared = Kept(max_entries=8, max_age=60)
    _, compute = counter()
    mine = kept.get("v", "k", compute)
    seen: list[int] = []
    worker = threading.Thread(target=lambda: seen.append(kept.get("v", "k", compute)))
    worker.start()
    worker.join()
    assert (mine, seen) == (1, [2])  # the other thread computed its own
    assert shared.get("v", "k", compute) == 3
    forget_all()
    assert kept.get("v", "k", compute) == 4
    assert shared.get("v", "k", compute) == 5
