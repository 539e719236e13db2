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
