"""The environment variables psirt reads, each declared once: name, kind of value, default, meaning.

`VARIABLES` is the one list. The README's configuration table is generated from it (`make docs-env`), the parser
(`psirt.lib.config`) reads the environment through `DeclaredEnv` and so can read no other variable, and
`check --deploy` warns about a `PSIRT_` variable that is not declared (a typo would otherwise be silently ignored).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    """One environment variable psirt reads: its name, the kind of value it takes, its default as an operator
    sees it, and what it means. `VARIABLES` is the one list of them; the README's configuration table is
    generated from it (`make docs-env`), the parser may read no other variable, and `check --deploy` warns about
    a `PSIRT_` variable that is not in it (a typo would otherwise be silently ignored)."""

    name: str
    kind: str
    default: str
    help: str


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "PSIRT_DEV",
        "yes/no",
        "0",
        "`1` for laptop conveniences: DEBUG allowed, secrets generated under `var/`, 2FA optional.",
    ),
    Variable("DEBUG", "yes/no", "0", "`1` shows Django's debug pages. Refused unless `PSIRT_DEV=1`."),
    Variable(
        "SECRET_KEY",
        "secret",
        "(none)",
        "Django's signing key, at least 50 random characters; a typed one (a pattern, a run, few different "
        "characters) is refused. Required in production.",
    ),
    Variable("SECRET_KEY_FILE", "path", "(none)", "Path to a file holding `SECRET_KEY` (for Docker/systemd secrets)."),
    Variable(
        "PSIRT_ENCRYPTION_KEYS",
        "list of secrets",
        "(none)",
        "Comma-separated Fernet keys for data at rest. The first encrypts, all decrypt (rotation). "
        "Required in production; `psirt genkey` prints a new one. Keys that cannot decrypt the stored data (the "
        "key canary) stop start-up; non-random keys (all zeros, a repeated byte) are refused.",
    ),
    Variable(
        "PSIRT_AUDIT_KEYS",
        "list of secrets",
        "(none)",
        "Comma-separated keys (`psirt genkey`) of the audit log's HMAC chain, kept outside the database and its "
        "backups. The first keys new events, all verify (rotation: add the new key first, keep the old ones). "
        "Required in production.",
    ),
    Variable(
        "PSIRT_AUDIT_CHECKPOINT_DIR",
        "path",
        "`var/audit-checkpoints`",
        "Folder for the audit log's signed checkpoints (head sequence number and hash, signed with the team "
        "signing key); put it on storage a database administrator cannot rewrite, or copy it off the machine.",
    ),
    Variable(
        "DATABASE_URL",
        "URL",
        "`sqlite:///var/psirt.sqlite3`",
        "`sqlite:///path` or `postgres://user:pass@host:5432/db`.",
    ),
    Variable(
        "ALLOWED_HOSTS",
        "list",
        "localhost,127.0.0.1 (dev)",
        "Comma-separated host names. Required in production.",
    ),
    Variable(
        "PSIRT_BASE_URL",
        "URL",
        "`http://127.0.0.1:8000` (dev)",
        "Public URL of the site, used in mails, feeds and CSAF. `https://` in production.",
    ),
    Variable(
        "EMAIL_URL",
        "URL",
        "console (dev)",
        "`smtp://user:pass@host:25`, `smtp+tls://…:587` (STARTTLS), `smtps://…:465`.",
    ),
    Variable(
        "DEFAULT_FROM_EMAIL", "e-mail address", "`psirt@<host of PSIRT_BASE_URL>`", "Sender address of every mail."
    ),
    Variable("TIME_ZONE", "time zone", "UTC", "IANA zone for deadlines and display, e.g. `Asia/Shanghai`."),
    Variable(
        "PSIRT_VAR_DIR",
        "path",
        "`./var`",
        "Where SQLite, uploads, generated dev secrets and the CSAF tree live.",
    ),
    Variable(
        "PSIRT_SHARED_DIR",
        "path",
        "`PSIRT_VAR_DIR`",
        "Absolute path of the folder every app server and worker must see alike: the encrypted attachments "
        "(`files/`) and the CSAF provider tree (`csaf/`). With several machines, storage they all mount; the rest "
        "of the var dir stays each machine's own.",
    ),
    Variable(
        "PSIRT_TEAM_KEY_FILE",
        "path",
        "(none)",
        "The team's OpenPGP secret key, to decrypt encrypted reports for staff.",
    ),
    Variable(
        "PSIRT_SIGNING_KEY_FILE",
        "path",
        "(none)",
        "ASCII-armored OpenPGP secret key (no passphrase) that signs CSAF documents and security.txt. Dev mode "
        "generates a development key under `var/keys/`. Production without it: `check --deploy` warns "
        "(psirt.W001), the CSAF tree has no `.asc` signatures and calls itself `csaf_provider`, not "
        "`csaf_trusted_provider`.",
    ),
    Variable(
        "PSIRT_DEMO_PASSWORD",
        "secret",
        "`demo-psirt-2026`",
        "Password of the demo accounts (only when demo data is loaded).",
    ),
    Variable(
        "PSIRT_DEMO_VENDOR",
        "word",
        "`visiontek`",
        "Which reference vendor `psirt demo` (and `make run`) loads: `visiontek` or `beca`.",
    ),
    Variable("LOG_LEVEL", "word", "INFO", "DEBUG, INFO, WARNING or ERROR."),
    Variable("PSIRT_MAX_ATTACHMENT_MB", "number", "25", "Largest file a reporter may attach, in MB (1 to 10000)."),
    Variable(
        "PSIRT_MAX_ATTACHMENTS_TOTAL_MB",
        "number",
        "100",
        "Largest total of a report's attachments in one submission, in MB (1 to 10000).",
    ),
    Variable(
        "PSIRT_NOTIFY_GIVE_UP_HOURS",
        "number",
        "48",
        "Hours a failing notification (mail, webhook) is retried before it gives up (1 to 8760).",
    ),
    Variable(
        "PSIRT_SMTP_SESSIONS",
        "number",
        "4",
        "SMTP sessions a worker keeps open at once to send a batch of mails (1 to 32); mind the mail server's "
        "limit of connections per client, counted for every worker.",
    ),
    Variable(
        "PSIRT_WEBHOOK_ALLOW_PRIVATE",
        "yes/no",
        "0",
        "`1` lets webhooks reach private, loopback and link-local addresses (tests, closed networks only).",
    ),
    Variable(
        "PSIRT_CNA_ORG_ID",
        "UUID",
        "(none)",
        "The vendor's CVE Numbering Authority org UUID, written into CVE JSON 5 records (ask the CVE Program).",
    ),
    Variable(
        "PSIRT_CNA_SHORT_NAME",
        "word",
        "(vendor slug)",
        "The CNA short name for CVE JSON 5 records, e.g. `visiontek`.",
    ),
    Variable(
        "PSIRT_HIRING_URL",
        "URL",
        "(none)",
        "https:// page of the security team's job offers, listed as Hiring in security.txt.",
    ),
    Variable(
        "PSIRT_MIIT_WORKING_DAYS",
        "yes/no",
        "0",
        "`1` counts China's 2-day MIIT report deadline in working days of the Chinese calendar instead of calendar "
        "days (the law's wording is uncertain; calendar days are the safe default). Shown next to the clock.",
    ),
    Variable(
        "PSIRT_PUBLIC_PAGE_CACHE",
        "number",
        "300",
        "Seconds (0 = off, up to 3600) a rendered advisory list, advisory page or Am I affected? answer may be "
        "served to anonymous visitors from a cache; any advisory, catalog, profile or page change shows at once, "
        "so this only bounds what nothing else invalidates.",
    ),
    Variable(
        "PSIRT_APP_URL",
        "URL",
        "PSIRT_BASE_URL",
        "Address of the live application when the public site is served as static files (`psirt export-site`): "
        "report form, portal, subscription, calculators and search link there. `https://` in production.",
    ),
    Variable(
        "PSIRT_STATIC_EXPORT_DIR",
        "path",
        "(none)",
        "Absolute folder of the static public site: when set, a worker rewrites the pages that show an advisory "
        "there after each publication, revision or withdrawal.",
    ),
    Variable("PORT", "number", "8000", "Port `make run` / `psirt serve` listens on."),
    Variable(
        "PSIRT_BIND",
        "IP address or host name",
        "127.0.0.1",
        "Address `psirt serve` listens on; `0.0.0.0` (or `[::]`) to listen beyond this machine.",
    ),
    Variable(
        "WEB_CONCURRENCY",
        "number",
        "0",
        "Worker processes of `psirt serve` (1 to 256); 0 picks one more than the CPU count, at most 4.",
    ),
    Variable(
        "PSIRT_MAX_REQUESTS",
        "number",
        "2000",
        "A `psirt serve` worker process is replaced by a fresh copy after answering between this many and twice "
        "as many requests (each worker draws its own number), which bounds its memory growth; 0 never replaces "
        "one.",
    ),
    Variable(
        "PSIRT_TRUSTED_PROXIES",
        "list",
        "127.0.0.1,::1",
        "Comma-separated addresses or networks (CIDR) of the reverse proxies in front of psirt. Only a request "
        "arriving from one of them has its `X-Forwarded-For` believed: the client is the rightmost address in it "
        "that is not a trusted proxy. That address is what rate limits, login throttling, the audit log and the "
        "access log see. Empty: believe no header.",
    ),
)

DECLARED: dict[str, Variable] = {variable.name: variable for variable in VARIABLES}

# Variables of the test harness (psirt/settings_test.py and `make test`), not of a deployment.
TEST_PREFIX = "PSIRT_TEST_"

README_TABLE_HEADER = "| variable | kind | default | meaning |\n| --- | --- | --- | --- |\n"


def readme_table() -> str:
    """The README's configuration table, one row per declared variable."""
    rows = "".join(f"| `{v.name}` | {v.kind} | {v.default} | {v.help} |\n" for v in VARIABLES)
    return README_TABLE_HEADER + rows


