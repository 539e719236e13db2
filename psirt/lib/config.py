"""Strict parsing of the environment into settings.

Every variable psirt reads is declared once in `psirt.lib.variables` (name, kind, default, meaning) and parsed
once here; a bad value stops start-up with a message that names the variable and says what to do. `load_config`
is pure (a mapping in, a `Config` out, plus the side effect of creating dev secrets under the var folder when dev
mode asks for it), so it is tested with plain dictionaries.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import itertools
import math
import os
import re
import secrets
import uuid
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import dj_database_url

from psirt.lib.variables import DECLARED, DeclaredEnv, declared_int


class ConfigError(Exception):
    """A variable has a bad or missing value; the message names it and says how to fix it."""


# Values people paste from examples. Production refuses them: a known secret is no secret.
PLACEHOLDERS = {
    "",
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "please-change-me",
    "replace-me",
    "xxx",
    "todo",
    "insecure",
}

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class EmailConfig:
    backend: str
    host: str = "localhost"
    port: int = 25
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False
    timeout: int = 20


@dataclass(frozen=True)
class ServeConfig:
    """How `psirt serve` runs gunicorn."""

    bind: str
    port: int
    workers: int  # 0: one more than the CPU count, at most 4
    max_requests: int  # a worker is replaced after this many to twice as many requests; 0: never
    trusted_proxies: tuple[str, ...]  # networks, normalised ("127.0.0.1/32"); read by psirt.lib.http

    @property
    def forwarded_allow_ips(self) -> str:
        """The same proxies for gunicorn, which believes their `X-Forwarded-Proto` (https)."""
        return ",".join(self.trusted_proxies)


@dataclass(frozen=True)
class Config:
    """Everything the environment decides, already validated. No field has a default of its own: the defaults are
    those declared in `psirt.lib.variables.VARIABLES`, applied by `load_config`."""

    dev: bool
    debug: bool
    var_dir: Path
    shared_dir: Path | None
    secret_key: str
    encryption_keys: tuple[str, ...]
    audit_keys: tuple[str, ...]
    audit_checkpoint_dir: Path
    database: dict[str, Any]
    allowed_hosts: list[str]
    base_url: str
    email: EmailConfig
    default_from_email: str
    time_zone: str
    https: bool
    demo_password: str
    demo_vendor: str
    log_level: str
    team_key_file: Path | None
    signing_key_file: Path | None
    csrf_trusted_origins: list[str]
    max_attachment_mb: int
    max_attachments_total_mb: int
    notify_give_up_hours: int
    smtp_sessions: int
    webhook_allow_private: bool
    hiring_url: str
    miit_working_days: bool
    cna_org_id: str
    cna_short_name: str
    public_page_cache: int
    app_url: str
    static_export_dir: Path | None
    serve: ServeConfig


def parse_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a yes/no value: use 1 or 0.")


def parse_list(env: Mapping[str, str], name: str) -> list[str] | None:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return None
    items = [item.strip() for item in raw.split(",")]
    if any(not item for item in items):
        raise ConfigError(f"{name} has an empty item: separate values with single commas, e.g. a.example,b.example.")
    return items


def _is_placeholder(value: str) -> bool:
    v = value.strip().lower()
    return v in PLACEHOLDERS or v.startswith(("django-insecure", "change", "replace"))


def _owner_only(path: Path, mode: int) -> None:
    """Narrow `path` to `mode` (0700 for a folder, 0600 for a file) if group or others may use it and this process
    owns it (a folder or file the operator gave to another user is theirs to manage)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_mode & 0o077 and info.st_uid == os.geteuid():
        # A read-only disk cannot be changed; the readiness check reports it, start-up need not fail here.
        with contextlib.suppress(OSError):
            os.chmod(path, mode)


