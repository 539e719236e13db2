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
    """In the master, after the application is loaded and before the first worker is forked: warm up what the
    workers would otherwise each build on their first requests (`warm_up`); then close the database connections
    the start-up opened."""
    warm_up()
    _close_database_connections()


def warm_up() -> None:
    """Build once, in the master, what every worker forked from it would otherwise build on its first requests,
    while later requests queued behind it: the URL map (and with it every view module) and its reverse map in each
    site language, the patterns Django compiles on first use (the e-mail validator's domain pattern alone takes
    tens of milliseconds), and what each app names in its AppConfig's `warm_up()` (the business-day calendar).
    An app that cannot warm up (its database not reachable yet) is told in the log; its first request does it."""
    from django.apps import apps
    from django.conf import settings
    from django.core.validators import validate_email
    from django.http import HttpResponse
    from django.urls import get_resolver
    from django.utils import translation

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - importing the URLconf is the point
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            resolver.reverse_dict  # noqa: B018 - built per language on the first reverse() in it
    validate_email("warm-up@example.com")
    HttpResponse(content_type="text/plain; charset=utf-8").charset  # noqa: B018 - compiles the charset pattern
    for config in apps.get_app_configs():
        warm = getattr(config, "warm_up", None)
        if warm is None:
            continue
        try:
            warm()
        except Exception as exc:  # warming up is an optimisation: the server starts regardless
            logging.getLogger(__name__).warning("%s was not warmed up at start: %s", config.label, exc)


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
