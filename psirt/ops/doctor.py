"""`psirt doctor`: the health of a running installation, check by check, each saying what to fix.

Unlike `/readyz` (may this node serve now?), the doctor looks at the whole installation an operator answers for:
configuration (Django's deployment checks), the keys and whether they read the data (the key canary), the database
and its migrations, the workers and the scheduler, free disk space, the CSAF tree against the public advisories,
the signing key's expiry, the Expires field of the security.txt actually served, and the ways out the outbox found
down (the mail server, webhook receivers). Each check answers ok, warn
or fail; any fail makes the command exit 1.

Workers leave no heartbeat of their own; what they leave are the django-tasks rows they finish. The scheduler
enqueues the outbox sweep every minute, so on a live installation a task finishes every minute: no finished task
for `WORKER_SILENCE` while tasks wait means no worker runs; nothing enqueued for as long means no scheduler runs."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pysequoia
from django.conf import settings
from django.core import checks as django_checks
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Max, Min
from django.http.request import validate_host
from django.test import Client
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from psirt.advisories.csaf.documents import DocumentError, advisory_queryset
from psirt.advisories.csaf.provider import advisory_documents, find_document, provider_root
from psirt.lib.signing import SigningUnavailable, signing_key
from psirt.mail.models import OutboxMessage, OutboxStatus
from psirt.mail.transports import describe
from psirt.notify.queries import outage
from psirt.organization.queries import key_problem

OK, WARN, FAIL = "ok", "warn", "fail"
WORKER_SILENCE = dt.timedelta(minutes=5)
DISK_FAIL_BYTES, DISK_FAIL_SHARE = 500 * 1024**2, 0.05
DISK_WARN_BYTES, DISK_WARN_SHARE = 2 * 1024**3, 0.10
EXPIRY_WARNING = dt.timedelta(days=30)


@dataclass(frozen=True)
class Finding:
    """One check's answer: `status` ok/warn/fail, what was seen, and what to do about it."""

    name: str
    status: str
    detail: str
    fix: str = ""


def check_configuration(now: dt.datetime) -> Finding:
    messages = django_checks.run_checks(include_deployment_checks=True)
    errors = [m for m in messages if m.level >= django_checks.ERROR]
    warnings = [m for m in messages if django_checks.WARNING <= m.level < django_checks.ERROR]
    if errors:
        first = errors[0]
        return Finding("configuration", FAIL, f"{len(errors)} error(s): {first.id}: {first.msg}", str(first.hint or ""))
    if warnings:
        first = warnings[0]
        return Finding(
            "configuration", WARN, f"{len(warnings)} warning(s): {first.id}: {first.msg}", str(first.hint or "")
        )
    return Finding("configuration", OK, "`check --deploy` finds nothing")


def check_keys(now: dt.datetime) -> Finding:
    if not settings.PSIRT_ENCRYPTION_KEYS:
        return Finding(
            "keys", FAIL, "PSIRT_ENCRYPTION_KEYS is empty", "Set it to the keys the data was encrypted with."
        )
    if not settings.PSIRT_AUDIT_KEYS:
        return Finding("keys", FAIL, "PSIRT_AUDIT_KEYS is empty", "Set it to the audit log's keys (psirt genkey).")
    problem = key_problem()
    if problem:
        return Finding(
            "keys",
            FAIL,
            problem,
            "Set PSIRT_ENCRYPTION_KEYS to the keys of this data (from the keys export, `psirt backup --keys-to`).",
        )
    return Finding("keys", OK, "the encryption keys read the stored data (key canary)")