def private_dir(path: Path) -> Path:
    """The var folder, created (with its parents) readable by its owner only, and narrowed to that if an older
    install made it world-readable: it holds the database, the keys and the encrypted files."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    _owner_only(path, 0o700)
    return path


def private_sqlite_file(name: str) -> None:
    """Create the SQLite database file owner-only (0600) before SQLite does it with the process umask; SQLite
    gives its -wal and -shm files the database file's permissions. An existing file (and its -wal, -shm) is
    narrowed to 0600 if needed."""
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists():
        for each in (path, Path(f"{name}-wal"), Path(f"{name}-shm"), Path(f"{name}-journal")):
            _owner_only(each, 0o600)
        return
    with contextlib.suppress(FileExistsError):  # another process created it a moment ago
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def weakness(value: str | bytes, *, min_bits: int = 128) -> str | None:
    """Why a secret is guessable, or None. Catches what people type instead of generating: one character
    repeated, a pattern repeated (`k9Qzk9Qz…`), a run (`abcdef…`, bytes 0, 1, 2…), too few different
    characters, or too little information in total. A generated secret (`secrets.token_urlsafe(64)`, 32 random
    bytes, even hex) passes with a wide margin: these tests never refuse a random value in practice."""
    # Compared as numbers: a character's code point, a byte's value. The first 512 are enough to judge and keep
    # the pattern search (quadratic) instant whatever the length of the value.
    symbols = list(value[:512]) if isinstance(value, bytes) else [ord(symbol) for symbol in value[:512]]
    if not symbols:
        return "it is empty"
    if len(set(symbols)) < 10:
        return "it has fewer than 10 different characters"
    steps = [b - a for a, b in itertools.pairwise(symbols)]
    if max(steps.count(step) for step in set(steps)) >= 0.5 * len(steps):
        return "it counts up or down"
    for period in range(1, len(symbols) // 2 + 1):
        same = sum(1 for a, b in zip(symbols, symbols[period:], strict=False) if a == b)
        if same >= 0.75 * (len(symbols) - period):
            return "it repeats a pattern"
    counts = [symbols.count(symbol) for symbol in set(symbols)]
    bits = -sum(count * math.log2(count / len(symbols)) for count in counts)
    if bits < min_bits:
        return "it holds too little randomness"
    return None


def _read_or_create(path: Path, make: Callable[[], str]) -> str:
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value: str = make()
    # Created with 0600 from the start: the secret never exists world-readable, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


def _stored_data(env: Mapping[str, str], var_dir: Path) -> Path | None:
    """A file showing that data was already stored here: the SQLite database or an attachment under var/files.
    (On PostgreSQL the deployment checks' key canary catches a new key instead: `psirt.organization.keys`.)"""
    url = env.get("DATABASE_URL") or ""
    database: Path | None = var_dir / "psirt.sqlite3"
    if url.lower().startswith("sqlite:///"):
        database = Path(url[len("sqlite:///") :])
    elif url:
        database = None
    if database is not None and database.is_file() and database.stat().st_size > 0:
        return database
    files = Path(env.get("PSIRT_SHARED_DIR") or var_dir) / "files"
    if files.is_dir():
        return next((path for path in files.rglob("*") if path.is_file()), None)
    return None


def _dev_secret(env: Mapping[str, str], var_dir: Path, name: str, make: Callable[[], str]) -> str:
    """The dev-mode secret kept in `var/<name>`, created on first start. Never created anew next to stored data:
    a new key cannot read what the lost one encrypted, and would only fail later, report by report."""
    path = var_dir / name
    if not path.exists():
        data = _stored_data(env, var_dir)
        if data is not None:
            raise ConfigError(
                f"{path} is missing but data is already stored ({data}): a new key could not read it. "
                f"Restore {path} from where you keep it, or set PSIRT_ENCRYPTION_KEYS and SECRET_KEY; to start "
                f"afresh without the old data, delete {var_dir}."
            )
    return _read_or_create(path, make)


def new_fernet_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


# Commands that neither serve pages nor send mail nor read encrypted data: they run with only the database
# configured (or none), so an operator can score a vector or check the audit chain on any machine.
OFFLINE_COMMANDS = (("cvss",), ("audit", "verify"))


def is_offline_command(argv: Sequence[str]) -> bool:
    """Whether `argv` (a `psirt` or `manage.py` command line) runs a command that needs no web configuration."""
    words = [word for word in argv[1:] if not word.startswith("-")]
    return any(tuple(words[: len(command)]) == command for command in OFFLINE_COMMANDS)


def _secret_key(env: Mapping[str, str], dev: bool, var_dir: Path) -> str:
    # An empty variable (`SECRET_KEY=` in an env file) means "not set", not "the empty key".
    value = env.get("SECRET_KEY") or None
    file_name = env.get("SECRET_KEY_FILE") or None
    if value is not None and file_name is not None:
        raise ConfigError("Both SECRET_KEY and SECRET_KEY_FILE are set: keep only one.")
    if file_name is not None:
        try:
            value = Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"SECRET_KEY_FILE={file_name!r} cannot be read ({exc.strerror}).") from exc
    if value is None:
        if dev:
            return _dev_secret(env, var_dir, "secret_key", lambda: secrets.token_urlsafe(64))
        raise ConfigError(
            "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE) to a random string of at least "
            '50 characters, e.g. `python -c "import secrets; print(secrets.token_urlsafe(64))"`.'
        )
    if not dev and (_is_placeholder(value) or len(value) < 50):
        raise ConfigError(
            "SECRET_KEY is a placeholder or too short (needs 50+ random characters): generate a real one."
        )
    reason = weakness(value)
    if not dev and reason:
        raise ConfigError(
            f"SECRET_KEY is not random enough ({reason}): generate one with "
            '`python -c "import secrets; print(secrets.token_urlsafe(64))"`.'
        )
    return value


