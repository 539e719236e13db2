"""The benchmarks' seed cache (`bench._harness.cached_seed`): a seed is reused while its schema and inputs are
the same, and only the entries used last are kept on disk."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from bench import _harness
from psirt.lib.paths import folder_lock


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setattr(_harness, "SEED_CACHE", folder)
    return folder


def _seed(tmp_path: Path, name: str, inputs: list[str], built: list[str]) -> tuple[dict[str, str], bool, str]:
    data = tmp_path / "work" / "seed.db"
    data.parent.mkdir(exist_ok=True)
    data.unlink(missing_ok=True)

    def build() -> dict[str, str]:
        built.append(inputs[0])
        data.write_text(f"seeded for {inputs}")
        return {"inputs": json.dumps(inputs)}

    facts, reused = _harness.cached_seed(name, inputs, [data], build)
    return facts, reused, data.read_text()


def _entries(cache: Path, name: str) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if p.name.startswith(f"{name}-"))


def test_a_seed_is_built_once_and_copied_after(cache: Path, tmp_path: Path) -> None:
    built: list[str] = []
    first = _seed(tmp_path, "public", ["a"], built)
    again = _seed(tmp_path, "public", ["a"], built)
    assert built == ["a"]
    assert first[1] is False and again[1] is True
    assert again[0] == first[0] and again[2] == first[2] == "seeded for ['a']"


def test_only_the_entries_used_last_are_kept(cache: Path, tmp_path: Path) -> None:
    built: list[str] = []
    for inputs in "abcde":
        _seed(tmp_path, "public", [inputs], built)
        time.sleep(0.01)  # distinct modification times
    assert len(_entries(cache, "public")) == _harness.SEED_CACHE_KEEP == 3
    # The last three stored are kept: c, d and e are reused; a was evicted and is built again, and storing it
    # evicts c, the one used longest ago.
    for inputs in "cde":
        assert _seed(tmp_path, "public", [inputs], built)[1] is True
        time.sleep(0.01)
    assert _seed(tmp_path, "public", ["a"], built)[1] is False
    assert len(_entries(cache, "public")) == 3
    time.sleep(0.01)
    # Using d makes it the one used last: storing b then evicts e, not d.
    assert _seed(tmp_path, "public", ["d"], built)[1] is True
    time.sleep(0.01)
    assert _seed(tmp_path, "public", ["b"], built)[1] is False
    for inputs in "bda":
        assert _seed(tmp_path, "public", [inputs], built)[1] is True, inputs
    assert _seed(tmp_path, "public", ["e"], built)[1] is False


def test_other_benchmarks_entries_are_left_alone(cache: Path, tmp_path: Path) -> None:
    built: list[str] = []
    _seed(tmp_path, "desk", ["x"], built)
    _seed(tmp_path, "public-large", ["y"], built)
    for inputs in "abcde":
        _seed(tmp_path, "public", [inputs], built)
    assert _seed(tmp_path, "desk", ["x"], built)[1] is True
    assert _seed(tmp_path, "public-large", ["y"], built)[1] is True


def test_a_staging_folder_of_a_killed_run_is_removed_once_old(cache: Path, tmp_path: Path) -> None:
    built: list[str] = []
    _seed(tmp_path, "public", ["a"], built)
    dead, live = cache / ".public-dead1234", cache / ".public-live1234"
    dead.mkdir()
    live.mkdir()
    old = time.time() - 7 * 3600
    os.utime(dead, (old, old))
    _seed(tmp_path, "public", ["b"], built)
    assert not dead.exists()
    assert live.exists()  # perhaps another run storing its entry right now


def test_entries_are_read_stored_and_evicted_only_under_the_lock(cache: Path, tmp_path: Path) -> None:
    built: list[str] = []
    for inputs in "abc":
        _seed(tmp_path, "public", [inputs], built)
    stored, read = threading.Event(), threading.Event()

    def store_another() -> None:
        _seed(tmp_path / "one", "public", ["d"], [])
        stored.set()

    def read_one() -> None:
        _seed(tmp_path / "two", "public", ["c"], [])
        read.set()

    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    with folder_lock(cache, ".public.lock"):  # as another run copying or storing an entry does
        threads = [threading.Thread(target=store_another), threading.Thread(target=read_one)]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        assert len(_entries(cache, "public")) == 3  # nothing stored or removed meanwhile
        assert not stored.is_set() and not read.is_set()
    for thread in threads:
        thread.join(10)
    assert stored.is_set() and read.is_set()
    assert len(_entries(cache, "public")) == 3
