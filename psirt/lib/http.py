"""Conditional answers (ETag, Last-Modified, 304) for the machine-readable files and the public read API: feeds,
security.txt, key files, CVE records, the CSAF provider tree, `psirt.lib.api`. Feed readers and scanners poll
these every few minutes; a 304 costs them and us almost nothing."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import ipaddress
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, quote_etag

Answer = TypeVar("Answer", bound=HttpResponseBase)


def absolute_url(path: str) -> str:
    """`path` on the public address (PSIRT_BASE_URL), never on the request's Host header: links in mails, feeds,
    documents and API answers must not follow a forged Host."""
    return str(settings.PSIRT_BASE_URL).rstrip("/") + path


# A token's place in a route resolved once: letters and digits only, which a `<str:…>` part takes and no quoting
# changes.
TOKEN_MARK = "psirtmark0token"  # noqa: S105 (a placeholder, not a secret)
# A token put in a resolved route as it is: characters reverse() neither quotes nor refuses in a `<str:…>` part
# (URL-safe base64, the dots and colons of signed and keyed tokens). Any other token is reversed afresh.
_TOKEN_AS_IS = re.compile(r"[A-Za-z0-9_.:-]+")


def route_path(name: str, language: str | None, token: str | None = None) -> str:
    """`reverse(name)` (with `token` its one argument) in `language`'s URL prefix, or outside any prefix for None
    (a route the language prefixes do not cover). Each route is resolved once per language, URL configuration and
    script prefix, with `TOKEN_MARK` in the token's place, and the token put in there: links in mail are made
    many times a second (an acknowledgment, every mail of a fan-out) for a handful of routes."""
    if token is not None and not _TOKEN_AS_IS.fullmatch(token):
        return _reverse_in(name, language, [token])
    path = resolved_route(name, language, token is not None, settings.ROOT_URLCONF, get_urlconf(), get_script_prefix())
    return path if token is None else path.replace(TOKEN_MARK, token)


@functools.lru_cache(maxsize=64)
def resolved_route(
    name: str, language: str | None, takes_token: bool, root: str, urlconf: str | None, prefix: str
) -> str:
    # The URLconf and script prefix are part of the key: a change of either resolves the route again.
    return _reverse_in(name, language, [TOKEN_MARK] if takes_token else [])


def _reverse_in(name: str, language: str | None, args: list[str]) -> str:
    """`reverse(name, args=args)` in `language`'s URL prefix, or as the active language has it for None (a route
    outside the language prefixes)."""
    with translation.override(language) if language is not None else contextlib.nullcontext():
        return reverse(name, args=args)


@functools.cache
def _trusted_networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(net) for net in proxies)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().removeprefix("[").removesuffix("]")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket is the same client.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def client_address_of(meta: Mapping[str, Any]) -> str | None:
    """The client's address from a WSGI environ: the peer (REMOTE_ADDR), unless the peer is one of the trusted
    reverse proxies (PSIRT_TRUSTED_PROXIES); then `X-Forwarded-For` is read from the right, skipping trusted
    hops, and the first address that is not a trusted proxy is the client. Addresses to its left were written by
    the client and are never believed. A malformed hop ends the walk at the last hop a trusted proxy vouched for.
    None when even the peer is not an IP address."""
    peer = _address(str(meta.get("REMOTE_ADDR") or ""))
    if peer is None:
        return None
    trusted = _trusted_networks(tuple(settings.CONFIG.serve.trusted_proxies))

    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address.version == net.version and address in net for net in trusted)

    client = peer
    forwarded = str(meta.get("HTTP_X_FORWARDED_FOR") or "")
    for hop in reversed(forwarded.split(",") if forwarded else []):
        if not is_trusted(client):
            break
        address = _address(hop)
        if address is None:
            break
        client = address
    return str(client)


def client_address(request: HttpRequest) -> str | None:
    """The one answer to "who is this visitor?" for rate limits, login throttling and the audit log (the access
    log asks `client_address_of` with gunicorn's environ): see `client_address_of`."""
    return client_address_of(request.META)


def body_etag(body: bytes) -> str:
    """A strong ETag from the bytes themselves: equal bodies, equal tags, in every worker process."""
    return quote_etag(hashlib.sha256(body).hexdigest()[:40])


def conditional(
    request: HttpRequest,
    *,
    etag: str,
    last_modified: int | None,
    max_age: int,
    make: Callable[[], Answer],
    must_revalidate: bool = False,
) -> HttpResponse | Answer:
    """304 (or 412) when the client's copy is current, else `make()` — called only then, so a file or a template
    is not opened for a 304; both answers carry the validators and public caching."""
    early = get_conditional_response(request, etag=etag, last_modified=last_modified)
    response: HttpResponse | Answer = early if early is not None else make()
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    # Django writes every keyword it is given, so `must_revalidate=False` would go out as the bogus directive
    # "must-revalidate=False": name the directive only when it applies.
    directives: dict[str, bool | int] = {"public": True, "max_age": max_age}
    if must_revalidate:
        directives["must_revalidate"] = True
    patch_cache_control(response, **directives)
    return response


def conditional_response(
    request: HttpRequest,
    *,
    body: str | bytes,
    content_type: str,
    max_age: int,
    etag: str | None = None,
    last_modified: datetime | None = None,
    must_revalidate: bool = False,
) -> HttpResponse:
    """`body` as a cacheable public answer, or 304 Not Modified when the client's copy is current.

    `etag` defaults to a hash of the body; pass one (weak, `W/"…"`) when equal content may be encoded differently,
    e.g. a clear-signed file whose signature bytes differ between worker processes."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return conditional(
        request,
        etag=etag or body_etag(data),
        last_modified=int(last_modified.timestamp()) if last_modified is not None else None,
        max_age=max_age,
        make=lambda: HttpResponse(data, content_type=content_type),
        must_revalidate=must_revalidate,
    )
