"""/healthz and /readyz: two questions a load balancer or an orchestrator asks, with different answers.

* `/healthz` — **alive**: this process answers HTTP. It touches no database and no disk, so a restart is only
  warranted when it fails. Always "ok" while the process can serve a request.
* `/readyz` — **ready to serve**: every check in `READINESS_CHECKS` passes. 503 when one fails (take the node out
  of rotation, do not restart it in a loop): the database accepts a write, `var/` (and the shared folder) is
  writable, the encryption keys decrypt the data already stored, no migration is pending. The answer names each
  check and whether it passed, never an error text (which could hold paths or connection strings)."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

from psirt.lib.paths import shared_dir

logger = logging.getLogger(__name__)


def database_writable() -> None:
    """A write the database must accept, rolled back: a read-only replica, a read-only SQLite file or a full
    disk fails here, not on the next report."""
    connection = connections[DEFAULT_DB_ALIAS]
    with transaction.atomic():
        with connection.cursor() as cursor:
            table = connection.ops.quote_name("django_migrations")
            cursor.execute(f"UPDATE {table} SET app = app WHERE id = (SELECT MIN(id) FROM {table})")  # noqa: S608
        transaction.set_rollback(True)


def var_writable() -> None:
    """A file can be created, written, flushed to disk and removed in `var/` and, when it is elsewhere, in the
    shared folder (attachments, the CSAF tree): a shared mount that went away or turned read-only makes the node
    unready, not the next upload."""
    for folder in dict.fromkeys([Path(settings.PSIRT_VAR_DIR), shared_dir()]):
        fd, path = tempfile.mkstemp(prefix=".readyz-", dir=folder)
        try:
            os.write(fd, b"ready")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(path)


# Why the encryption keys cannot read the stored data, or None: registered by the app that owns the key canary
# (`psirt.organization.queries.key_problem`, the one check start-up, `check --deploy` and readiness share).
_key_problem: Callable[[], str | None] | None = None


def register_key_check(check: Callable[[], str | None]) -> None:
    global _key_problem
    _key_problem = check


def keys_decrypt() -> None:
    """The configured keys decrypt the data already stored (the registered key check): keys that do not match
    the data make the node unready instead of failing every report later."""
    if _key_problem is None:
        raise RuntimeError("no key check is registered")
    problem = _key_problem()
    if problem:
        raise RuntimeError(problem)


def migrations_applied() -> None:
    """No migration of the code running here is missing from the database."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise RuntimeError("migrations are pending")


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": database_writable,
    "var": var_writable,
    "keys": keys_decrypt,
    "migrations": migrations_applied,
}


def readiness() -> dict[str, bool]:
    """Each readiness check by name, and whether it passed."""
    results = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception:  # any failure means "not ready"; the log has the details, the answer does not
            logger.exception("readiness check %r failed", name)
            results[name] = False
        else:
            results[name] = True
    return results


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Alive: answers without touching the database or the disk."""
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready: 200 when every readiness check passes, else 503; one line per check."""
    results = readiness()
    body = "".join(f"{name}: {'ok' if passed else 'failed'}\n" for name, passed in results.items())
    return HttpResponse(body, content_type="text/plain", status=200 if all(results.values()) else 503)