def _check_keys(name: str, keys: list[str]) -> None:
    """Every key of a key list (encryption, audit): 32 url-safe base64 bytes as `psirt genkey` prints them, random
    (a typed key — all zeros, one byte repeated, a pattern — is a known key: whoever guesses it reads every
    report or rewrites the audit log), each listed once."""
    for index, key in enumerate(keys, start=1):
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ConfigError(
                f"{name} item {index} is not a key (32 url-safe base64 bytes): generate one with `psirt genkey`."
            )
        reason = weakness(raw, min_bits=100)
        if reason:
            raise ConfigError(f"{name} item {index} is not random ({reason}): generate one with `psirt genkey`.")
    if len(set(keys)) != len(keys):
        raise ConfigError(f"{name} lists the same key twice: keep each key once, the newest first.")


def _encryption_keys(env: Mapping[str, str], dev: bool, var_dir: Path) -> tuple[str, ...]:
    keys = parse_list(env, "PSIRT_ENCRYPTION_KEYS")
    if keys is None:
        if dev:
            keys = [_dev_secret(env, var_dir, "encryption_key", new_fernet_key)]
        else:
            raise ConfigError(
                "PSIRT_ENCRYPTION_KEYS is not set. Generate a key with `psirt genkey` and set it; "
                "keep it outside the database backups."
            )
    for index, key in enumerate(keys, start=1):
        if not dev and _is_placeholder(key):
            raise ConfigError(f"PSIRT_ENCRYPTION_KEYS item {index} is a placeholder: generate one with `psirt genkey`.")
    _check_keys("PSIRT_ENCRYPTION_KEYS", keys)
    return tuple(keys)


def _audit_keys(env: Mapping[str, str], dev: bool, var_dir: Path, web: bool) -> tuple[str, ...]:
    """The audit chain's HMAC keys: 32 random bytes each, url-safe base64 (`psirt genkey` prints one). Empty only
    for an offline command without them, so `psirt audit verify` can say that it cannot verify without the key."""
    keys = parse_list(env, "PSIRT_AUDIT_KEYS")
    if keys is None:
        if dev:
            keys = [_read_or_create(var_dir / "audit_key", new_fernet_key)]
        elif not web:
            return ()
        else:
            raise ConfigError(
                "PSIRT_AUDIT_KEYS is not set. Generate a key with `psirt genkey` and set it; keep it outside the "
                "database and its backups (whoever holds it can rewrite the audit log undetected)."
            )
    _check_keys("PSIRT_AUDIT_KEYS", keys)
    return tuple(keys)


def _audit_checkpoint_dir(env: Mapping[str, str], var_dir: Path) -> Path:
    raw = env.get("PSIRT_AUDIT_CHECKPOINT_DIR")
    return Path(raw).resolve() if raw else var_dir / "audit-checkpoints"


