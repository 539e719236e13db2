"""Keep secrets that travel in URLs (the reporter's private link, subscription and password-reset tokens)
out of log lines. Used by gunicorn's access log (`psirt serve`) and by anything else that logs a path."""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

from psirt.lib.http import client_address_of

REDACTED = "[redacted]"

# A path segment that follows one of these words is a bearer secret.
_SECRET_SEGMENT = re.compile(r"(/(?:r|confirm|manage|unsubscribe|key)/)([^/?#\s]+)")
# Query parameters that may carry one.
_SECRET_PARAM = re.compile(r"((?:^|[?&])(?:token|key|code|secret|signature)=)([^&#\s]*)", re.IGNORECASE)


def redact_url(text: str) -> str:
    """`/en/r/AbC…/` → `/en/r/[redacted]/`; `?token=…` → `?token=[redacted]`. Other text is unchanged."""
    if not text:
        return text
    text = _SECRET_SEGMENT.sub(lambda m: m.group(1) + REDACTED, text)
    return _SECRET_PARAM.sub(lambda m: m.group(1) + REDACTED, text)


class GunicornLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger with every URL-bearing atom of the access log redacted (request line, path,
    query string, Referer), and the client's address (`h`) read as `psirt.lib.http.client_address_of` reads it."""

    URL_ATOMS = ("r", "U", "q", "f", "{referer}i")

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        # The client behind the trusted proxy, as the rate limits and the audit log see it (not the proxy).
        atoms["h"] = client_address_of(environ) or "-"
        for name in self.URL_ATOMS:
            value = atoms.get(name)
            if isinstance(value, str):
                atoms[name] = redact_url(value)
        return atoms
