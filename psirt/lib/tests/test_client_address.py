"""The client's address (`psirt.lib.http.client_address`): the peer, unless the peer is a trusted reverse proxy;
then the rightmost X-Forwarded-For hop that is not a trusted proxy. Everything to its left is the client's word."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from django.test import RequestFactory

from psirt.lib.http import client_address, client_address_of
from psirt.lib.redact import GunicornLogger


@pytest.fixture
def proxies(settings):  # type: ignore[no-untyped-def]
    def trust(*networks: str) -> None:
        settings.CONFIG = dataclasses.replace(
            settings.CONFIG, serve=dataclasses.replace(settings.CONFIG.serve, trusted_proxies=networks)
        )

    return trust


def meta(peer: str, forwarded: str | None = None) -> dict[str, str]:
    environ = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    return environ


def test_without_a_trusted_proxy_the_header_is_never_believed(proxies) -> None:
    proxies()
    assert client_address_of(meta("10.9.9.9", "198.51.100.7")) == "10.9.9.9"
    assert client_address_of(meta("127.0.0.1", "198.51.100.7")) == "127.0.0.1"


def test_behind_a_trusted_proxy_the_forwarded_client_is_the_client(proxies) -> None:
    proxies("10.9.9.9/32")
    assert client_address_of(meta("10.9.9.9", "198.51.100.7")) == "198.51.100.7"
    # No header from the proxy: the proxy itself is all we know.
    assert client_address_of(meta("10.9.9.9")) == "10.9.9.9"


def test_a_spoofed_header_from_an_untrusted_address_is_ignored(proxies) -> None:
    proxies("10.9.9.9/32")
    assert client_address_of(meta("203.0.113.5", "198.51.100.7")) == "203.0.113.5"
    assert client_address_of(meta("203.0.113.5", "10.9.9.9")) == "203.0.113.5"


def test_the_rightmost_untrusted_hop_wins_over_what_the_client_wrote_to_its_left(proxies) -> None:
    """nginx appends the address it saw to whatever the client sent: the left part is the client's forgery."""
    proxies("10.0.0.0/8")
    assert client_address_of(meta("10.0.0.2", "1.1.1.1, 198.51.100.7")) == "198.51.100.7"
    # Two proxies in a row (CDN hop inside the trusted network, then nginx): both skipped.
    assert client_address_of(meta("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.3")) == "198.51.100.7"
    # A forged "trusted" hop to the left of the real client changes nothing.
    assert client_address_of(meta("10.0.0.2", "10.0.0.4, 198.51.100.7")) == "198.51.100.7"


@pytest.mark.parametrize(
    "forwarded",
    ["not-an-address", "<script>alert(1)</script>", "198.51.100.7:443", "", " , ", "1.2.3.4\r\nX: y", "a" * 10_000],
)
def test_malformed_hops_stop_at_the_last_address_a_trusted_proxy_vouched_for(proxies, forwarded: str) -> None:
    proxies("10.9.9.9/32")
    assert client_address_of(meta("10.9.9.9", forwarded)) == "10.9.9.9"
    assert client_address_of(meta("10.9.9.9", forwarded + ", 198.51.100.7")) == "198.51.100.7"


def test_ipv6_clients_and_proxies_and_mapped_ipv4(proxies) -> None:
    proxies("::1/128", "fd00::/8")
    assert client_address_of(meta("::1", "2001:db8::7")) == "2001:db8::7"
    assert client_address_of(meta("fd00::5", "[2001:db8::8]")) == "2001:db8::8"
    assert client_address_of(meta("::ffff:198.51.100.7")) == "198.51.100.7"
    # An IPv4 hop is never "inside" an IPv6 network.
    assert client_address_of(meta("::1", "198.51.100.7, 10.9.9.9")) == "10.9.9.9"


def test_no_usable_peer_address_is_none(proxies) -> None:
    proxies("10.9.9.9/32")
    assert client_address_of({}) is None
    assert client_address_of(meta("unix:/run/psirt.sock", "198.51.100.7")) is None


def test_client_address_reads_the_request(proxies) -> None:
    proxies("10.9.9.9/32")
    request = RequestFactory().get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert client_address(request) == "198.51.100.7"


def test_the_access_log_names_the_client_not_the_proxy(proxies) -> None:
    proxies("10.9.9.9/32")
    cfg = SimpleNamespace(
        errorlog="-",
        loglevel="info",
        accesslog=None,
        syslog=False,
        logconfig=None,
        logconfig_dict={},
        logconfig_json=None,
        capture_output=False,
        disable_redirect_access_to_syslog=False,
        user=0,
        group=0,
        access_log_format="%(h)s %(r)s",
        statsd_host=None,
    )
    logger = GunicornLogger.__new__(GunicornLogger)
    logger.cfg = cfg
    response = SimpleNamespace(status="200 OK", headers=[], sent=3, response_length=3)
    request = SimpleNamespace(method="GET", path="/", query="", version=(1, 1), headers=[])
    environ = {
        **meta("10.9.9.9", "6.6.6.6, 198.51.100.7"),
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
    }
    import datetime

    atoms = logger.atoms(response, request, environ, datetime.timedelta(seconds=0.01))
    assert atoms["h"] == "198.51.100.7"
    atoms = logger.atoms(
        response,
        request,
        meta("203.0.113.5", "198.51.100.7") | environ | meta("203.0.113.5", "1.1.1.1"),
        datetime.timedelta(seconds=0.01),
    )
    assert atoms["h"] == "203.0.113.5"
