"""Webhooks: a lead registers and switches endpoints; each event is a signed POST that cannot be turned
against the internal network, sent from the outbox (`send_webhook` is the sender of its webhook rows).

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
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.audit.services import record
from psirt.catalog.models import Product
from psirt.lib.access import require_lead
from psirt.lib.errors import DomainError
from psirt.mail.exceptions import Cancelled, SendError, Unreachable
from psirt.mail.models import OutboxMessage
from psirt.mail.services import KeptConnections
from psirt.notify.exceptions import NotifyError
from psirt.notify.models import Webhook
from psirt.notify.services.fanout import notice_of

TIMEOUT = 10.0
SIGNATURE_HEADER = "X-PSIRT-Signature"
TOLERANCE = 300  # seconds a receiver should accept between the signature's time and its clock
USER_AGENT = "psirt-webhook/1"


class WebhookError(SendError, DomainError):
    """A delivery failed; the message is safe to store and show (no secret, no body). The receiver is at fault,
    hence 502."""

    status = 502


class ReceiverUnreachable(WebhookError, Unreachable):
    """The receiver, not this delivery, failed: no answer (name not resolved, connection refused, timed out, TLS
    failed, dropped) or an answer that it takes nothing now (5xx, 429). Several in a row pause that receiver for the
    worker, without charging its deliveries an attempt; other receivers go on."""


# Answers that say the receiver cannot take any delivery now (its failure), not that it refuses this one.
RECEIVER_DOWN = frozenset({429}) | frozenset(range(500, 600))


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
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return _public(addr.ipv4_mapped)
        # 6to4 (2002::/16), Teredo (2001::/32) and NAT64 (64:ff9b::/96) addresses reach the IPv4 host they embed
        # through a relay or translator: both that host and the IPv6 address itself must be public.
        embedded = _embedded_ipv4(addr)
        if embedded is not None and not _public(embedded):
            return False
    return _public(addr)


def _public(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or not addr.is_global
    )


NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]  # (server, client): the client is the host the packets end up at
    if addr in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


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
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None  # a host name: its addresses are checked each time it is resolved for a delivery
    if literal is not None and not address_allowed(str(literal)):
        raise ValueError("This address is not public: webhooks are delivered to public addresses only.")
    return url


def _connect(ip: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to this literal address (no second name resolution). Without Nagle's algorithm:
    http.client writes a request's head and body in two writes, and on a kept connection the body would wait
    for the receiver's delayed acknowledgment of the head (~40 ms a delivery)."""
    sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
    except socket.gaierror as exc:
        # The name servers failing now is an outage of the way; a name that does not exist is the webhook's.
        if exc.errno == socket.EAI_AGAIN:
            raise ReceiverUnreachable("host name does not resolve now") from exc
        raise WebhookError("host name does not resolve") from exc
    except UnicodeError as exc:
        raise WebhookError("host name does not resolve") from exc
    if not infos:
        raise WebhookError("host name does not resolve")
    ip = str(infos[0][4][0])
    if not address_allowed(ip):
        raise AddressRefused("address refused (private, loopback, link-local or reserved)")
    return ip


def _open(scheme: str, host: str, port: int, *, timeout: float, ssl_context: ssl.SSLContext | None) -> Any:
    """A connection to the receiver at this scheme, host and port, to an address resolved and checked now."""
    ip = _resolve(host, port)
    if scheme == "https":
        return _PinnedHTTPSConnection(
            host, port, ip=ip, timeout=timeout, context=ssl_context or ssl.create_default_context()
        )
    return _PinnedHTTPConnection(host, port, ip=ip, timeout=timeout)


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float | None = None,
    ssl_context: ssl.SSLContext | None = None,
    kept: KeptConnections | None = None,
) -> int:
    """POST `body` to `url` through a pinned, checked connection; returns the HTTP status.

    With `kept` (the outbox worker's), the connection stays open for the next delivery to the same scheme, host
    and port when the receiver keeps it (HTTP/1.1 keep-alive, an answer of at most 64 KiB read whole): its
    address was checked when it was opened, and a connection cannot be moved to another address. A kept
    connection the receiver closed in the meantime fails before any answer; the delivery then goes once more
    over a new connection (deliveries are at least once, and carry their id for the receiver)."""
    scheme, host, port = receiver(url)
    parts = urlsplit(url)
    timeout = timeout or TIMEOUT
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    key = ("webhook", scheme, host, port)
    conn = kept.get(key) if kept is not None else None
    reused = conn is not None
    if conn is None:
        conn = _open(scheme, host, port, timeout=timeout, ssl_context=ssl_context)
    keep = False
    try:
        try:
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            conn.close()
            conn = _open(scheme, host, port, timeout=timeout, ssl_context=ssl_context)
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
        response.read(ANSWER_LIMIT)  # a bounded read: the receiver's answer does not matter beyond its status
        keep = kept is not None and not response.will_close and response.isclosed()
        status: int = response.status
        return status
    except (OSError, http.client.HTTPException) as exc:
        raise ReceiverUnreachable(f"connection failed ({type(exc).__name__})") from exc
    finally:
        if keep and kept is not None:
            kept.put(key, conn)
        else:
            if kept is not None and reused:
                kept.discard(key)
            conn.close()


