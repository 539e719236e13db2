"""Helpers of the tests that run psirt as separate processes, as an operator does: the environment such a process
gets, and the PostgreSQL server of the PostgreSQL leg (databases of a test's own come from
`psirt.tests.databases`). The shared, migrated starting points (`migrated_var`, `migrated_postgres`) are fixtures
of the root conftest.py."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class MigratedPostgres:
    """A PostgreSQL database `psirt migrate` has brought to the current migrations, and the keys its key canary
    was stored with (PSIRT_ENCRYPTION_KEYS, PSIRT_AUDIT_KEYS): every process reading it must be given these."""

    url: str
    keys: dict[str, str]