def _shared_dir(env: Mapping[str, str]) -> Path | None:
    """The folder every app server and worker shares (attachments, CSAF tree), or None: the var dir's. Relative
    paths are refused: processes started from different folders would each resolve their own."""
    raw = (env.get("PSIRT_SHARED_DIR") or "").strip()
    if not raw:
        return None
    if not Path(raw).is_absolute():
        raise ConfigError(f"PSIRT_SHARED_DIR={raw!r} must be an absolute path, e.g. /mnt/psirt-shared.")
    return private_dir(Path(raw).resolve())


SQLITE_ENGINE = "psirt.lib.sqlite"


def _database(env: Mapping[str, str], var_dir: Path) -> dict[str, Any]:
    url = env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'psirt.sqlite3'}"
    scheme = url.split(":", 1)[0].lower()
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(f"DATABASE_URL scheme {scheme!r} is not supported: use sqlite:/// or postgres://.")
    try:
        # Persistent connections on SQLite too: opening one (and its PRAGMAs) costs more than a whole cached
        # public page; in autocommit no read snapshot outlives a query, so nothing goes stale.
        db: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    except Exception as exc:  # dj_database_url raises several kinds; all mean the same to the operator
        raise ConfigError(f"DATABASE_URL cannot be parsed ({exc}); e.g. postgres://user:pw@host:5432/psirt.") from exc
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # Django's SQLite backend with the writers queued in the kernel instead of SQLite's busy handler
        # (psirt.lib.sqlite.base); everything else, `connection.vendor` included, is Django's.
        db["ENGINE"] = SQLITE_ENGINE
        name = str(db["NAME"])
        if name and name != ":memory:" and not name.startswith("file:"):
            private_sqlite_file(name)
        # WAL lets readers and one writer work at once; IMMEDIATE takes the write lock at BEGIN so two
        # processes never deadlock upgrading a read lock; the timeout (seconds) bounds both the wait for a
        # writer's turn in the queue and SQLite's busy handler after it. A page cache of
        # up to 64 MiB per connection (SQLite's default is 2 MiB, taken only as pages are read): a list over a
        # person's cases reads pages all over a table of tens of MB, which the default cache re-reads from the
        # operating system on every query.
        db["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    else:
        db.setdefault("CONN_HEALTH_CHECKS", True)
        db["CONN_HEALTH_CHECKS"] = True
        # No JIT compilation: psirt's statements run over thousands of rows, not millions, and PostgreSQL's
        # estimate crosses `jit_above_cost` on them anyway (a per-case subquery over 10,000 cases); compiling then
        # costs more than the whole query (400 ms on a 300 ms metrics page). Appended to any `options` the URL has.
        options = db.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    db["ATOMIC_REQUESTS"] = False
    return db


def _email(env: Mapping[str, str], dev: bool) -> EmailConfig:
    url = env.get("EMAIL_URL")
    if not url:
        if dev:
            return EmailConfig(backend="django.core.mail.backends.console.EmailBackend")
        raise ConfigError("EMAIL_URL is not set: e.g. smtp+tls://user:password@mail.example.com:587.")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in {"console", "locmem", "dummy"}:
        return EmailConfig(backend=f"django.core.mail.backends.{scheme}.EmailBackend")
    if scheme not in {"smtp", "smtp+tls", "smtps", "submission"}:
        raise ConfigError(f"EMAIL_URL scheme {scheme!r} is unknown: use smtp://, smtp+tls:// or smtps://.")
    if not parts.hostname:
        raise ConfigError("EMAIL_URL has no host: e.g. smtp://mail.example.com:25.")
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError("EMAIL_URL has a bad port: use a number from 1 to 65535.") from exc
    default_port = {"smtp": 25, "smtp+tls": 587, "submission": 587, "smtps": 465}[scheme]
    return EmailConfig(
        backend="django.core.mail.backends.smtp.EmailBackend",
        host=parts.hostname,
        port=port or default_port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_tls=scheme in {"smtp+tls", "submission"},
        use_ssl=scheme == "smtps",
    )


def _base_url(env: Mapping[str, str], dev: bool) -> str:
    raw = env.get("PSIRT_BASE_URL")
    if not raw:
        if dev:
            return f"http://127.0.0.1:{env.get('PORT', '8000')}"
        raise ConfigError("PSIRT_BASE_URL is not set: the public address, e.g. https://security.example.com.")
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"PSIRT_BASE_URL={raw!r} is not an http(s) URL like https://security.example.com.")
    if not dev and parts.scheme != "https":
        raise ConfigError("PSIRT_BASE_URL must use https:// in production (PSIRT_DEV=1 allows http).")
    return raw.rstrip("/")


