"""Shared fixtures: the personas of every access test, a CSRF-enforcing client, a real SMTP server."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from psirt.accounts.models import Role, User
from psirt.lib.paths import folder_lock
from psirt.tests.databases import create_database, drop_database, new_database_name
from psirt.tests.installation import MigratedPostgres, installation_env, postgres_server, psirt_ok

PERSONA_PASSWORD = "persona-pass-Quokka-42"


@pytest.fixture(autouse=True)
def _english_unless_a_test_says_otherwise() -> Iterator[None]:
    """Each test starts in the default language. A request to /zh-hans/… leaves Chinese active in the
    thread afterwards; without this reset, the next test on that worker would get Chinese messages."""
    translation.activate("en")
    yield
    translation.deactivate()


def _make_user(email: str, role: str, *, mfa: bool = True) -> User:
    user = User.objects.create_user(email, PERSONA_PASSWORD, role=role, name=email.split("@")[0])
    if mfa:
        # Staff must have TOTP outside dev mode; personas are enrolled so tests reach the desk.
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

        TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def lead(db: None) -> User:
    return _make_user("lead@persona.test", Role.LEAD)


@pytest.fixture
def handler(db: None) -> User:
    return _make_user("handler@persona.test", Role.HANDLER)


@pytest.fixture
def other_handler(db: None) -> User:
    return _make_user("other-handler@persona.test", Role.HANDLER)


@pytest.fixture
def engineer(db: None) -> User:
    return _make_user("engineer@persona.test", Role.ENGINEER)


@pytest.fixture(scope="session")
def signing_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An armored OpenPGP secret key (the team's signing key in the CSAF and export tests), one per run."""
    import pysequoia

    path = tmp_path_factory.mktemp("keys") / "signing.asc"
    path.write_text(str(pysequoia.Tsk.generate("Test PSIRT <psirt@example.com>")), encoding="ascii")
    return path


@pytest.fixture
def csrf_client() -> Client:
    """A client that enforces CSRF like a browser-facing deployment does."""
    return Client(enforce_csrf_checks=True)


def record_decryptions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text decrypted from now on (`psirt.lib.crypto.decrypt_text`), in order: what a page reads of the
    encrypted columns."""
    from psirt.lib import crypto

    decrypted: list[str] = []
    real = crypto.decrypt_text

    def counting(value: str) -> str:
        decrypted.append(real(value))
        return decrypted[-1]

    monkeypatch.setattr(crypto, "decrypt_text", counting)
    return decrypted


def client_for(user: User | None, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    if user is not None:
        client.force_login(user)
        session = client.session
        # allauth records the methods a session passed (allauth.account.internal.flows.login): the list and
        # the user it belongs to. force_login skips the forms, so write what the sign-in would have.
        now = time.time()
        session["account_authentication_methods"] = [
            {"method": "password", "at": now, "email": user.email},
            {"method": "mfa", "at": now, "type": "totp"},
        ]
        session["account_authentication_methods_user"] = str(user.pk)
        session.save()
    return client


@pytest.fixture
def as_lead(lead: User) -> Client:
    return client_for(lead)


@pytest.fixture
def as_handler(handler: User) -> Client:
    return client_for(handler)


@pytest.fixture
def as_other_handler(other_handler: User) -> Client:
    return client_for(other_handler)


@pytest.fixture
def as_engineer(engineer: User) -> Client:
    return client_for(engineer)


@pytest.fixture
def anonymous() -> Client:
    return Client()


class _SmtpSink:
    """Collects every message a real SMTP server received (see `smtp_server`)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        data = envelope.original_content or envelope.content  # type: ignore[attr-defined]
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(data)))  # type: ignore[attr-defined]
        return "250 OK"


