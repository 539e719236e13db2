"""Webhooks: signed POSTs a receiver verifies with the documented recipe; private addresses refused at
connection time (DNS rebinding included); timeouts and failures retried through the outbox."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from psirt.mail import services as deliveries
from psirt.mail.models import OutboxStatus as DeliveryStatus
from psirt.notify.exceptions import NotifyError
from psirt.notify.models import Delivery, Webhook
from psirt.notify.services import notify_advisory, register_webhook, webhooks

from .conftest import make_notice

pytestmark = pytest.mark.django_db

DOC = Path(django_settings.BASE_DIR) / "docs" / "webhooks.md"


class Receiver:
    """A local HTTP receiver in a thread that records every request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 204
        self.delay = 0.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                time.sleep(outer.delay)
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook?x=1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


@pytest.fixture
def allow_private(settings: Any) -> None:
    settings.PSIRT_WEBHOOK_ALLOW_PRIVATE = True


def documented_verify() -> Any:
    """The receiver's recipe, taken from docs/webhooks.md and run as written."""
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)  # our own documentation, run as written
    return namespace["verify"]


def hook(lead: Any, url: str, **kwargs: Any) -> tuple[Webhook, str]:
    return register_webhook(name="SIEM", url=url, actor=lead, **kwargs)


def fire(capture: Any, notice: Any = None) -> None:
    with capture(execute=True):
        notify_advisory(advisory=notice or make_notice(), revision=1, significant=True, actor=None)


def test_event_is_posted_signed_and_the_documented_recipe_verifies_it(
    allow_private, receiver, lead, catalog, django_capture_on_commit_callbacks
):
    _hook, secret = hook(lead, receiver.url)
    fire(django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    body, headers = request["body"], request["headers"]
    assert request["path"] == "/hook?x=1"
    payload = json.loads(body)
    assert payload["event"] == "advisory.published" and payload["advisory"]["id"] == "VT-SA-2026-001"
    assert payload["advisory"]["title"]["zh"] == "网页服务器缓冲区溢出"
    assert headers["X-PSIRT-Event"] == "advisory.published"
    verify = documented_verify()
    signature = headers["X-PSIRT-Signature"]
    assert verify(secret, signature, body)
    assert not verify(secret, signature, body.replace(b"High", b"Low!"))
    assert not verify("whsec_wrong", signature, body)
    assert not verify(secret, "garbage", body)
    # A replay much later is refused.
    t = int(time.time()) - 3600
    assert not verify(secret, webhooks.sign(secret, body, timestamp=t), body)
    assert webhooks.verify_signature(secret, signature, body)
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_secret_is_shown_once_to_the_registering_lead(allow_private, as_lead, as_handler, catalog):
    response = as_lead.post(
        "/en/desk/notify/webhooks/", {"name": "SIEM", "url": "https://siem.example.com/hook", "all_products": "on"}
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    secret = Webhook.objects.get().secret
    assert secret in response.content.decode()
    assert secret not in as_lead.get("/en/desk/notify/webhooks/").content.decode()
    assert as_handler.get("/en/desk/notify/webhooks/").status_code == 404
    # Stored encrypted: the raw column is not the secret.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("select secret from notify_webhook")
        assert cursor.fetchone()[0] != secret


@pytest.mark.parametrize(
    "url", ["ftp://x.example.com/", "javascript:alert(1)", "https://user:pw@x.example.com/", "http://x.example.com/"]
)
def test_bad_webhook_urls_are_refused_at_registration(lead, url):
    with pytest.raises(NotifyError):
        hook(lead, url)


def test_desk_registration_shows_a_message_for_a_bad_url(as_lead):
    response = as_lead.post(
        "/en/desk/notify/webhooks/", {"name": "X", "url": "http://x.example.com/", "all_products": "on"}
    )
    assert response.status_code == 400 and "https://" in response.content.decode()
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "ff02::1",
        "2002:c0a8:0101::1",  # 6to4 of 192.168.1.1
        "2002:7f00:0001::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2001:0:4136:e378:8000:63bf:f5f7:f7f7",  # Teredo, client 10.8.8.8
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "64:ff9b::10.0.0.1",  # NAT64 of 10.0.0.1
        "64:ff9b::169.254.169.254",
    ],
)
def test_non_public_addresses_are_refused(ip):
    assert not webhooks.address_allowed(ip)


def test_public_addresses_are_allowed():
    assert webhooks.address_allowed("93.184.216.34") and webhooks.address_allowed("2606:2800:220:1::1")
    assert webhooks.address_allowed("2002:0808:0808::1")  # 6to4 of a public address
    assert webhooks.address_allowed("::ffff:93.184.216.34")


@pytest.mark.parametrize(
    "url",
    ["https://[2002:c0a8:0101::1]/hook", "https://10.0.0.5/hook", "https://[::ffff:127.0.0.1]:8443/hook"],
)
def test_registration_refuses_a_private_address_written_in_the_url(url):
    with pytest.raises(ValueError, match="public"):
        webhooks.check_url(url)


