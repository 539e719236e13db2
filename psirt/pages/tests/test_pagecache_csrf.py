"""The page cache and CSRF tokens: a page holding a token is each visitor's own (their token put back, no
validator that would let a copy be kept), and a page without one is shared whatever CSRF cookie a visitor holds.
The public pages themselves hold none: see psirt/advisories/tests/test_pagecache.py."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.test import Client
from django.urls import path
from django.views.decorators.http import condition

from psirt import urls as site_urls
from psirt.pages import pagecache

URL = "/en/token-page/"
TAG = "token-page-version"


def _version(request: HttpRequest) -> str:
    return "v1"


def _render(request: HttpRequest) -> HttpResponse:
    template = engines["django"].from_string('<form method="post">{% csrf_token %}<button>Go</button></form>')
    return HttpResponse(template.render({}, request))


@condition(etag_func=lambda request: TAG, last_modified_func=lambda request: None)
def token_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return HttpResponse("accepted")
    return pagecache.cached_page(request, _version(request), lambda: _render(request), check=_version)


# The site's own URLs too: the CSRF failure page links to them.
urlpatterns = [path("en/token-page/", token_page), *site_urls.urlpatterns]

pytestmark = pytest.mark.urls(__name__)


@pytest.fixture(autouse=True)
def page_cache(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    settings.PSIRT_PUBLIC_PAGE_CACHE = 60
    pagecache.clear()
    yield
    pagecache.clear()


def _token(body: bytes) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body.decode())
    assert match, body
    return match.group(1)


def _accepted(client: Client, token: str) -> bool:
    return client.post(URL, {"csrfmiddlewaretoken": token}).status_code == 200


def test_each_visitor_gets_a_token_of_their_own_secret_from_the_stored_page(db: None) -> None:
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_token = _token(first.get(URL).content)  # rendered and stored
    assert pagecache._entries
    second.get(URL)
    second_token = _token(second.get(URL).content)  # from the store, now with a CSRF cookie of its own
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    assert _accepted(second, second_token)
    assert not _accepted(second, first_token)  # the first visitor's token never reaches the second
    assert _accepted(first, first_token)
    assert b"\x00" not in second.get(URL).content


@pytest.mark.parametrize("ttl", [60, 0])
def test_a_page_with_a_token_carries_no_validators(db: None, settings, ttl: int) -> None:  # type: ignore[no-untyped-def]
    settings.PSIRT_PUBLIC_PAGE_CACHE = ttl
    visitor = Client()
    for _ in range(3):  # rendered, then from the store, then from the store with the visitor's cookie
        response = visitor.get(URL)
        assert response.status_code == 200
        assert "ETag" not in response and "Last-Modified" not in response


def test_a_page_with_a_token_is_never_answered_early(db: None, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    Client().get(URL)
    Client().get(URL)
    reached: list[str] = []
    real = pagecache.cached_page

    def counting(request, *args, **kwargs):  # type: ignore[no-untyped-def]
        reached.append(request.path)
        return real(request, *args, **kwargs)

    monkeypatch.setattr(pagecache, "cached_page", counting)
    visitor = Client()
    visitor.get(URL)
    visitor.get(URL)
    assert reached == [URL, URL]
