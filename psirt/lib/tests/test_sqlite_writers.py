"""The queue of a SQLite file's writers: a process lock, then a `flock` on `<database>.writer-lock`, then BEGIN."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError, connections, transaction
from django.db.utils import ConnectionHandler

from psirt.lib.config import SQLITE_ENGINE
from psirt.lib.sqlite import writers
from psirt.lib.sqlite.base import DatabaseWrapper
from psirt.lib.sqlite.writers import WriterQueue, lock_path_of

ALIAS = "queued"
HOLDER = """
import sys, time
from psirt.lib.sqlite.writers import WriterQueue
turn = WriterQueue(sys.argv[1]).take(20)
assert turn is not None
if sys.argv[3] != "-":  # also hold SQLite's write lock, as a writer in its transaction does
    import sqlite3
    db = sqlite3.connect(sys.argv[3], isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
turn.release()
print("released", flush=True)
"""


def locked_elsewhere(lock_path: str) -> bool:
    """Whether some open file holds the lock (a lock of another descriptor conflicts even in this process)."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def open_database(name: str, timeout: float = 20) -> DatabaseWrapper:
    options = {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": timeout}
    handler = ConnectionHandler(
        {
            "default": {"ENGINE": "django.db.backends.dummy"},
            ALIAS: {"ENGINE": SQLITE_ENGINE, "NAME": name, "OPTIONS": options},
        }
    )
    wrapper = handler[ALIAS]
    assert isinstance(wrapper, DatabaseWrapper)
    return wrapper


def queued() -> DatabaseWrapper:
    wrapper = connections[ALIAS]
    assert isinstance(wrapper, DatabaseWrapper)
    return wrapper


@pytest.fixture
def database(tmp_path: Path, django_db_blocker: Any) -> Iterator[Path]:
    """A file database under the alias `queued` in this thread; its path."""
    path = tmp_path / "psirt.sqlite3"
    with django_db_blocker.unblock():
        yield from use(open_database(str(path)), path)


def use(wrapper: DatabaseWrapper, path: Path) -> Iterator[Path]:
    connections[ALIAS] = wrapper
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
        yield path
    finally:
        wrapper.close()
        del connections[ALIAS]


@pytest.fixture
def takes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The lock files of every turn asked for."""
    asked: list[str] = []
    original = WriterQueue.take

    def spy(self: WriterQueue, timeout: float) -> writers.Turn | None:
        asked.append(self.lock_path)
        return original(self, timeout)

    monkeypatch.setattr(WriterQueue, "take", spy)
    return asked


@contextlib.contextmanager
def holder(path: Path, seconds: float, *, sqlite_too: bool = False) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the turn of `path` for `seconds` (and SQLite's write lock with it if asked)."""
    args = [lock_path_of(str(path)), str(seconds), str(path) if sqlite_too else "-"]
    child = subprocess.Popen([sys.executable, "-c", HOLDER, *args], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        yield child
    finally:
        child.kill()
        child.wait()


def insert(value: int) -> None:
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("INSERT INTO t (x) VALUES (%s)", [value])


def test_a_transaction_holds_the_turn_until_commit(database: Path, takes: list[str]) -> None:
    lock = lock_path_of(str(database))
    with transaction.atomic(using=ALIAS):
        assert locked_elsewhere(lock)
        insert(1)
    assert not locked_elsewhere(lock)
    assert takes == [lock]
    assert oct(os.stat(lock).st_mode & 0o777) == "0o600"


def test_a_rollback_gives_the_turn_back(database: Path) -> None:
    lock = lock_path_of(str(database))
    with pytest.raises(ZeroDivisionError), transaction.atomic(using=ALIAS):
        insert(1)
        _ = 1 / 0
    assert not locked_elsewhere(lock)
    with transaction.atomic(using=ALIAS):  # the process lock is free too: no wait, no fallback
        assert locked_elsewhere(lock)
    assert connections[ALIAS].cursor().execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_closing_the_connection_in_a_transaction_gives_the_turn_back(database: Path) -> None:
    lock = lock_path_of(str(database))
    with transaction.atomic(using=ALIAS):
        insert(1)
        connections[ALIAS].close()
        assert not locked_elsewhere(lock)
    with transaction.atomic(using=ALIAS):
        insert(2)
    assert connections[ALIAS].cursor().execute("SELECT x FROM t").fetchall() == [(2,)]


def test_a_begin_that_fails_gives_the_turn_back(tmp_path: Path, django_db_blocker: Any) -> None:
    """A writer outside the queue (the sqlite3 shell, say) holds SQLite's lock: BEGIN fails after the busy timeout
    and the turn goes back with it."""
    path = tmp_path / "psirt.sqlite3"
    with django_db_blocker.unblock():
        for _ in use(open_database(str(path), timeout=0.2), path):
            outside = sqlite3.connect(path, isolation_level=None)
            outside.execute("BEGIN IMMEDIATE")
            with pytest.raises(OperationalError, match="locked"), transaction.atomic(using=ALIAS):
                pass
            assert queued().turn is None
            assert not locked_elsewhere(lock_path_of(str(path)))
            outside.rollback()
            with transaction.atomic(using=ALIAS):
                insert(1)


def test_nested_blocks_do_not_take_the_turn_again(database: Path, takes: list[str]) -> None:
    lock = lock_path_of(str(database))
    with transaction.atomic(using=ALIAS):
        with transaction.atomic(using=ALIAS):
            insert(1)
        with pytest.raises(ZeroDivisionError), transaction.atomic(using=ALIAS):
            insert(2)
            _ = 1 / 0
        assert locked_elsewhere(lock)
    assert takes == [lock]
    assert not locked_elsewhere(lock)
    assert connections[ALIAS].cursor().execute("SELECT x FROM t").fetchall() == [(1,)]


def test_a_write_outside_a_transaction_takes_a_turn_and_a_read_does_not(database: Path, takes: list[str]) -> None:
    lock = lock_path_of(str(database))
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t")
        assert takes == []
        cursor.execute("INSERT INTO t (x) VALUES (%s)", [1])
        cursor.executemany("  update t SET x = %s", [[2], [3]])
        assert takes == [lock, lock]
        assert queued().turn is None
        assert not locked_elsewhere(lock)


def test_the_writers_of_two_processes_are_served_in_turn(database: Path) -> None:
    """Another process's writer holds the turn (not SQLite's lock): this one waits for it to go."""
    with holder(database, 0.5) as child:
        started = time.monotonic()
        with transaction.atomic(using=ALIAS):
            waited = time.monotonic() - started
            assert child.stdout is not None and child.stdout.readline() == "released\n"
            insert(1)
    assert 0.3 < waited < 10


def test_a_killed_holder_frees_the_turn(database: Path) -> None:
    lock = lock_path_of(str(database))
    with holder(database, 600) as child:
        assert WriterQueue(lock).take(0.1) is None
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        started = time.monotonic()
        with transaction.atomic(using=ALIAS):
            insert(1)
        assert time.monotonic() - started < 5


def test_a_turn_not_given_within_the_timeout_falls_back_to_sqlite(tmp_path: Path, django_db_blocker: Any) -> None:
    """The turn's holder does not give it back: after the busy timeout the writer goes to SQLite without it, which
    lets it in when its lock is free and says "database is locked" when it is not."""
    path = tmp_path / "psirt.sqlite3"
    lock = lock_path_of(str(path))
    with django_db_blocker.unblock():
        for _ in use(open_database(str(path), timeout=0.3), path):
            with holder(path, 600):
                started = time.monotonic()
                with transaction.atomic(using=ALIAS):
                    assert queued().turn is None
                    insert(1)
                assert 0.25 < time.monotonic() - started < 10
            # The given-up wait got the lock when the holder died, and let go of it at once.
            deadline = time.monotonic() + 5
            while locked_elsewhere(lock) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert not locked_elsewhere(lock)
            with holder(path, 600, sqlite_too=True):
                started = time.monotonic()
                with pytest.raises(OperationalError, match="locked"), transaction.atomic(using=ALIAS):
                    pass
                assert 0.5 < time.monotonic() - started < 10
            with transaction.atomic(using=ALIAS):
                assert queued().turn is not None
                insert(2)
            assert connections[ALIAS].cursor().execute("SELECT x FROM t").fetchall() == [(1,), (2,)]


@pytest.mark.parametrize("name", [":memory:", "file:memorydb_queued?mode=memory&cache=shared", "file:{tmp}/uri.db"])
def test_a_database_that_is_not_a_plain_file_takes_no_turn(
    name: str, tmp_path: Path, django_db_blocker: Any, takes: list[str]
) -> None:
    """Only a plain path says which file the lock goes beside (a URI may name it with options, or name none)."""
    with django_db_blocker.unblock():
        for _ in use(open_database(name.format(tmp=tmp_path)), tmp_path):
            with transaction.atomic(using=ALIAS):
                insert(1)
            insert(2)
            assert queued().writer_lock is None
    assert takes == []


def test_a_forked_child_starts_with_free_queues(tmp_path: Path) -> None:
    """A child forked while another thread of the parent holds a turn is not left with that turn's process lock
    held by nobody."""
    queue = writers.queue_for(str(tmp_path / "a.writer-lock"))
    turn = queue.take(1)
    assert turn is not None
    pid = os.fork()
    if pid == 0:  # the child: its own queue takes a turn at once (the parent's file lock is the parent's)
        code = 1
        try:  # whatever happens, the child never returns into the test runner
            code = 0 if writers.queue_for(queue.lock_path).local.acquire(timeout=1) else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    turn.release()
    assert os.waitstatus_to_exitcode(status) == 0
