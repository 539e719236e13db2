"""Django system checks of the deployment (`manage.py check --deploy`), beyond Django's own."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def signing_key_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Without a signing key the CSAF provider tree has no signatures and security.txt is not signed."""
    from psirt.lib.signing import SigningUnavailable, signing_key

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
