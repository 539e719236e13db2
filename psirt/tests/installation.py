"""Helpers of the tests that run psirt as separate processes, as an operator does: the environment such a process
gets, and PostgreSQL databases of a test's own. The shared, migrated starting points (`migrated_var`,
`migrated_postgres`) are fixtures of the root conftest.py."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What the test run itself configures (psirt.settings_test, pytest-django): never inherited by a process of an
# installation a test starts.
RUN_ONLY = ("DJANGO_SETTINGS_MODULE", "TEST_DATABASE_URL", "PSIRT_TEST_RUN_ID", "FORWARDED_ALLOW_IPS")


def installation_env(**values: str) -> dict[str, str]:
    """The environment of a psirt process a test starts: this one's without anything psirt reads (the run's own
    keys, database and var dir), then `values`."""
    from psirt.lib.variables import VARIABLES

    own = {variable.name for variable in VARIABLES} | set(RUN_ONLY)
    env = {name: value for name, value in os.environ.items() if name not in own}
    env.update(values)
    return env


def psirt_ok(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`psirt ARGS` in its own process with `env`; fails the test with its output unless it exits 0."""
    done = subprocess.run(
        [sys.executable, "-m", "psirt.cli", *args], env=env, capture_output=True, text=True, timeout=900, cwd=ROOT
    )
    assert done.returncode == 0, f"psirt {' '.join(args)}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done


# --- PostgreSQL databases of a test's own ----------------------------------------------------------------------------


def postgres_server() -> str:
    """The PostgreSQL server of the PostgreSQL leg (TEST_DATABASE_URL); skips the test on the SQLite leg."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("runs on PostgreSQL only: set TEST_DATABASE_URL (the PostgreSQL leg of make test)")
    return url


def database_url(server: str, name: str) -> str:
    """The URL of the database `name` on the server of the URL `server`."""
    return urlsplit(server)._replace(path=f"/{name}").geturl()


def new_database_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"


def admin_connection(server: str) -> Any:
    """An autocommit connection to the server's `postgres` database (for CREATE and DROP DATABASE)."""
    import psycopg

    return psycopg.connect(database_url(server, "postgres"), autocommit=True, connect_timeout=10)


def drop_database(server: str, name: str) -> None:
    with admin_connection(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def empty_postgres_database(server: str, prefix: str) -> Iterator[str]:
    """A new, empty database on `server`, dropped at the end; its URL."""
    name = new_database_name(prefix)
    with admin_connection(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(server, name)
    finally:
        drop_database(server, name)


@dataclass(frozen=True)
class MigratedPostgres:
    """A PostgreSQL database `psirt migrate` has brought to the current migrations, and the keys its key canary
    was stored with (PSIRT_ENCRYPTION_KEYS, PSIRT_AUDIT_KEYS): every process reading it must be given these."""

    url: str
    keys: dict[str, str]
