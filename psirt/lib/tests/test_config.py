from __future__ import annotations

import base64
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from psirt.lib.checks import undeclared_variables_messages
from psirt.lib.config import ConfigError, ServeConfig, is_offline_command, load_config, new_fernet_key, weakness
from psirt.lib.variables import DECLARED, VARIABLES, DeclaredEnv, UndeclaredVariableError

GOOD_SECRET = "s3cr3t-Jw7qP2xLk9VzR4mT8nB1cY6hG3fD0sQaE5uWo-Zi_Kv"


def prod_env(**overrides: str) -> dict[str, str]:
    env = {
        "SECRET_KEY": GOOD_SECRET,
        "PSIRT_ENCRYPTION_KEYS": new_fernet_key(),
        "PSIRT_AUDIT_KEYS": new_fernet_key(),
        "ALLOWED_HOSTS": "security.example.com",
        "PSIRT_BASE_URL": "https://security.example.com",
        "EMAIL_URL": "smtp+tls://bot%40example.com:p%40ss@mail.example.com",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v != "<unset>"}


def test_production_config_parses_every_value(tmp_path: Path) -> None:
    cfg = load_config(prod_env(TIME_ZONE="Asia/Shanghai"), base_dir=tmp_path)
    assert cfg.dev is False and cfg.debug is False
    assert cfg.allowed_hosts == ["security.example.com"]
    assert cfg.email.host == "mail.example.com" and cfg.email.port == 587 and cfg.email.use_tls
    assert cfg.email.user == "bot@example.com" and cfg.email.password == "p@ss"
    assert cfg.time_zone == "Asia/Shanghai"
    assert cfg.https is True
    assert cfg.database["ENGINE"] == "psirt.lib.sqlite"  # Django's, with the writers queued in the kernel
    assert "journal_mode=WAL" in cfg.database["OPTIONS"]["init_command"]
    assert "cache_size=-65536" in cfg.database["OPTIONS"]["init_command"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECRET_KEY", "<unset>", "SECRET_KEY is not set"),
        ("SECRET_KEY", "changeme", "placeholder"),
        ("SECRET_KEY", "short-but-random-Xy1", "placeholder or too short"),
        ("SECRET_KEY", "django-insecure-" + "x" * 50, "placeholder"),
        ("PSIRT_ENCRYPTION_KEYS", "<unset>", "PSIRT_ENCRYPTION_KEYS is not set"),
        ("PSIRT_ENCRYPTION_KEYS", "not-a-key", "item 1 is not a key"),
        ("PSIRT_ENCRYPTION_KEYS", "a,,b", "empty item"),
        ("PSIRT_AUDIT_KEYS", "<unset>", "PSIRT_AUDIT_KEYS is not set"),
        ("PSIRT_AUDIT_KEYS", "not-a-key", "item 1 is not a key"),
        ("PSIRT_AUDIT_KEYS", "A" * 43 + "=", "item 1 is not random"),
        ("PSIRT_AUDIT_KEYS", "<script>alert(1)</script>", "item 1 is not a key"),
        ("ALLOWED_HOSTS", "<unset>", "ALLOWED_HOSTS is not set"),
        ("PSIRT_BASE_URL", "<unset>", "PSIRT_BASE_URL is not set"),
        ("PSIRT_BASE_URL", "ftp://x", "is not an http(s) URL"),
        ("PSIRT_BASE_URL", "http://security.example.com", "must use https://"),
        ("EMAIL_URL", "<unset>", "EMAIL_URL is not set"),
        ("EMAIL_URL", "pop3://x", "scheme 'pop3' is unknown"),
        ("EMAIL_URL", "smtp://host:99999", "bad port"),
        ("TIME_ZONE", "Mars/Olympus", "not an IANA time zone"),
        ("DEBUG", "1", "only allowed together with PSIRT_DEV=1"),
        ("DEBUG", "maybe", "not a yes/no value"),
        ("DATABASE_URL", "mysql://x/y", "scheme 'mysql' is not supported"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL"),
        ("PORT", "http", "PORT"),
        ("PSIRT_CNA_ORG_ID", "not-a-uuid", "is not a version-4 UUID"),
        ("PSIRT_CNA_ORG_ID", "fcab3664-a3a7-539c-a291-82fab2b225b6", "is not a version-4 UUID"),
        ("PSIRT_CNA_SHORT_NAME", "two words", "2 to 32 letters"),
        ("PSIRT_DEMO_VENDOR", "acme", "is not a demo vendor: use visiontek or beca"),
        ("PSIRT_SMTP_SESSIONS", "0", "from 1 to 32"),
        ("PSIRT_SMTP_SESSIONS", "33", "from 1 to 32"),
        ("PSIRT_SMTP_SESSIONS", "four", "whole number of SMTP sessions"),
        ("PSIRT_SMTP_SESSIONS", "-2", "whole number of SMTP sessions"),
        ("PSIRT_PUBLIC_PAGE_CACHE", "60s", "whole number of seconds"),
        ("PSIRT_PUBLIC_PAGE_CACHE", "86400", "from 0 (off) to 3600"),
        ("PSIRT_BIND", "0.0.0.0:80", "is not an IP address or host name"),
        ("PSIRT_BIND", "-x", "is not an IP address or host name"),
        ("WEB_CONCURRENCY", "four", "from 1 to 256 (0: automatic)"),
        ("WEB_CONCURRENCY", "1000", "from 1 to 256 (0: automatic)"),
        ("PSIRT_MAX_REQUESTS", "2k", "from 0 to 10000000 (0: never replace a worker)"),
        ("PSIRT_MAX_REQUESTS", "-1", "from 0 to 10000000 (0: never replace a worker)"),
        ("PSIRT_MAX_REQUESTS", "10000001", "from 0 to 10000000 (0: never replace a worker)"),
        ("PSIRT_TRUSTED_PROXIES", "127.0.0.1,proxy.internal", "item 'proxy.internal' is not an IP address or network"),
        ("PSIRT_TRUSTED_PROXIES", "*", "item '*' is not an IP address or network"),
    ],
)
def test_bad_value_stops_startup_naming_the_variable(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as info:
        load_config(prod_env(**{name: value}), base_dir=tmp_path)
    assert name.split("_")[0] in str(info.value)


def test_secret_key_file_is_read_and_both_forms_conflict(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(GOOD_SECRET + "\n")
    cfg = load_config(prod_env(SECRET_KEY="<unset>", SECRET_KEY_FILE=str(key_file)), base_dir=tmp_path)
    assert cfg.secret_key == GOOD_SECRET
    with pytest.raises(ConfigError, match="Both SECRET_KEY and SECRET_KEY_FILE"):
        load_config(prod_env(SECRET_KEY_FILE=str(key_file)), base_dir=tmp_path)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(prod_env(SECRET_KEY="<unset>", SECRET_KEY_FILE=str(tmp_path / "nope")), base_dir=tmp_path)


def test_dev_mode_generates_secrets_once_with_private_permissions(tmp_path: Path) -> None:
    env = {"PSIRT_DEV": "1", "PSIRT_VAR_DIR": str(tmp_path / "var")}
    first = load_config(env, base_dir=tmp_path)
    second = load_config(env, base_dir=tmp_path)
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 50
    assert first.encryption_keys == second.encryption_keys
    for name in ("secret_key", "encryption_key"):
        assert (tmp_path / "var" / name).stat().st_mode & 0o777 == 0o600
    assert first.base_url == "http://127.0.0.1:8000"
    assert first.email.backend.endswith("console.EmailBackend")


def test_key_rotation_keeps_every_key_in_order(tmp_path: Path) -> None:
    keys = [new_fernet_key() for _ in range(3)]
    cfg = load_config(prod_env(PSIRT_ENCRYPTION_KEYS=",".join(keys)), base_dir=tmp_path)
    assert cfg.encryption_keys == tuple(keys)


def test_postgres_url_is_accepted(tmp_path: Path) -> None:
    cfg = load_config(prod_env(DATABASE_URL="postgres://u:p@db.internal:5433/psirt"), base_dir=tmp_path)
    assert cfg.database["ENGINE"] == "django.db.backends.postgresql"
    assert cfg.database["HOST"] == "db.internal" and cfg.database["PORT"] == 5433


def test_settings_module_refuses_to_start_with_a_clear_message(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "PSIRT_DEV", "DJANGO_SETTINGS_MODULE"}}
    env.update(prod_env(SECRET_KEY="changeme"), PSIRT_VAR_DIR=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", "import psirt.settings"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "configuration error: SECRET_KEY" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cna_identity_is_normalised_or_empty(tmp_path: Path) -> None:
    cfg = load_config(
        prod_env(PSIRT_CNA_ORG_ID="8254265B-2729-46B6-B9E3-3DFCA2D5BFCA", PSIRT_CNA_SHORT_NAME="visiontek"),
        base_dir=tmp_path,
    )
    assert (cfg.cna_org_id, cfg.cna_short_name) == ("8254265b-2729-46b6-b9e3-3dfca2d5bfca", "visiontek")
    assert (load_config(prod_env(), base_dir=tmp_path).cna_org_id) == ""


def test_public_page_cache_is_on_unless_switched_off_and_sqlite_connections_persist(tmp_path: Path) -> None:
    cfg = load_config(prod_env(), base_dir=tmp_path)
    assert cfg.public_page_cache == 300  # every change a cached page shows invalidates it (psirt.pages.generation)
    assert load_config(prod_env(PSIRT_PUBLIC_PAGE_CACHE="0"), base_dir=tmp_path).public_page_cache == 0
    assert cfg.database["CONN_MAX_AGE"] == 60  # reopening SQLite costs more than a cached page
    assert load_config(prod_env(PSIRT_PUBLIC_PAGE_CACHE="60"), base_dir=tmp_path).public_page_cache == 60


def test_smtp_sessions_default_to_four_and_take_a_bounded_number(tmp_path: Path) -> None:
    assert load_config(prod_env(), base_dir=tmp_path).smtp_sessions == 4
    assert load_config(prod_env(PSIRT_SMTP_SESSIONS=" 1 "), base_dir=tmp_path).smtp_sessions == 1
    assert load_config(prod_env(PSIRT_SMTP_SESSIONS="32"), base_dir=tmp_path).smtp_sessions == 32


def test_serve_settings_default_to_loopback_and_are_parsed(tmp_path: Path) -> None:
    assert load_config(prod_env(), base_dir=tmp_path).serve == ServeConfig(
        bind="127.0.0.1", port=8000, workers=0, max_requests=2000, trusted_proxies=("127.0.0.1/32", "::1/128")
    )
    assert load_config(prod_env(PSIRT_MAX_REQUESTS="0"), base_dir=tmp_path).serve.max_requests == 0
    assert load_config(prod_env(PSIRT_MAX_REQUESTS=" 150 "), base_dir=tmp_path).serve.max_requests == 150
    env = prod_env(PSIRT_BIND="::", PORT="8080", WEB_CONCURRENCY="3", PSIRT_TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.7")
    serve = load_config(env, base_dir=tmp_path).serve
    assert (serve.bind, serve.port, serve.workers) == ("[::]", 8080, 3)
    assert serve.trusted_proxies == ("10.0.0.0/8", "192.0.2.7/32")
    # gunicorn believes X-Forwarded-Proto from the same proxies and no others.
    assert serve.forwarded_allow_ips == "10.0.0.0/8,192.0.2.7/32"
    assert load_config(prod_env(PSIRT_BIND="web-1.internal"), base_dir=tmp_path).serve.bind == "web-1.internal"
    # Empty: no proxy is trusted, every header is ignored.
    assert load_config(prod_env(PSIRT_TRUSTED_PROXIES=""), base_dir=tmp_path).serve.trusted_proxies == ()


class RecordingEnv(dict[str, str]):
    """A plain environment that notes every name the parser asks for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return super().__getitem__(name)

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        self.asked.add(name)
        return super().get(name, default)


def test_the_parser_reads_exactly_the_declared_variables(tmp_path: Path) -> None:
    env = RecordingEnv(prod_env())
    load_config(env, base_dir=tmp_path)
    assert env.asked == set(DECLARED)
    assert len(DECLARED) == len(VARIABLES), "a variable is declared twice"


def test_reading_an_undeclared_variable_is_refused() -> None:
    env = DeclaredEnv({"PSIRT_DEV": "1", "PSIRT_SOMETHING": "x"})
    assert env.get("PSIRT_DEV") == "1"
    with pytest.raises(UndeclaredVariableError, match="PSIRT_SOMETHING is read but not declared"):
        env.get("PSIRT_SOMETHING")


def test_deploy_check_warns_about_a_misspelt_variable() -> None:
    [message] = undeclared_variables_messages(
        {"PSIRT_SIGNNG_KEY_FILE": "/k.asc", "PSIRT_DEV": "0", "PSIRT_TEST_RUN_ID": "1", "HOME": "/root"}
    )
    assert message.id == "psirt.W002"
    assert message.msg == "PSIRT_SIGNNG_KEY_FILE is set but psirt reads no such variable."
    assert message.hint is not None and message.hint.startswith("Did you mean PSIRT_SIGNING_KEY_FILE?")
    assert undeclared_variables_messages(dict.fromkeys(DECLARED, "")) == []


def test_offline_commands_are_recognised_from_the_command_line() -> None:
    assert is_offline_command(["psirt", "cvss", "CVSS:3.1/AV:N"])
    assert is_offline_command(["manage.py", "audit", "verify"])
    assert not is_offline_command(["psirt", "audit"])
    assert not is_offline_command(["psirt", "serve"])
    assert not is_offline_command(["pytest"])


def test_offline_load_needs_no_web_variables_but_still_checks_given_ones(tmp_path: Path) -> None:
    cfg = load_config({"PSIRT_DEV": "0"}, base_dir=tmp_path, web=False)
    assert len(cfg.secret_key) >= 50
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        load_config({"PSIRT_DEV": "0", "LOG_LEVEL": "LOUD"}, base_dir=tmp_path, web=False)
    with pytest.raises(ConfigError, match="PSIRT_BASE_URL is not set"):
        load_config({"PSIRT_DEV": "0"}, base_dir=tmp_path)


def test_var_folder_and_sqlite_database_are_owner_only_even_with_a_permissive_umask(tmp_path: Path) -> None:
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PSIRT_", "DATABASE_URL", "DJANGO_SETTINGS"))}
    env.update(PSIRT_DEV="1", PSIRT_VAR_DIR=str(var), DATABASE_URL="")
    proc = subprocess.run(
        [sys.executable, "-m", "psirt.cli", "migrate", "-v", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        umask=0o022,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert var.stat().st_mode & 0o777 == 0o700
    databases = [p for p in var.iterdir() if p.name.startswith("psirt.sqlite3")]
    assert any(p.name == "psirt.sqlite3" for p in databases)
    assert {p.name: p.stat().st_mode & 0o777 for p in databases} == {p.name: 0o600 for p in databases}


def test_an_older_world_readable_var_folder_and_database_are_narrowed(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    os.chmod(var, 0o755)
    db = var / "psirt.sqlite3"
    db.write_bytes(b"")
    os.chmod(db, 0o644)
    (var / "psirt.sqlite3-wal").write_bytes(b"")
    os.chmod(var / "psirt.sqlite3-wal", 0o664)
    load_config({"PSIRT_DEV": "1", "PSIRT_VAR_DIR": str(var)}, base_dir=tmp_path)
    assert var.stat().st_mode & 0o777 == 0o700
    assert db.stat().st_mode & 0o777 == 0o600
    assert (var / "psirt.sqlite3-wal").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "value",
    [
        "k9Qz" * 16,  # a short pattern repeated
        "a" * 64,  # one character
        "abcdefghijklmnopqrstuvwxyz" * 2,  # a run, and a doubled string
        "0123456789" * 6,
        "check-deploy-" + "x" * 50,
        "Tr0ub4dor&3-Tr0ub4dor&3-Tr0ub4dor&3-Tr0ub4dor&3-Tr0ub4dor&3",  # a phrase repeated
    ],
)
def test_production_refuses_a_typed_secret_key(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY is not random enough"):
        load_config(prod_env(SECRET_KEY=value), base_dir=tmp_path)


def test_generated_secrets_are_always_accepted(tmp_path: Path) -> None:
    # The rules must never refuse what `psirt genkey` or token_urlsafe/token_hex produce.
    for _ in range(300):
        for value in (secrets.token_urlsafe(64), secrets.token_urlsafe(38), secrets.token_hex(32)):
            assert weakness(value) is None, value
        key = new_fernet_key()
        assert load_config(prod_env(PSIRT_ENCRYPTION_KEYS=key), base_dir=tmp_path).encryption_keys == (key,)


@pytest.mark.parametrize(
    "raw",
    [bytes(32), b"\x01" * 32, bytes(range(32)), bytes(range(16)) * 2, b"psirt-key-psirt-key-psirt-key-ps"],
    ids=["all-zero", "one-byte", "counting", "pattern", "typed-phrase"],
)
@pytest.mark.parametrize("dev", ["0", "1"])
def test_a_weak_encryption_key_is_refused_in_every_mode(tmp_path: Path, raw: bytes, dev: str) -> None:
    weak = base64.urlsafe_b64encode(raw).decode()
    env = prod_env(PSIRT_DEV=dev, PSIRT_ENCRYPTION_KEYS=f"{new_fernet_key()},{weak}")
    with pytest.raises(ConfigError, match="PSIRT_ENCRYPTION_KEYS item 2 is not random"):
        load_config(env, base_dir=tmp_path)


def test_the_same_encryption_key_twice_is_refused(tmp_path: Path) -> None:
    key = new_fernet_key()
    with pytest.raises(ConfigError, match="the same key twice"):
        load_config(prod_env(PSIRT_ENCRYPTION_KEYS=f"{key},{key}"), base_dir=tmp_path)


@pytest.mark.parametrize("lost", ["encryption_key", "secret_key"])
@pytest.mark.parametrize("evidence", ["database", "attachment", "database-url"])
def test_dev_mode_never_mints_a_new_key_next_to_stored_data(tmp_path: Path, lost: str, evidence: str) -> None:
    var = tmp_path / "var"
    env = {"PSIRT_DEV": "1", "PSIRT_VAR_DIR": str(var)}
    if evidence == "database-url":
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    first = load_config(env, base_dir=tmp_path)
    if evidence == "attachment":
        (var / "files" / "ab").mkdir(parents=True)
        (var / "files" / "ab" / "ab12-a.enc").write_bytes(b"PSIRTENC1\n")
    else:
        Path(first.database["NAME"]).write_bytes(b"SQLite format 3\0")
    (var / lost).unlink()
    with pytest.raises(ConfigError, match=f"{lost} is missing but data is already stored"):
        load_config(env, base_dir=tmp_path)
    assert not (var / lost).exists()  # nothing was minted
    # Without stored data a fresh start still creates the secrets by itself.
    shutil.rmtree(var)
    (tmp_path / "elsewhere.sqlite3").unlink(missing_ok=True)
    assert load_config(env, base_dir=tmp_path).encryption_keys


def test_postgresql_connections_run_without_jit_compilation(tmp_path: Path) -> None:
    cfg = load_config(prod_env(DATABASE_URL="postgres://psirt@db.example.com:5432/psirt"), base_dir=tmp_path)
    assert cfg.database["OPTIONS"]["options"] == "-c jit=off"
    url = "postgres://psirt@db.example.com:5432/psirt?options=-c%20statement_timeout%3D5000"
    cfg = load_config(prod_env(DATABASE_URL=url), base_dir=tmp_path)
    assert cfg.database["OPTIONS"]["options"] == "-c statement_timeout=5000 -c jit=off"


@pytest.mark.django_db
def test_the_postgresql_connection_has_jit_compilation_off() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite compiles no query")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