def _time_zone(env: Mapping[str, str]) -> str:
    tz = env.get("TIME_ZONE", "UTC").strip() or "UTC"
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"TIME_ZONE={tz!r} is not an IANA time zone such as UTC or Asia/Shanghai.") from exc
    return tz


# The reference vendors `psirt demo` can load.
DEMO_VENDORS = ("visiontek", "beca")


def _demo_vendor(env: Mapping[str, str]) -> str:
    vendor = (env.get("PSIRT_DEMO_VENDOR") or "visiontek").strip().lower() or "visiontek"
    if vendor not in DEMO_VENDORS:
        raise ConfigError(f"PSIRT_DEMO_VENDOR={vendor!r} is not a demo vendor: use {' or '.join(DEMO_VENDORS)}.")
    return vendor


def _optional_file(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name)
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file():
        raise ConfigError(f"{name}={raw!r} does not point to a readable file.")
    return path


def _megabytes(env: Mapping[str, str], name: str) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return declared_int(name)
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 10_000:
        raise ConfigError(f"{name}={raw!r} must be a whole number of megabytes from 1 to 10000.")
    return int(raw)


def _hours(env: Mapping[str, str], name: str) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return declared_int(name)
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 24 * 365:
        raise ConfigError(f"{name}={raw!r} must be a whole number of hours from 1 to 8760.")
    return int(raw)


SMTP_SESSIONS_MAX = 32


def _smtp_sessions(env: Mapping[str, str]) -> int:
    raw = (env.get("PSIRT_SMTP_SESSIONS") or "").strip()
    if not raw:
        return declared_int("PSIRT_SMTP_SESSIONS")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= SMTP_SESSIONS_MAX:
        raise ConfigError(
            f"PSIRT_SMTP_SESSIONS={raw!r} must be a whole number of SMTP sessions per worker from 1 to "
            f"{SMTP_SESSIONS_MAX}."
        )
    return int(raw)


# On by default: every change a cached page shows invalidates it at once (psirt.pages.pagecache); the
# seconds only bound what nothing else invalidates.
PAGE_CACHE_DEFAULT = declared_int("PSIRT_PUBLIC_PAGE_CACHE")


def _page_cache_seconds(env: Mapping[str, str]) -> int:
    raw = (env.get("PSIRT_PUBLIC_PAGE_CACHE") or "").strip()
    if not raw:
        return PAGE_CACHE_DEFAULT
    if not (raw.isascii() and raw.isdigit()) or not 0 <= int(raw) <= 3600:
        raise ConfigError(f"PSIRT_PUBLIC_PAGE_CACHE={raw!r} must be a whole number of seconds from 0 (off) to 3600.")
    return int(raw)


def _hiring_url(env: Mapping[str, str]) -> str:
    raw = (env.get("PSIRT_HIRING_URL") or "").strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    # It goes verbatim into security.txt, one field per line: no spaces or controls, ASCII (percent-encode the rest).
    if parts.scheme != "https" or not parts.hostname or not all("\x21" <= c <= "\x7e" for c in raw):
        raise ConfigError(
            f"PSIRT_HIRING_URL={raw!r} is not an https:// address without spaces, e.g. https://example.com/jobs."
        )
    return raw


