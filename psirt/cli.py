"""The `psirt` command: psirt's own commands plus every Django management command.

psirt up                 migrate, load demo data, serve + one worker (what `make run` does)
psirt serve              gunicorn on $PSIRT_BIND:$PORT
psirt worker             a background worker (django-tasks, database backend)
psirt migrate            database migrations and the cache table
psirt demo               load a reference vendor (idempotent; --vendor visiontek|beca)
psirt createadmin        create a lead account
psirt token create       create an API token
psirt audit verify       check the audit log's keyed hash chain (--checkpoints DIR: and its signed checkpoints)
psirt genkey             print a new key for PSIRT_ENCRYPTION_KEYS or PSIRT_AUDIT_KEYS
psirt rotatekeys         re-encrypt data at rest with the first key of PSIRT_ENCRYPTION_KEYS
psirt mailgate           file one e-mail message from standard input (an MTA pipe)
psirt export-site DIR    the public site as static files (--changed-since TIMESTAMP: only what changed)
psirt cvss VECTOR        score a CVSS vector (needs no web configuration)
psirt backup DEST        one archive of the data (psirt backup verify ARCHIVE checks one; --keys-to FILE)
psirt restore ARCHIVE    restore a backup onto an empty installation
psirt doctor             check a running installation and say what to fix
psirt <django command>   anything `manage.py` knows (shell, check, makemigrations, …)
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence

import django
from django.conf import settings
from django.core.management import execute_from_command_line

from psirt.lib import schedule
from psirt.lib.config import ServeConfig, new_fernet_key
from psirt.lib.http import absolute_url

OWN_COMMANDS = {
    "up": "Migrate, load demo data, serve and run one worker (what `make run` does).",
    "serve": "Serve the site with gunicorn on $PSIRT_BIND:$PORT (default 127.0.0.1:8000).",
    "worker": "Run a background worker (django-tasks database backend); any number may run.",
    "scheduler": "Enqueue the periodic tasks (scheduled publication, retries, reminders, clean-up).",
    "migrate": "Apply database migrations and create the shared cache table.",
    "demo": "Load a reference vendor's demo data (--vendor visiontek|beca); idempotent.",
    "createadmin": "Create a lead account (asks for the password, or --password-stdin).",
    "token": "API tokens: `psirt token create --user EMAIL --scope SCOPE …`, `psirt token revoke ID`.",
    "audit": "Audit log: `psirt audit verify [--checkpoints DIR]` reports the first broken link or checkpoint.",
    "genkey": "Print a new Fernet key for PSIRT_ENCRYPTION_KEYS.",
    "rotatekeys": "Re-encrypt data at rest with the first key of PSIRT_ENCRYPTION_KEYS (after adding a new key).",
    "mailgate": "File one e-mail message from standard input as a report or a reply (an MTA pipe).",
    "cvss": "Score a CVSS v3.1 or v4.0 vector: `psirt cvss VECTOR` prints JSON (exit 2 for an invalid vector).",
    "validate-csaf": "Validate CSAF 2.0 files: strict schema and every mandatory test (exit 1 if any fails).",
    "import-csaf": "Import CSAF 2.0 files or directories as published advisories (exit 1 if any is refused).",
    "export-csaf": "Write the CSAF 2.0 provider tree into DIR (refuses a non-empty DIR unless --force).",
    "export-site": "Write the public site as static files into DIR (--changed-since TIMESTAMP: only what changed).",
    "backup": "Write one archive of the data (`psirt backup DEST`), check one (`psirt backup verify ARCHIVE`).",
    "restore": "Restore a backup onto an empty installation (SQLite, PostgreSQL, or SQLite → PostgreSQL).",
    "doctor": "Check a running installation (keys, database, workers, disk, CSAF tree, expiries); exit 1 on a fault.",
    "import-sbom": "Store a CycloneDX/SPDX JSON SBOM for a release: `--product SLUG --version VERSION FILE`.",
    "import-vulns": "Import OSV, CVE JSON 5 or CSAF files about third-party components and match them with the SBOMs.",
}

# psirt's hyphenated command names and the Django management commands behind them.
ALIASES = {
    "validate-csaf": "validate_csaf",
    "import-csaf": "import_csaf",
    "export-csaf": "export_csaf",
    "export-site": "export_site",
    "import-sbom": "import_sbom",
    "import-vulns": "import_vulns",
}


def _usage() -> str:
    lines = ["usage: psirt COMMAND [options]", "", "psirt commands:"]
    # The descriptions start in one column, after the longest command name.
    width = max(len(name) for name in OWN_COMMANDS)
    lines += [f"  {name:<{width}}  {text}" for name, text in OWN_COMMANDS.items()]
    lines += ["", "Every Django management command works too (psirt help lists them; psirt COMMAND --help)."]
    return "\n".join(lines)


def _django(argv: Sequence[str]) -> None:
    execute_from_command_line(["psirt", *argv])


# How `psirt serve` runs the application in gunicorn, apart from the address, the number of workers and the logs:
# the benchmarks start their servers with these too, so what they measure is what is served.
SERVER_OPTIONS = (
    # Whole requests are read in each worker's event loop before a thread serves them, so clients that are slow to
    # send tie up no thread (psirt.lib.server); threads serve the requests that have arrived.
    "--worker-class",
    "psirt.lib.server.BufferingWorker",
    "--threads",
    "8",
    "--keep-alive",
    "0",
    # The application is loaded once in the master and each worker is a fork of it, so a worker that reaches its
    # request limit is replaced in milliseconds, not by a fresh import of several seconds during which a busy site
    # answers nobody. The hooks keep what belongs to one process out of the master.
    "--preload",
    # The master runs no thread (gunicorn's control socket, which psirt does not use, would be one), so no fork
    # copies a lock another thread held.
    "--no-control-socket",
    "--config",
    "python:psirt.lib.serve_hooks",
)


def _serve_args(workers: int | None = None) -> list[str]:
    serve: ServeConfig = settings.CONFIG.serve
    count = workers or serve.workers or min(4, (os.cpu_count() or 1) + 1)
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
    return [
        gunicorn,
        "psirt.wsgi:application",
        "--bind",
        f"{serve.bind}:{serve.port}",
        "--workers",
        str(count),
        *SERVER_OPTIONS,
        "--access-logfile",
        "-",
        # Private links (/r/<token>/) and other URL secrets never reach the access log.
        "--logger-class",
        "psirt.lib.redact.GunicornLogger",
        "--forwarded-allow-ips",
        serve.forwarded_allow_ips,
        # Each worker draws its limit between max_requests and twice that, so workers that started together
        # under equal load are not replaced at the same moment.
        "--max-requests",
        str(serve.max_requests),
        "--max-requests-jitter",
        str(serve.max_requests),
    ]


def _worker_args() -> list[str]:
    return [sys.executable, "-m", "psirt.cli", "db_worker", "--interval", "1"]


def _scheduler_args() -> list[str]:
    return [sys.executable, "-m", "psirt.cli", "scheduler"]


def _banner() -> str:
    lines = [
        "",
        "psirt is running.",
        f"  Public site  {absolute_url('/en/')}   (中文: {absolute_url('/zh-hans/')})",
        f"  Back office  {absolute_url('/en/desk/')}",
        f"  Admin        {absolute_url('/admin/')}",
        f"  API docs     {absolute_url('/api/docs')}",
    ]
    # Imported here: a model can be imported only after django.setup(), which main() runs after reading argv.
    from psirt.accounts.models import User

    demo = list(User.objects.filter(email__endswith="@demo.test").values_list("email", flat=True))
    if demo:
        lines.append(f"  Demo sign-ins (password {settings.PSIRT_DEMO_PASSWORD!r}, set PSIRT_DEMO_PASSWORD to change):")
        lines += [f"    {email}" for email in demo]
    lines.append("  Stop with Ctrl-C.")
    return "\n".join(lines) + "\n"


def _migrate(rest: Sequence[str] = ()) -> None:
    _django(["migrate", *rest])
    # The database cache carries rate limits and login throttling across processes.
    _django(["createcachetable"])


def _sweep_files() -> None:
    """Start-up housekeeping: remove temporary and unreferenced files a killed process left in the file store
    (they hold ciphertext only). Imported here: models need django.setup(), which main() runs first."""
    from django.db import DatabaseError

    from psirt.intake.services import sweep_files

    try:
        sweep_files()
    except DatabaseError as exc:  # not migrated yet: the hourly housekeeping sweeps later
        sys.stderr.write(f"psirt: start-up file sweep skipped ({exc}).\n")


def _up() -> int:
    _migrate(["-v", "0"])
    _sweep_files()
    _django(["demo"])
    if not settings.PSIRT_DEV:
        _django(["collectstatic", "--noinput", "-v0"])
    worker = subprocess.Popen(_worker_args())  # noqa: S603 - our own interpreter and module
    clock = subprocess.Popen(_scheduler_args())  # noqa: S603
    server = subprocess.Popen(_serve_args())  # noqa: S603
    sys.stdout.write(_banner())
    sys.stdout.flush()

    def stop(signum: int, frame: object) -> None:
        for proc in (server, clock, worker):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        code = server.wait()
    finally:
        stop(0, None)
        clock.wait(timeout=30)
        worker.wait(timeout=30)
    return code


# Commands that serve or process reports: they refuse to start with encryption keys that cannot read the stored
# data, instead of failing report by report (gunicorn and the worker run no system checks of their own).
LONG_RUNNING = frozenset({"up", "serve", "worker", "scheduler"})


def _keys_refusal() -> str:
    """The key check's error and hint, ready to print, or "" when the keys read the stored data."""
    # Imported here: a model can be imported only after django.setup(), which main() runs after reading argv.
    from psirt.organization.checks import key_messages

    return "".join(f"psirt: {message.msg}\n  {message.hint}\n" for message in key_messages())


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "psirt.settings")
    if not args or args[0] in {"-h", "--help"}:
        sys.stdout.write(_usage() + "\n")
        return 0
    command, rest = args[0], args[1:]
    if command == "genkey":
        sys.stdout.write(new_fernet_key() + "\n")
        return 0
    django.setup()
    if command in LONG_RUNNING and (refusal := _keys_refusal()):
        sys.stderr.write(refusal)
        return 2
    if command == "up":
        return _up()
    if command == "serve":
        _sweep_files()
        os.execv(_serve_args()[0], _serve_args())  # noqa: S606 - replaces this process with gunicorn
    if command == "worker":
        _django(["db_worker", *rest])
        return 0
    if command == "scheduler":
        if "--once" in rest:
            for path in schedule.tick():
                sys.stdout.write(f"enqueued {path}\n")
        else:
            schedule.run_forever()
        return 0
    if command == "migrate":
        _migrate(rest)
        return 0
    _django([ALIASES.get(command, command), *rest])
    return 0


if __name__ == "__main__":
    sys.exit(main())