class SmtpServer:
    """A running SMTP server on 127.0.0.1; `messages` are parsed `email.message.EmailMessage` objects."""

    def __init__(self, host: str, port: int, sink: _SmtpSink) -> None:
        self.host = host
        self.port = port
        self._sink = sink

    @property
    def raw(self) -> list[tuple[str, list[str], bytes]]:
        return list(self._sink.messages)

    @property
    def messages(self) -> list:
        from email import policy
        from email.parser import BytesParser

        return [BytesParser(policy=policy.default).parsebytes(data) for _f, _t, data in self._sink.messages]

    def wait_for(self, count: int, timeout: float = 5.0) -> list:
        import time

        deadline = time.monotonic() + timeout
        while len(self._sink.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


@pytest.fixture
def smtp_server(settings):  # type: ignore[no-untyped-def]
    """A real SMTP server (aiosmtpd) on a free local port, with Django's SMTP backend pointed at it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = _SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield SmtpServer("127.0.0.1", port, sink)
    finally:
        controller.stop()


PROXY_ADDRESS = "10.9.9.9"


@pytest.fixture
def trusted_proxy(settings):  # type: ignore[no-untyped-def]
    """PSIRT_TRUSTED_PROXIES names one reverse proxy, PROXY_ADDRESS (and nothing else, not even loopback)."""
    import dataclasses

    settings.CONFIG = dataclasses.replace(
        settings.CONFIG, serve=dataclasses.replace(settings.CONFIG.serve, trusted_proxies=(PROXY_ADDRESS + "/32",))
    )
    return PROXY_ADDRESS


# --- set-ups shared by the whole run -------------------------------------------------------------------------------
# Tests that run psirt as separate processes start from an installation: a var dir with its SQLite database
# migrated, or a migrated PostgreSQL database. Migrating costs seconds of CPU each time; such tests get a copy of
# one made once per run (shared by every xdist worker), not a `migrate` of their own. Tests whose subject is
# `migrate` itself (the CLI's, the upgrade from the previous release's schema) still run it.

_RUN_DIR = pytest.StashKey[Path]()
_POSTGRES_TEMPLATES = "postgres-templates"  # "server name" lines: the template databases to drop at the end


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "processes: starts separate processes (psirt, a web server, a replicator) and waits on them (select or "
        "leave them out with -m)",
    )
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist) owns the folder
        config.stash[_RUN_DIR] = Path(tempfile.mkdtemp(prefix="psirt-run-"))


@pytest.hookimpl(trylast=True)
@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: every worker shares the controller's folder."""
    node.workerinput["psirt_run_dir"] = str(node.config.stash[_RUN_DIR])


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controller, after every worker has finished: drop the run's template databases, remove its folder."""
    if hasattr(config, "workerinput") or _RUN_DIR not in config.stash:
        return
    run_dir = config.stash[_RUN_DIR]
    registry = run_dir / _POSTGRES_TEMPLATES
    for line in registry.read_text(encoding="utf-8").splitlines() if registry.exists() else []:
        server, name = line.split(" ", 1)
        drop_database(server, name)
    shutil.rmtree(run_dir, ignore_errors=True)


def _run_dir(config: pytest.Config) -> Path:
    workerinput = getattr(config, "workerinput", None)
    return Path(workerinput["psirt_run_dir"]) if workerinput else config.stash[_RUN_DIR]


def shared_once(config: pytest.Config, name: str, build: Callable[[Path], None]) -> Path:
    """The folder `name` of this run, made by `build(folder)` in the first process that asks for it; the others
    wait for it and reuse it. A build that fails leaves nothing behind (the next one tries again)."""
    root = _run_dir(config)
    target = root / name
    with folder_lock(root, f"{name}.lock"):
        if not target.exists():
            partial = root / f"{name}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir()
            try:
                build(partial)
            except BaseException:
                shutil.rmtree(partial, ignore_errors=True)
                raise
            partial.rename(target)
    return target


@pytest.fixture(scope="session")
def _migrated_var_template(pytestconfig: pytest.Config) -> Path:
    def build(folder: Path) -> None:
        psirt_ok(installation_env(PSIRT_DEV="1", PSIRT_VAR_DIR=str(folder / "var")), "migrate", "-v", "0")

    return shared_once(pytestconfig, "migrated-var", build) / "var"


@pytest.fixture(scope="session")
def migrated_var(_migrated_var_template: Path) -> Callable[[Path], Path]:
    """`migrated_var(var)` makes `var` a development installation's var dir (PSIRT_DEV=1, SQLite in the var dir)
    whose database `psirt migrate` has brought to the current migrations: a copy of one migrated once per run. Its
    keys are its own files (secret_key, encryption_key, audit_key): run it without the run's keys in the
    environment (`psirt.tests.installation.installation_env`)."""

    def copy(var: Path) -> Path:
        shutil.copytree(_migrated_var_template, var)
        return var

    return copy


@pytest.fixture(scope="session")
def _postgres_template(pytestconfig: pytest.Config) -> tuple[str, dict[str, str]]:
    server = postgres_server()

    def build(folder: Path) -> None:
        from cryptography.fernet import Fernet

        name = new_database_name("psirt_template")
        with (_run_dir(pytestconfig) / _POSTGRES_TEMPLATES).open("a", encoding="utf-8") as registry:
            registry.write(f"{server} {name}\n")  # dropped at the end of the run, even if the build fails
        url = create_database(server, name)
        keys = {variable: Fernet.generate_key().decode() for variable in ("PSIRT_ENCRYPTION_KEYS", "PSIRT_AUDIT_KEYS")}
        psirt_ok(
            installation_env(PSIRT_DEV="1", PSIRT_VAR_DIR=str(folder / "var"), DATABASE_URL=url, **keys), "migrate"
        )
        (folder / "template.json").write_text(json.dumps({"name": name, "keys": keys}), encoding="utf-8")

    made = json.loads((shared_once(pytestconfig, "postgres-template", build) / "template.json").read_text())
    return made["name"], made["keys"]


@pytest.fixture(scope="session")
def migrated_postgres(
    pytestconfig: pytest.Config, _postgres_template: tuple[str, dict[str, str]]
) -> Callable[[], contextlib.AbstractContextManager[MigratedPostgres]]:
    """`with migrated_postgres() as database:` a migrated PostgreSQL database of its own on the TEST_DATABASE_URL
    server (the test is skipped on the SQLite leg): a copy of one migrated once per run, dropped at the end."""
    template, keys = _postgres_template

    @contextlib.contextmanager
    def copy() -> Iterator[MigratedPostgres]:
        server, name = postgres_server(), new_database_name("psirt_test")
        # PostgreSQL copies a template only while nothing else is connected to it: one copy at a time.
        with folder_lock(_run_dir(pytestconfig), "postgres-template.copy.lock"):
            url = create_database(server, name, template=template)
        try:
            yield MigratedPostgres(url=url, keys=keys)
        finally:
            drop_database(server, name)

    return copy
