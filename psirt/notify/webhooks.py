"""Signed webhook POSTs that cannot be turned against the internal network.

Each event is POSTed as JSON with `X-PSIRT-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
keyed with the webhook's secret (see docs/webhooks.md for the receiver's recipe, `verify_signature` here).

The address check happens at connection time: the host name is resolved once, the resolved address is checked
(private, loopback, link-local, multicast, reserved and unspecified addresses are refused unless
PSIRT_WEBHOOK_ALLOW_PRIVATE=1), and the socket connects to that very address, sending the original Host
header and, for https, verifying the certificate for the host name (SNI). A DNS answer that changes between
a check and a connect (rebinding) therefore cannot reach an address that was not checked. Redirects are not
followed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from psirt.lib.errors import DomainError
from psirt.notify.models import Delivery, Webhook

TIMEOUT = 10.0
SIGNATURE_HEADER = "X-PSIRT-Signature"
TOLERANCE = 300  # seconds a receiver should accept between the signature's time and its clock
USER_AGENT = "psirt-webhook/1"


class WebhookError(DomainError):
    """A delivery failed; the message is safe to store and show (no secret, no body). The receiver is at fault,
    hence 502."""

    status = 502


class AddressRefused(WebhookError):
    """The webhook's address is not one psirt may call (private, loopback, unresolvable)."""

    status = 422


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The X-PSIRT-Signature value for `body`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode("utf-8"), f"{t}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(
    secret: str, header: str, body: bytes, *, tolerance: int = TOLERANCE, now: int | None = None
) -> bool:
    """What a receiver does (the recipe of docs/webhooks.md): recompute, compare in constant time, and refuse
    old timestamps (a captured request cannot be replayed later)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        t = int(parts["t"])
        received = parts["v1"]
    except (KeyError, ValueError):
        return False
    current = int(time.time()) if now is None else now
    if abs(current - t) > tolerance:
        return False
    expected = hmac.new(secret.encode("utf-8"), f"{t}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received)


def address_allowed(ip: str) -> bool:
    """Whether a resolved address may be contacted (public unicast only, unless the setting allows more)."""
    if settings.PSIRT_WEBHOOK_ALLOW_PRIVATE:
        return True
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return not (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or not addr.is_global
    )


def check_url(url: str) -> str:
    """Validate a webhook URL when it is registered: http(s) with a host; plain http only where private
    addresses are allowed (tests, closed networks). Returns the URL; raises ValueError with a reason."""
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ValueError("Use an https:// address with a host name.")
    if parts.scheme == "http" and not (settings.PSIRT_WEBHOOK_ALLOW_PRIVATE or settings.PSIRT_DEV):
        raise ValueError("Use https://: webhook bodies are signed, not encrypted.")
    if parts.username or parts.password:
        raise ValueError("Put no user name or password in the address; the signature authenticates us.")
    try:
        _ = parts.port
    except ValueError as exc:
        raise ValueError("The port is not a number from 1 to 65535.") from exc
    return url


def _connect(ip: str, port: int, timeout: Any) -> socket.socket:
    """A TCP connection to this literal address (no second name resolution)."""
    sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((ip, port))
    except OSError:
        sock.close()
        raise
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address resolved and checked beforehand; Host stays the URL's host."""

    def __init__(self, host: str, port: int | None, *, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = _connect(self._ip, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int | None, *, ip: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._ip = ip
        self._ctx = context

    def connect(self) -> None:
        sock = _connect(self._ip, self.port, self.timeout)
        # Certificate checked against the host name (SNI), not the address we connected to.
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self.host)


def _resolve(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookError("host name does not resolve") from exc
    if not infos:
        raise WebhookError("host name does not resolve")
    ip = str(infos[0][4][0])
    if not address_allowed(ip):
        raise AddressRefused("address refused (private, loopback, link-local or reserved)")
    return ip


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> int:
    """POST `body` to `url` through a pinned, checked connection; returns the HTTP status."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    ip = _resolve(host, port)
    timeout = timeout or TIMEOUT
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = _PinnedHTTPSConnection(
            host, port, ip=ip, timeout=timeout, context=ssl_context or ssl.create_default_context()
        )
    else:
        conn = _PinnedHTTPConnection(host, port, ip=ip, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(65536)  # a bounded read: the receiver's answer does not matter beyond its status
        return response.status
    except (OSError, http.client.HTTPException) as exc:
        raise WebhookError(f"connection failed ({type(exc).__name__})") from exc
    finally:
        conn.close()


def payload(delivery: Delivery) -> dict[str, Any]:
    notice = dict(delivery.notice)
    return {
        "event": delivery.event,
        "delivery": str(delivery.public_id),
        "revision": delivery.revision,
        "sent_at": timezone.now().isoformat(),
        "advisory": {
            "id": notice.get("id"),
            "title": {"en": notice.get("title_en", ""), "zh": notice.get("title_zh", "")},
            "summary": {"en": notice.get("summary_en", ""), "zh": notice.get("summary_zh", "")},
            "severity": notice.get("severity", ""),
            "products": notice.get("product_slugs", []),
            "product_lines": notice.get("product_line_slugs", []),
            "cves": notice.get("cves", []),
            "url": notice.get("url", ""),
            "csaf_url": notice.get("csaf_url", ""),
        },
    }


def send(delivery: Delivery) -> None:
    """Deliver one webhook event; raises WebhookError (retried by the outbox) unless the receiver says 2xx."""
    from psirt.notify.deliveries import Cancelled

    hook: Webhook | None = delivery.webhook
    if hook is None or not hook.active:
        raise Cancelled
    body = json.dumps(payload(delivery), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-PSIRT-Event": delivery.event,
        "X-PSIRT-Delivery": str(delivery.public_id),
        SIGNATURE_HEADER: sign(hook.secret, body),
    }
    status = post(hook.url, body, headers)
    if not 200 <= status < 300:
        raise WebhookError(f"HTTP {status}")