def _app_url(env: Mapping[str, str], dev: bool, base_url: str) -> str:
    """Where the live application answers when the public site is served as static files: the dynamic parts of
    an exported page (report form, portal, subscription, calculators, search, sign-in) link there. Unset, it is
    the public address itself (one host: the web server passes those paths on to psirt)."""
    raw = (env.get("PSIRT_APP_URL") or "").strip()
    if not raw:
        return base_url
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"PSIRT_APP_URL={raw!r} is not an http(s) URL like https://app.security.example.com.")
    if not all("\x21" <= c <= "\x7e" for c in raw):
        raise ConfigError(f"PSIRT_APP_URL={raw!r} holds spaces or characters outside ASCII; percent-encode them.")
    if not dev and parts.scheme != "https":
        raise ConfigError("PSIRT_APP_URL must use https:// in production (PSIRT_DEV=1 allows http).")
    return raw.rstrip("/")


def _static_export_dir(env: Mapping[str, str]) -> Path | None:
    """The folder a worker keeps the static export of the public site in after each publication (none: off)."""
    raw = (env.get("PSIRT_STATIC_EXPORT_DIR") or "").strip()
    if not raw:
        return None
    path = Path(raw)
    if not path.is_absolute():
        raise ConfigError(f"PSIRT_STATIC_EXPORT_DIR={raw!r} is not an absolute path, e.g. /srv/psirt-static.")
    if path.exists() and not path.is_dir():
        raise ConfigError(f"PSIRT_STATIC_EXPORT_DIR={raw!r} exists and is not a folder.")
    return path