def test_loopback_receiver_is_refused_without_the_setting(
    receiver, lead, catalog, settings, django_capture_on_commit_callbacks
):
    settings.PSIRT_WEBHOOK_ALLOW_PRIVATE = True
    hook(lead, receiver.url)  # registered where allowed; the check that matters is at connection time
    settings.PSIRT_WEBHOOK_ALLOW_PRIVATE = False
    fire(django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "refused" in delivery.last_error
    assert receiver.requests == []


def test_dns_rebinding_cannot_reach_a_private_address(
    receiver, lead, catalog, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.PSIRT_WEBHOOK_ALLOW_PRIVATE = True
    hook(lead, f"http://hooks.example.com:{receiver.port}/in")
    settings.PSIRT_WEBHOOK_ALLOW_PRIVATE = False
    answers = iter(["93.184.216.34", "127.0.0.1"])  # public when someone checks, loopback afterwards
    calls: list[str] = []

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        calls.append(host)
        ip = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", rebinding)
    # A pre-check elsewhere sees the public address…
    assert webhooks.address_allowed(rebinding("hooks.example.com", 80)[0][4][0])
    # …but delivery resolves once itself, checks that answer and would connect only to it.
    fire(django_capture_on_commit_callbacks)
    assert Delivery.objects.get().status == DeliveryStatus.FAILED
    assert receiver.requests == [] and calls == ["hooks.example.com", "hooks.example.com"]


def test_connection_goes_to_the_checked_address_with_the_original_host(
    receiver, lead, catalog, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.PSIRT_WEBHOOK_ALLOW_PRIVATE = True
    hook(lead, f"http://hooks.example.com:{receiver.port}/in")
    resolved: list[str] = []

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        resolved.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", resolve)
    fire(django_capture_on_commit_callbacks)
    assert resolved == ["hooks.example.com"]  # resolved once, and that answer used
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example.com:{receiver.port}"


def test_receiver_errors_and_timeouts_are_retried(
    allow_private, receiver, lead, catalog, monkeypatch, django_capture_on_commit_callbacks
):
    hook(lead, receiver.url)
    receiver.status = 500
    fire(django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.FAILED, "HTTP 500")
    receiver.status, receiver.delay = 200, 1.0
    monkeypatch.setattr(webhooks, "TIMEOUT", 0.2)
    later = timezone.now() + dt.timedelta(minutes=2)
    assert deliveries.drain(now=later) == 0
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("connection failed") and delivery.attempts == 2
    receiver.delay = 0
    assert deliveries.drain(now=later + dt.timedelta(minutes=5)) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    ids = {r["headers"]["X-PSIRT-Delivery"] for r in receiver.requests}
    assert ids == {str(delivery.public_id)}  # the receiver can recognise the repeats


def test_product_filter_and_disabled_webhooks(
    allow_private, receiver, lead, catalog, as_lead, django_capture_on_commit_callbacks
):
    hook(lead, receiver.url, all_products=False, products=[catalog["rt-1"]])
    fire(django_capture_on_commit_callbacks)  # about cam-1
    assert receiver.requests == [] and not Delivery.objects.exists()
    fire(django_capture_on_commit_callbacks, make_notice(id="VT-SA-2026-002", product_slugs=("rt-1",)))
    assert len(receiver.requests) == 1
    wanted = Webhook.objects.get()
    assert as_lead.post(f"/en/desk/notify/webhooks/{wanted.public_id}/toggle/").status_code == 302
    fire(django_capture_on_commit_callbacks, make_notice(id="VT-SA-2026-003", product_slugs=("rt-1",)))
    assert len(receiver.requests) == 1


def _self_signed(tmp_path: Path, host: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def test_https_checks_the_certificate_for_the_host_name_not_the_address(receiver, settings, monkeypatch, tmp_path):
    import ssl

    settings.PSIRT_WEBHOOK_ALLOW_PRIVATE = True
    cert_file, key_file = _self_signed(tmp_path, "hooks.example.com")
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert_file, key_file)
    receiver.server.socket = server_ctx.wrap_socket(receiver.server.socket, server_side=True)
    monkeypatch.setattr(
        webhooks.socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))],
    )
    client_ctx = ssl.create_default_context(cafile=str(cert_file))
    status = webhooks.post(f"https://hooks.example.com:{receiver.port}/in", b"{}", {}, ssl_context=client_ctx)
    assert status == 204 and receiver.requests[0]["headers"]["Host"] == f"hooks.example.com:{receiver.port}"
    # The same address under another name: the certificate does not match, nothing is sent.
    with pytest.raises(webhooks.WebhookError):
        webhooks.post(f"https://evil.example.com:{receiver.port}/in", b"{}", {}, ssl_context=client_ctx)
    assert len(receiver.requests) == 1


def test_a_deactivated_lead_cannot_register_a_webhook(lead: Any) -> None:
    lead.is_active = False
    lead.save(update_fields=["is_active"])
    with pytest.raises(NotifyError):
        register_webhook(name="SIEM", url="https://siem.example.com/hook", actor=lead)
    assert not Webhook.objects.exists()
