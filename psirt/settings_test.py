"""Settings for the test suite: production-like (no dev mode, no DEBUG), with fixed test secrets.

`TEST_DATABASE_URL` selects PostgreSQL for the second leg of `make test`."""

import os

from psirt.lib.config import SQLITE_ENGINE, new_fernet_key

_test_env = {
    "PSIRT_DEV": "0",
    "SECRET_KEY": "test-Vq3kXw9LmZ2pTn7RbY4sHc8JdF1gKe6uWa5xNt0yQi-oPr_E3zMv",
    "PSIRT_ENCRYPTION_KEYS": new_fernet_key() + "," + new_fernet_key(),
    "PSIRT_AUDIT_KEYS": new_fernet_key() + "," + new_fernet_key(),
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "PSIRT_BASE_URL": "https://psirt.test",
    "EMAIL_URL": "locmem:",
    "TIME_ZONE": "Asia/Shanghai",
}
for _name, _value in _test_env.items():
    os.environ[_name] = _value
# One var folder per test process (xdist names each worker): the public page cache, its render locks, the upload
# spool and the file store live there, and one process clearing them must not pull them from under another's
# test. The workers inherit the controller's environment, so the root is kept apart from the folder itself.
_var_root = os.environ.setdefault(
    "PSIRT_TEST_VAR_ROOT",
    os.environ.get("PSIRT_VAR_DIR") or os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"),
)
os.environ["PSIRT_VAR_DIR"] = os.path.join(_var_root, os.environ.get("PYTEST_XDIST_WORKER", ""))
if os.environ.get("TEST_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
else:
    os.environ["DATABASE_URL"] = "sqlite:///" + os.path.join(os.environ["PSIRT_VAR_DIR"], "test.sqlite3")

from psirt.settings import *  # noqa: E402,F403

if os.environ.get("PSIRT_TEST_RUN_ID") and DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    # A test database of its own per run, so two runs on one server (a developer's and CI's) never
    # drop each other's databases.
    DATABASES["default"]["TEST"] = {"NAME": f"test_psirt_{os.environ['PSIRT_TEST_RUN_ID']}"}  # noqa: F405

if DATABASES["default"]["ENGINE"] == SQLITE_ENGINE:  # noqa: F405
    # An in-memory test database per test process, as for Django's own SQLite backend (pytest-django recognises
    # only that backend's ENGINE and would otherwise name a file database per xdist worker).
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}  # noqa: F405

SECURE_SSL_REDIRECT = False  # the test client speaks http to "testserver"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; never in production
PSIRT_REQUIRE_MFA = True
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# The manifest storage needs `collectstatic` first; tests read static files straight from the apps.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The public page cache is on in production (psirt.pages.pagecache) and off here by default: many tests swap
# code or settings between two requests for the same page (monkeypatch), which no data change announces, and each
# test's rollback brings the previous test's site generation back. The cache's own tests switch it on and clear it;
# PSIRT_TEST_PAGE_CACHE=300 runs any test folder with it on, to check that data changes invalidate what they must.
PSIRT_PUBLIC_PAGE_CACHE = int(os.environ.get("PSIRT_TEST_PAGE_CACHE", "0"))
