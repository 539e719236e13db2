"""The opt-in page cache: fresh after every publication, never shares a visitor's CSRF token or a signed-in
page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client

from psirt.accounts.models import User
from psirt.advisories import pagecache, services
from psirt.advisories.models import Advisory

LIST = "/en/advisories/"


@pytest.fixture(autouse=True)
def page_cache(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    settings.PSIRT_PUBLIC_PAGE_CACHE = 60
    pagecache.clear()
    yield
    pagecache.clear()


def _token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_cached_page_carries_the_visitors_own_token(rf, db: None) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse
    from django.middleware.csrf import get_token

    def render_for(request):  # type: ignore[no-untyped-def]
        return HttpResponse(f'<input name="csrfmiddlewaretoken" value="{get_token(request)}">')

    first = rf.get("/en/advisories/")
    first.user = AnonymousUser()
    pagecache.cached_page(first, None, lambda: render_for(first))
    second = rf.get("/en/advisories/")
    second.user = AnonymousUser()
    body = pagecache.cached_page(second, None, lambda: HttpResponse("not used")).content.decode()
    assert _token(body) != _token(render_for(first).content.decode())
    assert "\x00" not in body
    assert second.META["CSRF_COOKIE"] != first.META["CSRF_COOKIE"]


def test_second_visitor_gets_the_same_page_from_memory(published: Advisory) -> None:
    html = Client().get(published.get_absolute_url()).content.decode()
    again = Client().get(published.get_absolute_url())
    assert again.content.decode() == html
    assert not again.cookies


def test_publication_and_revision_show_at_once(published: Advisory, lead: User) -> None:
    anonymous = Client()
    assert "Impact revised" not in anonymous.get(published.get_absolute_url()).content.decode()
    services.update_advisory(
        advisory=published,
        actor=lead,
        changes={"impact_en": "Impact revised"},
        revision_summary_en="Impact revised.",
    )
    assert "Impact revised" in anonymous.get(published.get_absolute_url()).content.decode()
    before = anonymous.get(LIST).content.decode()
    services.withdraw_advisory(advisory=published, actor=lead, reason="Gone")
    after = anonymous.get(LIST).content.decode()
    assert "Withdrawn" not in before and "Withdrawn" in after


def test_signed_in_visitors_are_not_served_from_the_cache(published: Advisory, as_lead: Client) -> None:
    Client().get(LIST)
    html = as_lead.get(LIST).content.decode()
    assert "/desk/" in html  # the signed-in footer links to the back office


def test_a_hit_costs_one_stamp_query(published: Advisory, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    Client().get(LIST)
    Client().get(published.get_absolute_url())
    with django_assert_num_queries(1):
        assert Client().get(LIST).status_code == 200
    with django_assert_num_queries(1):
        assert Client().get(published.get_absolute_url()).status_code == 200


def test_other_worker_processes_share_the_rendered_page(published: Advisory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    html = Client().get(LIST).content.decode()
    pagecache._entries.clear()  # as if the next request reached another worker process
    monkeypatch.setattr("psirt.advisories.views._render_list", lambda request: pytest.fail("rendered again"))
    assert Client().get(LIST).content.decode() == html


def test_a_stored_page_of_an_older_stamp_is_never_served(published: Advisory, lead: User, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    Client().get(published.get_absolute_url())
    services.update_advisory(
        advisory=published, actor=lead, changes={"impact_en": "Impact revised"}, revision_summary_en="Revised."
    )
    pagecache._entries.clear()  # only the shared store still holds the page, under the old stamp
    assert "Impact revised" in Client().get(published.get_absolute_url()).content.decode()


def test_conditional_requests_still_get_304_from_the_cache(published: Advisory) -> None:
    first = Client().get(LIST)
    assert Client().get(LIST, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    page = Client().get(published.get_absolute_url())
    assert Client().get(published.get_absolute_url(), HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 304


def test_cached_answers_set_no_cookie_and_keep_the_security_headers(published: Advisory) -> None:
    Client().get("/en/affected/?product=cam-x5&version=V5.5.2")
    again = Client().get("/en/affected/?product=cam-x5&version=V5.5.2")
    assert again.status_code == 200 and not again.cookies
    assert "default-src 'self'" in again["Content-Security-Policy"]


def test_very_long_urls_are_not_stored(published: Advisory) -> None:
    long_query = LIST + "?q=x&pad=" + "a" * pagecache.MAX_PATH_CHARS
    Client().get(long_query)
    assert not pagecache._entries


def test_memory_is_bounded_by_bytes(rf, db: None, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    monkeypatch.setattr(pagecache, "MAX_MEMORY_BYTES", 25_000)
    for n in range(5):
        request = rf.get(f"/en/advisories/?page={n}")
        request.user = AnonymousUser()
        pagecache.cached_page(request, None, lambda: HttpResponse(b"x" * 10_000))
    assert len(pagecache._entries) == 2
    assert pagecache._size <= 25_000
