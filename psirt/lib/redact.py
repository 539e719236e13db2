"""Keep secrets that travel in URLs (the reporter's private link, subscription and password-reset tokens, and
what staff search for on the desk and through the API: a reporter's name, an unpublished product flaw) out of
log lines. Used by gunicorn's access log (`psirt serve`) and by anything else that logs a path."""

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
# The query string of a desk or API URL (with or without a language prefix or scheme and host), and the search
# parameters in it: confidential case data, unlike a search of the public advisories.
_STAFF_QUERY = re.compile(r"(/(?:desk|api)/[^?#\s\"]*\?)([^#\s\"]*)")
_SEARCH_PARAM = re.compile(r"((?:^|&)(?:q|search|query|term)=)([^&]*)", re.IGNORECASE)


def redact_url(text: str) -> str:
    """`/en/r/AbC…/` → `/en/r/[redacted]/`; `?token=…` → `?token=[redacted]`; `/en/desk/cases/?q=…` →
    `/en/desk/cases/?q=[redacted]`. Other text is unchanged."""
    if not text:
        return text
    text = _SECRET_SEGMENT.sub(lambda m: m.group(1) + REDACTED, text)
    text = _SECRET_PARAM.sub(lambda m: m.group(1) + REDACTED, text)
    return _STAFF_QUERY.sub(lambda m: m.group(1) + _SEARCH_PARAM.sub(lambda p: p.group(1) + REDACTED, m.group(2)), text)


class GunicornLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger with every URL-bearing atom of the access log redacted (request line, path,
    query string, Referer), and the client's address (`h`) read as `psirt.lib.http.client_address_of` reads it."""

    URL_ATOMS = ("r", "U", "q", "f", "{referer}i")

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        # The client behind the trusted proxy, as the rate limits and the audit log see it (not the proxy).
        atoms["h"] = client_address_of(environ) or "-"
        path = str(environ.get("PATH_INFO") or "")
        for name in self.URL_ATOMS:
            value = atoms.get(name)
            if isinstance(value, str):
                # The query-string atom has no path of its own: it is judged by the request's path.
                atoms[name] = redact_url(path + "?" + value)[len(path) + 1 :] if name == "q" else redact_url(value)
        return atoms
