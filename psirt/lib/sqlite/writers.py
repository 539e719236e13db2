"""The queue of a SQLite database file's writers, kept by the kernel rather than by SQLite's busy handler.

SQLite lets one writer at a time hold a database's write lock; a writer that finds it taken sleeps in the busy
handler (1, 2, 5, 10 … 100 ms between tries) even when the lock is free again a moment later, so under a burst
some writers wait seconds while others go straight through. Here a writer first takes a lock of its process (the
threads of one process queue on it) and then an exclusive `flock` on a lock file beside the database
(`<database>.writer-lock`); the kernel wakes the next process waiting for it the moment it is released. Only then
does the writer ask SQLite for the write lock, which is free by then unless something outside the queue holds it.

Every wait is bounded: a writer that has not had its turn within the database's busy timeout goes on without it
and meets SQLite's own behaviour (the busy handler, then "database is locked"), never waits forever. A process
that dies holding its turn frees it (the kernel drops a dead process's locks); a lock file that cannot be opened
or locked leaves the writers to SQLite alone."""

from __future__ import annotations

import collections
import fcntl
import os
import threading
import time


class Turn:
    """A writer's turn: the process lock and the lock file held until `release`, which may be called twice."""

    __slots__ = ("fd", "queue")

    def __init__(self, queue: WriterQueue, fd: int) -> None:
        self.queue: WriterQueue | None = queue
        self.fd = fd

    def release(self) -> None:
        queue, self.queue = self.queue, None
        if queue is None:
            return
        try:
            os.close(self.fd)  # closing the only descriptor of the lock drops it
        finally:
            queue.local.release()


class WriterQueue:
    """The writers of one database file: `lock_path` is the file every process locks."""

    def __init__(self, lock_path: str) -> None:
        self.lock_path = lock_path
        self.local = threading.Lock()
        self.waits: collections.deque[Wait] = collections.deque()
        self.changed = threading.Condition()
        self.waiter: threading.Thread | None = None

    def take(self, timeout: float) -> Turn | None:
        """Wait up to `timeout` seconds for this writer's turn; None when it did not come or the lock file cannot
        be used, and the caller then goes on as SQLite alone would have it."""
        deadline = time.monotonic() + timeout
        if not self.local.acquire(timeout=max(timeout, 0)):
            return None
        try:
            # A descriptor of its own per turn: a lock belongs to the open file, so a wait given up on (below)
            # can never hold or drop the lock of the turn that follows it.
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            self.local.release()
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if self.wait_for_lock(fd, deadline - time.monotonic()):
                return Turn(self, fd)
            self.local.release()
            return None
        except OSError:
            os.close(fd)
            self.local.release()
            return None
        return Turn(self, fd)

    def wait_for_lock(self, fd: int, timeout: float) -> bool:
        """Lock `fd` exclusively within `timeout` seconds; on failure `fd` is closed (now or, by the waiter thread,
        once its wait ends). `flock` itself takes no time limit, so this queue's waiter thread waits in it; a wait
        given up on is closed the moment its lock comes, so it never holds the lock for long. The process lock lets
        one thread at a time come here; a wait given up on delays the next one's until it ends."""
        wait = Wait(fd)
        with self.changed:
            if self.waiter is None:
                self.waiter = threading.Thread(target=self.wait_in_kernel, name="sqlite-writer-queue", daemon=True)
                self.waiter.start()
            self.waits.append(wait)
            self.changed.notify_all()
            self.changed.wait_for(lambda: wait.locked is not None, timeout=max(timeout, 0))
            if wait.locked is None:
                wait.given_up = True
                if wait in self.waits:  # not begun: the waiter will never see it
                    self.waits.remove(wait)
                    os.close(fd)
                return False
        if not wait.locked:
            os.close(fd)
        return wait.locked

    def wait_in_kernel(self) -> None:
        """The waiter thread: lock the descriptors handed over, one after the other, for as long as the process
        lives."""
        while True:
            with self.changed:
                self.changed.wait_for(lambda: bool(self.waits))
                wait = self.waits.popleft()
            try:
                fcntl.flock(wait.fd, fcntl.LOCK_EX)
                locked = True
            except OSError:
                locked = False
            with self.changed:
                if wait.given_up:
                    os.close(wait.fd)
                else:
                    wait.locked = locked
                    self.changed.notify_all()


class Wait:
    """A descriptor handed to the waiter thread; `locked` stays None until its wait is over."""

    __slots__ = ("fd", "given_up", "locked")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.locked: bool | None = None
        self.given_up = False


_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()


def queue_for(lock_path: str) -> WriterQueue:
    """The one queue of this process for the database whose lock file is `lock_path`."""
    queue = _queues.get(lock_path)
    if queue is None:
        with _queues_lock:
            queue = _queues.setdefault(lock_path, WriterQueue(lock_path))
    return queue


def lock_path_of(database: str) -> str:
    """The lock file of the database file `database`: beside the file the path leads to, so every name of the same
    file queues on one lock."""
    return os.path.realpath(database) + ".writer-lock"


def _forget_queues() -> None:
    """A forked child starts with queues of its own: a process lock held by another thread at the fork would
    otherwise stay held forever in the child, which has no such thread."""
    global _queues_lock
    _queues.clear()
    _queues_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_queues)
