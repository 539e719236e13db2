"""The deployment check that the encryption keys read the stored data. Registered from the organization app
(it reads the key canary, a model of this app), for every `check`, `migrate` and start-up, not only `--deploy`:
wrong keys make every report fail, in development as in production."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Tags, register

from psirt.lib.config import is_offline_command
from psirt.organization.queries import key_problem

KEYS_HINT = (
    "Set PSIRT_ENCRYPTION_KEYS to the keys this data was encrypted with (after a rotation keep the old key, listed "
    "after the new one, until `psirt rotatekeys` has run). A lost key cannot be replaced: restore it from where "
    "you keep it."
)


def key_messages() -> list[CheckMessage]:
    problem = key_problem()
    if problem is None:
        return []
    return [Error(f"PSIRT_ENCRYPTION_KEYS do not match the stored data. {problem}", hint=KEYS_HINT, id="psirt.E001")]


@register(Tags.security)
def encryption_keys_check(app_configs: Sequence[AppConfig] | None = None, **kwargs: object) -> list[CheckMessage]:
    """Refuse keys that cannot decrypt the key canary (or, without one, the stored data)."""
    # Offline commands (`psirt cvss`, `psirt audit verify`) run with throwaway keys and read no encrypted data.
    if is_offline_command(sys.argv):
        return []
    return key_messages()
