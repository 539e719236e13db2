"""Django system checks of the deployment (`manage.py check --deploy`), beyond Django's own. They register
when the `psirt.lib` app is ready (`psirt.lib.apps`)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from django.apps import AppConfig
from django.core.checks import CheckMessage, Tags, Warning, register

from psirt.lib.signing import SigningUnavailable, signing_key
from psirt.lib.variables import undeclared_variables


@register(Tags.security, deploy=True)
def signing_key_check(app_configs: Sequence[AppConfig] | None = None, **kwargs: object) -> list[CheckMessage]:
    """Without a signing key the CSAF provider tree has no signatures and security.txt is not signed."""
    try:
        signing_key()
    except SigningUnavailable as exc:
        return [
            Warning(
                str(exc),
                hint=(
                    "Set PSIRT_SIGNING_KEY_FILE to an ASCII-armored OpenPGP secret key without passphrase "
                    "(gpg --export-secret-keys --armor KEYID > signing.asc). Until then the CSAF provider tree "
                    "is written without .asc signatures and security.txt is not signed."
                ),
                id="psirt.W001",
            )
        ]
    return []


def undeclared_variables_messages(env: Mapping[str, str]) -> list[CheckMessage]:
    """A `PSIRT_` variable psirt does not read is almost always a misspelt one, whose setting is silently lost."""
    messages: list[CheckMessage] = []
    for name, close in undeclared_variables(env):
        hint = f"Did you mean {close}? " if close else ""
        messages.append(
            Warning(
                f"{name} is set but psirt reads no such variable.",
                hint=hint + "The README's configuration table lists every variable psirt reads.",
                id="psirt.W002",
            )
        )
    return messages


@register(Tags.security, deploy=True)
def undeclared_variables_check(app_configs: Sequence[AppConfig] | None = None, **kwargs: object) -> list[CheckMessage]:
    """Every `PSIRT_` variable of the environment is one psirt declares (psirt.lib.variables.VARIABLES)."""
    return undeclared_variables_messages(os.environ)
