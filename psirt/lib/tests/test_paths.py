"""The folder lock: one holder at a time across processes; the waiting form gives up in time and says so."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from psirt.lib.paths import folder_lock


def _hold(root: str, ready: multiprocessing.synchronize.Event, release: multiprocessing.synchronize.Event) -> None:
    with folder_lock(Path(root), "x.lock"):
        ready.set()
        release.wait(10)


@pytest.fixture
def held(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The lock held by another process until the test ends."""
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold, args=(str(tmp_path), ready, release))
    proc.start()
    assert ready.wait(10)
    yield release
    release.set()
    proc.join(10)


def test_blocking_lock_creates_the_folder_and_yields_true(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b"
    with folder_lock(root, "x.lock") as held:
        assert held is True
    assert (root / "x.lock").exists()


def test_waiting_lock_gives_up_in_time_while_another_process_holds_it(tmp_path: Path, held: object) -> None:
    start = time.monotonic()
    with folder_lock(tmp_path, "x.lock", wait=0.3, poll=0.02) as got:
        assert got is False
    assert 0.3 <= time.monotonic() - start < 3


def test_waiting_lock_is_had_once_the_holder_lets_go(tmp_path: Path, held) -> None:  # type: ignore[no-untyped-def]
    held.set()
    with folder_lock(tmp_path, "x.lock", wait=5, poll=0.02) as got:
        assert got is True


def test_unopenable_lock_file_blocks_raise_but_waiting_ones_go_on_without(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError), folder_lock(blocker, "x.lock"):
        pass
    with folder_lock(blocker, "x.lock", wait=1) as got:
        assert got is False