README_TABLE_START = "<!-- environment table: generated from psirt/lib/variables.py VARIABLES by `make docs-env` -->\n"
README_TABLE_END = "<!-- end of environment table -->\n"


def readme_with_table(text: str) -> str:
    """`text` (the README) with the block between the table markers replaced by `readme_table()`."""
    before, start, rest = text.partition(README_TABLE_START)
    _old, end, after = rest.partition(README_TABLE_END)
    if not start or not end:
        raise ValueError("the README has lost its environment table markers; put them back around the table.")
    return before + start + readme_table() + end + after


def undeclared_variables(env: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """`PSIRT_` variables set in `env` that psirt does not read, each with the declared name it most resembles."""
    found = []
    for name in sorted(env):
        if name.startswith("PSIRT_") and name not in DECLARED and not name.startswith(TEST_PREFIX):
            close = difflib.get_close_matches(name, DECLARED, n=1)
            found.append((name, close[0] if close else None))
    return found


class UndeclaredVariableError(RuntimeError):
    """The parser asked for a variable missing from `VARIABLES`: declare it (a programming error, not an
    operator's)."""


class DeclaredEnv(Mapping[str, str]):
    """The environment as the parser sees it: reading a variable that `VARIABLES` does not declare fails, so no
    setting escapes the declaration (and so the README and `check --deploy`)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def __getitem__(self, name: str) -> str:
        if name not in DECLARED:
            raise UndeclaredVariableError(f"{name} is read but not declared in psirt.lib.variables.VARIABLES.")
        return self._env[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._env)

    def __len__(self) -> int:
        return len(self._env)


def declared_int(name: str) -> int:
    """The declared default of a numeric variable."""
    return int(DECLARED[name].default)