def check_database(now: dt.datetime) -> Finding:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        plan = MigrationExecutor(connection).migration_plan(MigrationExecutor(connection).loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return Finding(
            "database", FAIL, f"unreachable ({type(exc).__name__})", "Check DATABASE_URL and that the server runs."
        )
    if plan:
        return Finding("database", FAIL, f"{len(plan)} migration(s) not applied", "Run `psirt migrate`.")
    return Finding("database", OK, f"reachable ({connection.vendor}), every migration applied")


def check_workers(now: dt.datetime) -> Finding:
    try:
        finished = DBTaskResult.objects.aggregate(last=Max("finished_at"))["last"]
        enqueued = DBTaskResult.objects.aggregate(last=Max("enqueued_at"))["last"]
        waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY, run_after__lte=now).aggregate(
            first=Min("run_after")
        )["first"]
    except DatabaseError:
        return Finding("workers", FAIL, "the task table cannot be read", "Run `psirt migrate`.")
    silent_since = now - WORKER_SILENCE
    if finished is not None and finished >= silent_since:
        return Finding("workers", OK, f"a worker finished a task at {finished:%Y-%m-%d %H:%M:%S} UTC")
    if waiting is not None and waiting < silent_since:
        return Finding(
            "workers",
            FAIL,
            f"tasks wait since {waiting:%Y-%m-%d %H:%M} UTC and no worker finished one in the last "
            f"{int(WORKER_SILENCE.total_seconds() // 60)} minutes",
            "Start `psirt worker` (mails, webhooks and the CSAF tree wait for it).",
        )
    if enqueued is None or enqueued < silent_since:
        return Finding(
            "workers",
            FAIL,
            f"nothing was enqueued in the last {int(WORKER_SILENCE.total_seconds() // 60)} minutes (the outbox "
            "sweep is enqueued every minute)",
            "Start `psirt scheduler` (and `psirt worker`).",
        )
    return Finding("workers", OK, "tasks were enqueued recently and none waits for long")


def check_disk(now: dt.datetime) -> Finding:
    var = Path(settings.PSIRT_VAR_DIR)
    usage = shutil.disk_usage(var)
    share = usage.free / usage.total if usage.total else 0.0
    detail = f"{usage.free / 1024**3:.1f} GB free ({share:.0%}) for {var}"
    fix = (
        "Free space on that disk or move PSIRT_VAR_DIR to a larger one; reports and attachments are refused when full."
    )
    if usage.free < DISK_FAIL_BYTES or share < DISK_FAIL_SHARE:
        return Finding("disk", FAIL, detail, fix)
    if usage.free < DISK_WARN_BYTES or share < DISK_WARN_SHARE:
        return Finding("disk", WARN, detail, fix)
    return Finding("disk", OK, detail)


def check_csaf_tree(now: dt.datetime) -> Finding:
    root = provider_root()
    missing = []
    for advisory in advisory_queryset():
        if find_document(advisory.advisory_id) is not None:
            continue
        try:
            advisory_documents(advisory)
        except DocumentError:
            continue  # by design without a document (an imported VEX saying "not affected" everywhere)
        missing.append(advisory.advisory_id)
    if missing:
        return Finding(
            "csaf tree",
            FAIL,
            f"{len(missing)} public advisory(ies) have no document in {root} (first: {missing[0]})",
            "Start `psirt worker` and `psirt scheduler`: the hourly sync repairs the tree (or run `psirt "
            "export-csaf` into a new folder to compare).",
        )
    return Finding("csaf tree", OK, f"every public advisory has its document in {root}")


def check_signing_key(now: dt.datetime) -> Finding:
    try:
        key = signing_key()
    except SigningUnavailable as exc:
        return Finding("signing key", WARN, str(exc), "Set PSIRT_SIGNING_KEY_FILE.")
    expiry = pysequoia.Cert.from_bytes(key.public_key.encode("utf-8")).expiration
    if expiry is None:
        return Finding("signing key", OK, f"{key.fingerprint} does not expire")
    if expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=dt.UTC)
    fix = "Extend the key's expiry (or make a new key), then point PSIRT_SIGNING_KEY_FILE at it."
    if expiry <= now:
        return Finding("signing key", FAIL, f"{key.fingerprint} expired on {expiry:%Y-%m-%d}", fix)
    if expiry - now < EXPIRY_WARNING:
        return Finding("signing key", WARN, f"{key.fingerprint} expires on {expiry:%Y-%m-%d}", fix)
    return Finding("signing key", OK, f"{key.fingerprint} valid until {expiry:%Y-%m-%d}")


