"""gunicorn's server hooks for `psirt serve` (`psirt.cli._serve_args` passes this module as its config).

The application is loaded once, in gunicorn's master process (`--preload`), and every worker is a fork of it: a
worker that reaches its request limit is replaced in milliseconds instead of by a fresh import of Django and psirt,
which takes seconds on a loaded machine. A fork shares what the master holds, so the master keeps nothing that
belongs to one process: loading the application opens no database connection, starts no thread and opens no
socket (psirt/tests/test_serve.py checks this), and these hooks close whatever a start-up step may still have
opened before each fork. Python's `random` and gunicorn reseed each child; `secrets` reads the system's generator."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Any


def _close_database_connections() -> None:
    # Imported here: gunicorn reads this module before it loads the application (and Django) in the master.
    from django.db import connections

    connections.close_all()


def when_ready(server: Any) -> None:
    """In the master, after the application is loaded and before the first worker is forked: import the URL map
    (and with it every view module), so that no worker imports them on its first request; then close the
    database connections the start-up opened."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - importing the URLconf is the point
    _close_database_connections()


def pre_fork(server: Any, worker: Any) -> None:
    """In the master, before each fork: a connection the child inherited would be one socket used by two
    processes."""
    _close_database_connections()


def worker_exit(server: Any, worker: Any) -> None:
    """In a worker that ends normally (its request limit reached, or a graceful stop): leave at once, without the
    interpreter's clean-up. That clean-up visits every object the worker inherited, which copies the whole
    forked memory page by page and takes seconds on a loaded machine, and the master starts the replacement only
    once the worker is gone. A worker failing to boot or crashing exits the ordinary way, with its exit code."""
    error = sys.exception()
    if not (isinstance(error, SystemExit) and error.code in (0, None)):
        return
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)
