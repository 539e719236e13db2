"""/healthz says the process is alive; /readyz says this node can serve: database writable, var/ writable,
keys that decrypt the stored data, migrations applied."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from psirt.lib import health

pytestmark = pytest.mark.django_db


def test_healthz_is_alive_without_touching_the_database(django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok\n")
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ready_on_a_sound_node() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.content == b"database: ok\nvar: ok\nkeys: ok\nmigrations: ok\n"
    assert "no-cache" in response["Cache-Control"]


def test_a_read_only_var_directory_makes_the_node_unready(settings) -> None:
    # /proc accepts no new file, even for root: the same answer a read-only disk gives.
    settings.PSIRT_VAR_DIR = Path("/proc")
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert b"var: failed\n" in response.content
    assert b"/proc" not in response.content  # names the check, never the error


def test_a_missing_var_directory_makes_the_node_unready(settings, tmp_path: Path) -> None:
    settings.PSIRT_VAR_DIR = tmp_path / "gone"
    assert Client().get("/readyz").status_code == 503


def test_a_read_only_database_makes_the_node_unready() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        else:  # the test's own transaction, rolled back at its end, becomes read-only
            cursor.execute("SET TRANSACTION READ ONLY")
    try:
        response = Client().get("/readyz")
    finally:
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA query_only = OFF")
    assert response.status_code == 503
    assert b"database: failed\n" in response.content


def test_keys_that_do_not_decrypt_the_stored_data_make_the_node_unready(settings) -> None:
    from psirt.lib.config import new_fernet_key
    from psirt.tests.factories import make_report

    make_report()
    assert health.readiness()["keys"] is True
    settings.PSIRT_ENCRYPTION_KEYS = (new_fernet_key(),)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert b"keys: failed\n" in response.content


def test_a_pending_migration_makes_the_node_unready(monkeypatch) -> None:
    from django.db.migrations.executor import MigrationExecutor

    real = MigrationExecutor.migration_plan
    monkeypatch.setattr(
        MigrationExecutor, "migration_plan", lambda self, targets, clean_start=False: [("pending", False)]
    )
    assert health.readiness() == {"database": True, "var": True, "keys": True, "migrations": False}
    monkeypatch.setattr(MigrationExecutor, "migration_plan", real)
    assert health.readiness()["migrations"] is True


def test_readyz_answers_every_method_the_same_and_takes_no_input() -> None:
    assert Client().head("/readyz").status_code == 200
    assert Client().get("/readyz?<script>=1").content == b"database: ok\nvar: ok\nkeys: ok\nmigrations: ok\n"