EXPIRES_LINE = re.compile(r"^Expires:\s*(\S+)\s*$", re.MULTILINE)


def check_security_txt(now: dt.datetime) -> Finding:
    """Ask the site for /.well-known/security.txt as a visitor would (in-process) and read its Expires."""
    base = urlsplit(settings.PSIRT_BASE_URL)
    # The public host when this process accepts it, else the first name it accepts (as the proxy would send).
    hosts = [h for h in settings.ALLOWED_HOSTS if h != "*" and not h.startswith(".")]
    host = base.netloc if not hosts or validate_host(base.hostname or "", settings.ALLOWED_HOSTS) else hosts[0]
    response = Client().get("/.well-known/security.txt", HTTP_HOST=host, secure=base.scheme == "https")
    fix = "Fill in the organisation profile's security contact so security.txt is served (Desk → Organisation)."
    if response.status_code != 200:
        return Finding("security.txt", FAIL, f"answered {response.status_code}", fix)
    match = EXPIRES_LINE.search(response.content.decode("utf-8", "replace"))
    if match is None:
        return Finding("security.txt", FAIL, "has no Expires field", fix)
    try:
        expires = dt.datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
    except ValueError:
        return Finding("security.txt", FAIL, f"Expires is not a date: {match.group(1)[:40]!r}", fix)
    if expires <= now:
        return Finding("security.txt", FAIL, f"expired on {expires:%Y-%m-%d}", fix)
    if expires - now < EXPIRY_WARNING:
        return Finding("security.txt", WARN, f"expires on {expires:%Y-%m-%d}", fix)
    return Finding("security.txt", OK, f"Expires {expires:%Y-%m-%d}")


def check_outbox(now: dt.datetime) -> Finding:
    """The ways out the workers paused (`psirt.mail.transports`): the mail server fails the check (every mail
    waits), a webhook receiver warns (its deliveries wait; the others go on)."""
    paused = outage()
    if paused.mail is None and not paused.receivers:
        return Finding("outbox", OK, "no way out is paused: the mail server and the webhook receivers answer")
    waiting = OutboxMessage.objects.filter(status__in=(OutboxStatus.QUEUED, OutboxStatus.FAILED)).count()
    first = paused.mail or paused.receivers[0][0]
    since = (
        f"since {first.down_since:%Y-%m-%d %H:%M} UTC ({first.last_error or 'failed'}), "
        f"next try at {first.retry_at:%H:%M:%S} UTC"
    )
    if paused.mail is not None:
        return Finding(
            "outbox",
            FAIL,
            f"the mail server is unreachable {since}; {waiting} message(s) wait, not charged an attempt",
            "Check EMAIL_URL and that the mail server accepts connections from this host; the waiting mails go out "
            "by themselves once it answers.",
        )
    names = sorted(name for _row, hook_names in paused.receivers for name in hook_names)
    return Finding(
        "outbox",
        WARN,
        f"{len(paused.receivers)} webhook receiver(s) unreachable, {describe(first.transport)} {since}; "
        f"webhooks: {', '.join(names) or '(none active)'}",
        "Tell the receivers' owners (Notifications → Webhooks): their deliveries go out by themselves once they "
        "answer again.",
    )


CHECKS: tuple[Callable[[dt.datetime], Finding], ...] = (
    check_configuration,
    check_keys,
    check_database,
    check_workers,
    check_disk,
    check_csaf_tree,
    check_signing_key,
    check_security_txt,
    check_outbox,
)


def run_checks(now: dt.datetime | None = None) -> list[Finding]:
    """Every check, in order. A check that crashes is itself a failure, named, never a traceback."""
    moment = now or timezone.now()
    findings = []
    for check in CHECKS:
        name = check.__name__.removeprefix("check_").replace("_", " ")
        try:
            findings.append(check(moment))
        except Exception as exc:  # the doctor reports every check, whatever one of them raises
            findings.append(Finding(name, FAIL, f"the check itself failed ({type(exc).__name__})", "See the log."))
    return findings