ANSWER_LIMIT = 65536


def receiver(url: str) -> tuple[str, str, int]:
    """The receiver a URL reaches: scheme, host and port (a worker keeps one connection per receiver, and a receiver
    that is down is paused as one)."""
    parts = urlsplit(url)
    scheme = "https" if parts.scheme == "https" else "http"
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:  # a bad port: the connection fails and says so
        port = 0
    return scheme, parts.hostname or "", port


def receiver_of(delivery: OutboxMessage) -> str | None:
    """The way out of a webhook row for the outbox (`outbox_transports`): its receiver, named by a hash of its
    scheme, host and port, so the log and the doctor never show an address. None when the webhook is gone (the
    row is cancelled without reaching anyone)."""
    hook = getattr(delivery, _WEBHOOK, None) or Webhook.objects.filter(public_id=delivery.recipient_key).first()
    if hook is None:
        return None
    setattr(delivery, _WEBHOOK, hook)
    return receiver_name(hook.url)


def receiver_name(url: str) -> str:
    scheme, host, port = receiver(url)
    digest = hashlib.sha256(f"{scheme}://{host.lower()}:{port}".encode()).hexdigest()
    return f"webhook:{digest[:16]}"


def payload(delivery: OutboxMessage) -> dict[str, Any]:
    notice = notice_of(delivery)
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
            "exploitation": notice.get("exploitation", ""),
            "products": notice.get("product_slugs", []),
            "product_lines": notice.get("product_line_slugs", []),
            "cves": notice.get("cves", []),
            "url": notice.get("url", ""),
            "csaf_url": notice.get("csaf_url", ""),
        },
    }


# The attribute a batch's webhook rows carry their loaded webhook in (see load_webhooks).
_WEBHOOK = "_psirt_webhook"


def load_webhooks(rows: Sequence[OutboxMessage]) -> None:
    """Load the webhooks of a batch of webhook rows in one query, instead of one per delivery; a row whose
    webhook is not found keeps nothing, and `send_webhook` looks it up itself (gone: cancelled)."""
    found = {
        str(hook.public_id): hook for hook in Webhook.objects.filter(public_id__in=[row.recipient_key for row in rows])
    }
    for row in rows:
        if row.recipient_key in found:
            setattr(row, _WEBHOOK, found[row.recipient_key])


def send_webhook(delivery: OutboxMessage, connection: object = None) -> None:
    """Deliver one webhook event (the outbox's sender of webhook rows; over a connection kept for the receiver
    in the worker's `connection.kept` when there is one); raises WebhookError (retried by the outbox) unless
    the receiver says 2xx."""
    hook = getattr(delivery, _WEBHOOK, None) or Webhook.objects.filter(public_id=delivery.recipient_key).first()
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
    kept = getattr(connection, "kept", None)
    status = post(hook.url, body, headers, kept=kept if isinstance(kept, KeptConnections) else None)
    if status in RECEIVER_DOWN:
        raise ReceiverUnreachable(f"HTTP {status}")
    if not 200 <= status < 300:
        raise WebhookError(f"HTTP {status}")


def register_webhook(
    *,
    name: str,
    url: str,
    actor: User,
    all_products: bool = True,
    products: Sequence[Product] = (),
    request: HttpRequest | None = None,
) -> tuple[Webhook, str]:
    """Register an endpoint; returns it with its secret (shown once, never again)."""
    require_lead(actor, NotifyError)
    try:
        check_url(url)
    except ValueError as exc:
        raise NotifyError(str(exc)) from exc
    if not (all_products or products):
        raise NotifyError(_("Choose at least one product, or every product."))
    secret = new_secret()
    with transaction.atomic():
        hook = Webhook.objects.create(
            name=name.strip()[:200], url=url, secret=secret, all_products=all_products, created_by=actor
        )
        hook.products.set(products)
        record(action="notify.webhook_registered", actor=actor, request=request, target=hook)
    return hook, secret


def set_webhook_active(*, webhook: Webhook, active: bool, actor: User, request: HttpRequest | None = None) -> Webhook:
    require_lead(actor, NotifyError)
    with transaction.atomic():
        webhook.active = active
        webhook.save(update_fields=["active"])
        record(
            action="notify.webhook_enabled" if active else "notify.webhook_disabled",
            actor=actor,
            request=request,
            target=webhook,
        )
    return webhook