def load_config(env: Mapping[str, str], *, base_dir: Path, web: bool = True) -> Config:
    """Parse the environment. Raises ConfigError naming the first bad variable.

    With `web=False` (an offline command) the secret key, the encryption keys, the public address, the host names
    and the mail server may be missing: throwaway keys and a mail backend that sends nothing stand in."""
    if not web and not parse_bool(DeclaredEnv(env), "PSIRT_DEV", False):
        stand_ins = {
            "SECRET_KEY": secrets.token_urlsafe(64),
            "PSIRT_ENCRYPTION_KEYS": new_fernet_key(),
            "PSIRT_BASE_URL": "https://localhost",
            "ALLOWED_HOSTS": "localhost",
            "EMAIL_URL": "dummy://",
        }
        if env.get("SECRET_KEY_FILE"):
            del stand_ins["SECRET_KEY"]
        env = {**env, **{name: value for name, value in stand_ins.items() if not env.get(name)}}
    env = DeclaredEnv(env)
    dev = parse_bool(env, "PSIRT_DEV", False)
    debug = parse_bool(env, "DEBUG", False)
    if debug and not dev:
        raise ConfigError("DEBUG=1 is only allowed together with PSIRT_DEV=1: debug pages leak data.")
    var_dir = private_dir(Path(env.get("PSIRT_VAR_DIR") or base_dir / "var").resolve())
    base_url = _base_url(env, dev)
    host = urlsplit(base_url).hostname or "localhost"
    hosts = parse_list(env, "ALLOWED_HOSTS")
    if hosts is None:
        if not dev:
            raise ConfigError(f"ALLOWED_HOSTS is not set: list the public host names, e.g. {host}.")
        hosts = ["localhost", "127.0.0.1", "[::1]", host]
    log_level = env.get("LOG_LEVEL", "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"LOG_LEVEL={log_level!r} must be DEBUG, INFO, WARNING or ERROR.")
    serve = _serve(env)
    return Config(
        dev=dev,
        debug=debug,
        var_dir=var_dir,
        shared_dir=_shared_dir(env),
        secret_key=_secret_key(env, dev, var_dir),
        encryption_keys=_encryption_keys(env, dev, var_dir),
        audit_keys=_audit_keys(env, dev, var_dir, web),
        audit_checkpoint_dir=_audit_checkpoint_dir(env, var_dir),
        database=_database(env, var_dir),
        allowed_hosts=hosts,
        base_url=base_url,
        email=_email(env, dev),
        default_from_email=env.get("DEFAULT_FROM_EMAIL") or f"psirt@{host}",
        time_zone=_time_zone(env),
        https=base_url.startswith("https://"),
        demo_password=env.get("PSIRT_DEMO_PASSWORD") or "demo-psirt-2026",
        demo_vendor=_demo_vendor(env),
        log_level=log_level,
        team_key_file=_optional_file(env, "PSIRT_TEAM_KEY_FILE"),
        signing_key_file=_optional_file(env, "PSIRT_SIGNING_KEY_FILE"),
        csrf_trusted_origins=[base_url],
        max_attachment_mb=_megabytes(env, "PSIRT_MAX_ATTACHMENT_MB"),
        max_attachments_total_mb=_megabytes(env, "PSIRT_MAX_ATTACHMENTS_TOTAL_MB"),
        notify_give_up_hours=_hours(env, "PSIRT_NOTIFY_GIVE_UP_HOURS"),
        smtp_sessions=_smtp_sessions(env),
        webhook_allow_private=parse_bool(env, "PSIRT_WEBHOOK_ALLOW_PRIVATE", False),
        hiring_url=_hiring_url(env),
        miit_working_days=parse_bool(env, "PSIRT_MIIT_WORKING_DAYS", False),
        cna_org_id=_cna_org_id(env),
        cna_short_name=_cna_short_name(env),
        public_page_cache=_page_cache_seconds(env),
        app_url=_app_url(env, dev, base_url),
        static_export_dir=_static_export_dir(env),
        serve=serve,
    )


def _serve(env: Mapping[str, str]) -> ServeConfig:
    port = env.get("PORT") or DECLARED["PORT"].default
    if not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise ConfigError(f"PORT={port!r} must be a number from 1 to 65535.")
    bind = (env.get("PSIRT_BIND") or DECLARED["PSIRT_BIND"].default).strip()
    try:
        address = ipaddress.ip_address(bind.removeprefix("[").removesuffix("]"))
    except ValueError:
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})", bind):
            raise ConfigError(
                f"PSIRT_BIND={bind!r} is not an IP address or host name to listen on, e.g. 127.0.0.1 or 0.0.0.0."
            ) from None
    else:
        bind = f"[{address}]" if address.version == 6 else str(address)
    workers = (env.get("WEB_CONCURRENCY") or DECLARED["WEB_CONCURRENCY"].default).strip()
    if not (workers.isascii() and workers.isdigit()) or int(workers) > 256:
        raise ConfigError(
            f"WEB_CONCURRENCY={workers!r} must be a number of worker processes from 1 to 256 (0: automatic)."
        )
    max_requests = (env.get("PSIRT_MAX_REQUESTS") or DECLARED["PSIRT_MAX_REQUESTS"].default).strip()
    if not (max_requests.isascii() and max_requests.isdigit()) or int(max_requests) > 10_000_000:
        raise ConfigError(
            f"PSIRT_MAX_REQUESTS={max_requests!r} must be a number of requests from 0 to 10000000 (0: never replace "
            "a worker)."
        )
    proxies = env.get("PSIRT_TRUSTED_PROXIES")
    raw = (DECLARED["PSIRT_TRUSTED_PROXIES"].default if proxies is None else proxies).strip()
    networks: list[str] = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigError(
                f"PSIRT_TRUSTED_PROXIES item {item!r} is not an IP address or network: list the reverse proxies' "
                "addresses separated by commas, e.g. 127.0.0.1,10.0.0.0/8 (a wildcard would let any visitor "
                "choose the address psirt sees)."
            ) from None
    return ServeConfig(
        bind=bind,
        port=int(port),
        workers=int(workers),
        max_requests=int(max_requests),
        trusted_proxies=tuple(networks),
    )


def _cna_org_id(env: Mapping[str, str]) -> str:
    raw = (env.get("PSIRT_CNA_ORG_ID") or "").strip()
    if not raw:
        return ""
    try:
        value = uuid.UUID(raw)
    except ValueError:
        value = None
    if value is None or value.version != 4:
        raise ConfigError(
            f"PSIRT_CNA_ORG_ID={raw!r} is not a version-4 UUID: copy the org ID the CVE Program gave your CNA."
        )
    return str(value)


def _cna_short_name(env: Mapping[str, str]) -> str:
    raw = (env.get("PSIRT_CNA_SHORT_NAME") or "").strip()
    if raw and not re.fullmatch(r"[A-Za-z0-9_-]{2,32}", raw):
        raise ConfigError(
            f"PSIRT_CNA_SHORT_NAME={raw!r} must be 2 to 32 letters, digits, '-' or '_' (your CNA short name)."
        )
    return raw
