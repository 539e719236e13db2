"""Django's SQLite backend, with the writers of a database file queued in the kernel (`psirt.lib.sqlite.writers`).

A writer takes its turn before SQLite's write lock and gives it back when SQLite has let go of it:

* a transaction that takes the write lock at BEGIN (`transaction_mode` IMMEDIATE or EXCLUSIVE, i.e. every
  outermost `atomic()` in psirt) waits for its turn before `BEGIN` and gives it back when the transaction is over:
  commit, rollback, the connection closed, or `BEGIN` itself failing. Savepoints of nested blocks are inside the
  turn and take nothing. Such a transaction may turn out to read only, but SQLite makes it wait for the write
  lock all the same, so it waits in the same queue;
* a data-changing statement run outside any transaction (Django's single-table `save()`, `update()`, `delete()`)
  is a transaction of its own in SQLite and takes a turn for the length of the statement. Reads never queue.

An in-memory database or a `file:` URI takes no turns: only a plain path names the file the lock goes beside.

Every cursor also keeps the statements it has rewritten from Django's "%s" placeholders to SQLite's "?"
(`ConvertingCursor`): the ORM and psirt's prepared statements send the same texts again and again, and the
rewriting (a regular expression over the whole text) cost more than looking the text up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db.backends.sqlite3 import base

from psirt.lib.sqlite.writers import Turn, lock_path_of, queue_for

# The statements that change data, as SQLite sees them at the start of the text (a statement not recognised here
# goes to SQLite unqueued, as without the queue).
WRITES = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


# "%s"-style statement → the same in SQLite's "?" style, shared by every cursor of the process. Bounded: emptied
# when full (statements are mostly of a fixed set of shapes; one with its values written in only passes through).
_CONVERTED: dict[str, str] = {}
MAX_CONVERTED = 2048


class ConvertingCursor(base.SQLiteCursorWrapper):
    """Django's SQLite cursor, rewriting each statement text to SQLite's placeholders once per process."""

    def convert_query(self, query: str, *, param_names: Any = None) -> str:
        if param_names is not None:  # the "%(name)s" style: rewritten with the names of this call
            return str(super().convert_query(query, param_names=param_names))  # type: ignore[misc]  # Django's, missing from its stubs
        converted = _CONVERTED.get(query)
        if converted is None:
            converted = str(super().convert_query(query))  # type: ignore[misc]  # Django's, missing from its stubs
            if len(_CONVERTED) >= MAX_CONVERTED:
                _CONVERTED.clear()
            _CONVERTED[query] = converted
        return converted


class QueuedCursor(ConvertingCursor):
    """A cursor that takes a writer's turn around a data-changing statement run outside a transaction."""

    wrapper: DatabaseWrapper

    def execute(self, query: str, params: Any = None) -> Any:
        return self.in_turn(super().execute, query, params)

    def executemany(self, query: str, param_list: Any) -> Any:
        return self.in_turn(super().executemany, query, param_list)

    def in_turn(self, run: Callable[[str, Any], Any], query: str, params: Any) -> Any:
        if self.wrapper.turn is not None or self.connection.in_transaction or not WRITES.match(query):
            return run(query, params)
        turn = self.wrapper.take_turn()
        try:
            return run(query, params)
        finally:
            if turn is not None:
                self.wrapper.end_turn()


class DatabaseWrapper(base.DatabaseWrapper):
    """`connection.vendor` stays "sqlite": the rest of psirt and Django see the stock backend."""

    turn: Turn | None = None
    transaction_mode: str | None  # set by Django's get_connection_params
    writer_lock: str | None = None
    writer_wait: float = 5.0

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        name = str(self.settings_dict["NAME"])
        self.writer_lock = None if self.is_in_memory_db() or name.startswith("file:") else lock_path_of(name)
        self.writer_wait = float(params.get("timeout", 5.0))  # sqlite3.connect's own default
        return params

    def create_cursor(self, name: str | None = None) -> Any:
        if self.writer_lock is None:
            return self.connection.cursor(factory=ConvertingCursor)
        cursor = self.connection.cursor(factory=QueuedCursor)
        cursor.wrapper = self
        return cursor

    def take_turn(self) -> Turn | None:
        """Wait for this connection's turn to write (bounded by the busy timeout); None when it goes without."""
        if self.writer_lock is not None and self.turn is None:
            self.turn = queue_for(self.writer_lock).take(self.writer_wait)
        return self.turn

    def end_turn(self) -> None:
        turn, self.turn = self.turn, None
        if turn is not None:
            turn.release()

    def end_turn_if_over(self) -> None:
        """Give the turn back once SQLite's transaction is over. `atomic()` ends every transaction it began by
        turning autocommit back on, after its commit or rollback (a failed COMMIT leaves the transaction open until
        that rollback), or by closing the connection."""
        if self.turn is not None and (self.connection is None or not self.connection.in_transaction):
            self.end_turn()

    def _start_transaction_under_autocommit(self) -> None:
        if self.transaction_mode in ("IMMEDIATE", "EXCLUSIVE"):
            self.take_turn()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # Django's, missing from its stubs
        except BaseException:
            self.end_turn_if_over()
            raise

    def _set_autocommit(self, autocommit: bool) -> None:
        try:
            super()._set_autocommit(autocommit)  # type: ignore[misc]  # Django's, missing from its stubs
        finally:
            self.end_turn_if_over()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]  # Django's, missing from its stubs
        finally:
            self.end_turn()
