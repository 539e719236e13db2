"""Values computed from the database, kept in memory under the version token they were read under.

A version token is a value the database replaces in the transaction of every change of the data a kept value is
computed from (the site generation, the organization profile's change token). A value kept under a token is the
current one for as long as that token is the current one: a reader reads the token (one small query, or none
when it already has it) and gets the kept value, or computes and keeps it. A rolled-back change leaves the old
token, which still matches the old data; a change committed elsewhere moves the token at the same instant as the
data. Writes that bypass the token (raw SQL) are seen all the same after `max_age` seconds.

Each `Kept` is bounded: when it is full, the half of its values used longest ago is dropped, so values asked for
again and again (the home page's, the list's) outlive a crawl through thousands of pages asked for once. Its
values are shared by every thread of the process: a value kept must not be changed by its readers. A change of
the settings (in tests) drops every kept value, which may have been computed under the settings before it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.core.signals import setting_changed

T = TypeVar("T")

_every: list[Kept] = []


class Kept:
    def __init__(self, *, max_entries: int, max_age: float) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        # (version, key) -> [when computed, value, when last used]
        self._shared: dict[tuple[str, Hashable], list[Any]] = {}
        self._lock = threading.Lock()
        _every.append(self)

    def get(self, version: str, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`, kept under `version` and `key` (the arguments the value depends on besides the data) for
        at most `max_age` seconds. The value must not be changed by the caller."""
        store = self._shared
        now = time.monotonic()
        found = store.get((version, key))
        if found is not None and now - found[0] < self.max_age:
            found[2] = now
            value: T = found[1]
            return value
        value = compute()
        with self._lock:
            if len(store) >= self.max_entries:
                _drop_least_used(store)
            store[(version, key)] = [now, value, now]
        return value

    def __len__(self) -> int:
        """How many values are kept."""
        return len(self._shared)

    def clear(self) -> None:
        with self._lock:
            self._shared.clear()


def _drop_least_used(store: dict[tuple[str, Hashable], list[Any]]) -> None:
    """Keep the half of `store`'s entries used most recently (none of a store of one)."""
    recent = sorted(store.items(), key=lambda item: item[1][2], reverse=True)[: len(store) // 2]
    store.clear()
    store.update(recent)


def forget_all() -> None:
    """Drop every kept value of this process (a settings change in tests; a constant patched by a test)."""
    for kept in _every:
        kept.clear()


def _settings_changed(**kwargs: Any) -> None:
    forget_all()


setting_changed.connect(_settings_changed, dispatch_uid="psirt-kept-forget")
