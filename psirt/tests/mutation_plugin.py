"""pytest plugin for mutation runs (`make mutation`, tools/mutation.py): each test session gets a migrated SQLite
test database in a few milliseconds instead of migrating one (seconds of CPU, paid once per mutant otherwise).

mutmut runs the tests once per mutant, each time as a new pytest session in a forked process, up to one per core
at once. The first session that asks builds a template (`migrate` on an empty SQLite file, in a separate process
that imports the unmutated code, with this run's keys: `psirt.settings_test` makes new ones per process, and
the forked sessions share those of the mutmut process); every session then copies it to a file of its own,
named after its process, so concurrent sessions never share a database, and uses it with pytest-django's
`--reuse-db` (the migrations already applied are not run again). The copy is removed when the session ends.
Each session also starts without the values the mutmut process kept in memory while it ran the tests unmutated.

Only for SQLite runs: loaded by the mutation runner's pytest arguments (`[tool.mutmut]` in pyproject.toml),
never by the normal suite.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from psirt.lib.paths import folder_lock

FOLDER = Path(".mutation-db")  # inside mutmut's working copy (its current directory while tests run)
_OWN = pytest.StashKey[Path]()

KEY_VARIABLES = ("PSIRT_ENCRYPTION_KEYS", "PSIRT_AUDIT_KEYS")  # in the order psirt.settings_test makes them
# The template process takes the keys it is given instead of making new ones, then migrates.
_MIGRATE = """
import os, psirt.lib.config
given = iter(os.environ["PSIRT_TEMPLATE_KEYS"].split(","))
psirt.lib.config.new_fernet_key = lambda: next(given)
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
"""


def build_template(folder: Path) -> Path:
    """The migrated template database in `folder` (built once, under a lock, by the first process that asks)."""
    folder = folder.resolve()
    keys = ",".join(os.environ[name] for name in KEY_VARIABLES)
    template = folder / f"template-{hashlib.sha256(keys.encode()).hexdigest()[:16]}.sqlite3"
    with folder_lock(folder, "template.lock"):
        if not template.exists():
            var = folder / "build"
            shutil.rmtree(var, ignore_errors=True)
            # psirt.settings_test puts its var folder under PSIRT_TEST_VAR_ROOT (set in this process, which loaded
            # those settings), in a subfolder named after the xdist worker: point it at `var` itself, where the
            # database is then picked up.
            dropped = ("TEST_DATABASE_URL", "PYTEST_XDIST_WORKER")
            env = {k: v for k, v in os.environ.items() if not k.startswith("MUTANT") and k not in dropped}
            env.update(
                DJANGO_SETTINGS_MODULE="psirt.settings_test",
                PSIRT_VAR_DIR=str(var),
                PSIRT_TEST_VAR_ROOT=str(var),
                PSIRT_TEMPLATE_KEYS=keys,
            )
            # Run from the folder itself: `psirt` is then the installed (unmutated) package, not the mutated copy.
            subprocess.run([sys.executable, "-c", _MIGRATE], cwd=folder, env=env, check=True)
            (var / "test.sqlite3").rename(template)
            shutil.rmtree(var, ignore_errors=True)
    return template


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings
    from django.db import connections

    database = settings.DATABASES["default"]
    if connections["default"].vendor != "sqlite":
        raise pytest.UsageError("Mutation runs use SQLite: unset TEST_DATABASE_URL.")
    own = (FOLDER / f"test-{os.getpid()}.sqlite3").resolve()
    shutil.copyfile(build_template(FOLDER), own)
    database.setdefault("TEST", {})["NAME"] = str(own)
    config.option.reuse_db = True
    config.option.create_db = False
    config.stash[_OWN] = own
    forget_kept_values()


def forget_kept_values() -> None:
    """Drop what this process keeps in memory as a settings change drops it (statement texts, a rate window's
    bounds), and the country holiday tables built once per process. mutmut forks every session from its own
    process, which ran the tests once on the unmutated code: a value it kept there would be served to the mutant's
    tests, and a mutant of the function that computes it would never run."""
    from django.test.signals import setting_changed

    from psirt.lib import business_days

    business_days._tables.clear()
    # Every receiver of a settings change drops what it keeps (`psirt.lib.kept.Kept`'s values among them).
    setting_changed.send(sender=None, setting="PSIRT_MUTATION_SESSION", value=None, enter=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    own = config.stash.get(_OWN, None)
    if own is not None:
        for path in (own, own.with_name(own.name + "-wal"), own.with_name(own.name + "-shm")):
            path.unlink(missing_ok=True)
