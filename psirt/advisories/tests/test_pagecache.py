"""The opt-in page cache: fresh after every publication, never shares a visitor's CSRF token or a signed-in
page."""

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
from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.models import Advisory
from psirt.advisories.tests.conftest import revise
from psirt.pages import pagecache

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
    revise(
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
    monkeypatch.setattr("psirt.advisories.views.public._render_list", lambda request: pytest.fail("rendered again"))
    assert Client().get(LIST).content.decode() == html


def test_a_stored_page_of_an_older_stamp_is_never_served(published: Advisory, lead: User, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    Client().get(published.get_absolute_url())
    revise(advisory=published, actor=lead, changes={"impact_en": "Impact revised"}, revision_summary_en="Revised.")
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


# --- the site generation: every change a cached page shows is visible on the very next request --------------------

AFFECTED = "/en/affected/?product=cam-x5"


def _warm(*urls: str) -> None:
    """Store the pages, and check that a second visitor really gets the stored copy (no rendering)."""
    for url in urls:
        Client().get(url)
    for url in urls:
        assert pagecache._recall(f"en|{url}") is not None, url


def test_a_new_firmware_release_shows_at_once(published: Advisory, lead: User) -> None:
    from psirt.catalog import services as catalog

    _warm(AFFECTED, published.get_absolute_url())
    catalog.create_release(actor=lead, product=published.affected.get().product, version="V5.7.0")
    assert "V5.7.0" in Client().get(AFFECTED).content.decode()
    fixed = published.affected.get().fixed
    assert fixed is not None
    catalog.update_release(actor=lead, release=fixed, version="V5.6.0-hotfix")
    assert "V5.6.0-hotfix" in Client().get(published.get_absolute_url()).content.decode()


def test_a_deleted_release_goes_at_once(published: Advisory, lead: User) -> None:
    from psirt.catalog import services as catalog
    from psirt.catalog.models import FirmwareRelease

    _warm(AFFECTED)
    catalog.delete_release(actor=lead, release=FirmwareRelease.objects.get(version="V5.10.0"))
    assert "V5.10.0" not in Client().get(AFFECTED).content.decode()


def test_a_renamed_or_hidden_product_shows_at_once(published: Advisory, lead: User) -> None:
    from psirt.catalog import services as catalog

    product = published.affected.get().product
    _warm(LIST, published.get_absolute_url())
    catalog.update_product(actor=lead, product=product, name="Camera X5 Pro")
    assert "Camera X5 Pro" in Client().get(published.get_absolute_url()).content.decode()
    assert '<option value="cam-x5">Camera X5 Pro</option>' in Client().get(LIST).content.decode()
    catalog.update_product(actor=lead, product=product, is_public=False)
    assert 'value="cam-x5"' not in Client().get(LIST).content.decode()


def test_a_renamed_product_line_shows_at_once(published: Advisory, lead: User) -> None:
    from psirt.catalog import services as catalog

    _warm(LIST)
    catalog.update_product_line(actor=lead, line=published.affected.get().product.line, name_en="Smart cameras")
    assert '<option value="cameras">Smart cameras</option>' in Client().get(LIST).content.decode()


def test_an_organization_profile_change_shows_at_once(published: Advisory, lead: User) -> None:
    from psirt.organization.services import update_organization

    _warm(LIST, AFFECTED, published.get_absolute_url())
    update_organization(actor=lead, name_en="Acme Cameras", footer_en="Acme footer line")
    for url in (LIST, AFFECTED, published.get_absolute_url()):
        html = Client().get(url).content.decode()
        assert "Acme Cameras" in html and "Acme footer line" in html, url


def test_a_page_edit_moves_the_generation(db: None, lead: User) -> None:
    # No cached view shows a page's text today; the generation still moves, so one that does stays correct.
    from psirt.pages import generation
    from psirt.pages.models import PageSlug
    from psirt.pages.queries import get_page
    from psirt.pages.services import update_page

    page = get_page(PageSlug.POLICY)
    before = generation.current()
    update_page(actor=lead, page=page, body_en="New policy text.")
    after = generation.current()
    assert after[0] == before[0] + 1 and after[1] != before[1]


def test_a_publication_shows_at_once(draft: Advisory, lead: User) -> None:
    from psirt.advisories.tests.conftest import publish

    _warm(LIST)
    assert draft.advisory_id not in Client().get(LIST).content.decode()
    publish(draft, lead)
    assert draft.advisory_id in Client().get(LIST).content.decode()
    assert Client().get(draft.get_absolute_url()).status_code == 200


def test_a_rolled_back_change_does_not_move_the_generation(published: Advisory, lead: User, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.db import transaction

    from psirt.catalog import services as catalog
    from psirt.pages import generation

    _warm(LIST)
    before = generation.current()
    with pytest.raises(RuntimeError), transaction.atomic():
        catalog.update_product(actor=lead, product=published.affected.get().product, name="Never saved")
        assert generation.current() != before  # moved inside the transaction, with the change
        raise RuntimeError("rolled back")
    assert generation.current() == before
    monkeypatch.setattr("psirt.advisories.views.public._render_list", lambda request: pytest.fail("rendered again"))
    assert "Never saved" not in Client().get(LIST).content.decode()


def test_a_missing_generation_row_is_recreated_by_the_next_change(published: Advisory, lead: User) -> None:
    from psirt.catalog import services as catalog
    from psirt.pages import generation
    from psirt.pages.models import SiteGeneration

    SiteGeneration.objects.all().delete()  # as after a flush
    _warm(LIST)
    catalog.update_product(actor=lead, product=published.affected.get().product, name="Camera X5 Pro")
    assert generation.current()[0] == 1
    assert "Camera X5 Pro" in Client().get(LIST).content.decode()


def test_the_etag_changes_with_the_generation(published: Advisory, lead: User) -> None:
    from psirt.catalog import services as catalog

    first = Client().get(LIST)
    catalog.update_product(actor=lead, product=published.affected.get().product, name="Camera X5 Pro")
    again = Client().get(LIST, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and "Camera X5 Pro" in again.content.decode()


def test_a_visitor_with_a_session_is_never_served_a_stored_page(published: Advisory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings

    _warm(LIST)
    from psirt.advisories.views import public as views

    rendered: list[str] = []
    real = views._render_list

    def counting(request):  # type: ignore[no-untyped-def]
        rendered.append(request.path)
        return real(request)

    monkeypatch.setattr(views, "_render_list", counting)
    with_session = Client()
    with_session.cookies[settings.SESSION_COOKIE_NAME] = "some-session"
    with_session.get(LIST)
    with_messages = Client()
    with_messages.cookies["messages"] = "pending"
    with_messages.get(LIST)
    assert len(rendered) == 2


def test_an_advisory_page_shows_its_csaf_links_once_the_tree_is_written(
    published: Advisory, settings, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # The tree is written after the publication commits: a page stored in between must not outlive it.
    from psirt.advisories.csaf import provider

    settings.PSIRT_VAR_DIR = str(tmp_path)
    monkeypatch.setattr(pagecache, "_shared_store", None)  # the shared store lives under the var dir too
    url = published.get_absolute_url()
    assert "CSAF 2.0 document" not in Client().get(url).content.decode()
    provider.update_documents(provider.advisory_documents(published))
    assert "CSAF 2.0 document" in Client().get(url).content.decode()


def test_switched_off_every_request_renders(published: Advisory, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from psirt.advisories.views import public as views

    settings.PSIRT_PUBLIC_PAGE_CACHE = 0
    rendered: list[str] = []
    real = views._render_list

    def counting(request):  # type: ignore[no-untyped-def]
        rendered.append(request.path)
        return real(request)

    monkeypatch.setattr(views, "_render_list", counting)
    Client().get(LIST)
    Client().get(LIST)
    assert len(rendered) == 2 and not pagecache._entries


def test_a_stale_page_asked_for_at_once_is_rendered_once(rf, db: None) -> None:  # type: ignore[no-untyped-def]
    """The requests that find a page stale at the same moment wait for the first one's render (a lock file shared
    by every worker process) instead of all rendering it."""
    import threading
    import time

    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    renders = []
    bodies: list[bytes] = []

    def render() -> HttpResponse:
        renders.append(1)
        time.sleep(0.3)  # a slow page: the others arrive while it renders
        return HttpResponse(b"the page")

    def visitor() -> None:
        request = rf.get(LIST)
        request.user = AnonymousUser()
        bodies.append(pagecache.cached_page(request, "v2", render).content)

    visitors = [threading.Thread(target=visitor) for _ in range(4)]
    for thread in visitors:
        thread.start()
    for thread in visitors:
        thread.join()
    assert len(renders) == 1
    assert bodies == [b"the page"] * 4


def test_a_render_lock_held_too_long_is_not_waited_for(rf, db: None, monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    import fcntl
    import hashlib
    from pathlib import Path

    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    monkeypatch.setattr(pagecache, "LOCK_WAIT", 0.05)
    key = hashlib.sha256(f"en|{LIST}".encode()).hexdigest()
    folder = Path(settings.PSIRT_VAR_DIR) / "cache" / "public-pages" / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{key[:2]}.lock", "a+b") as held:  # another process stuck in a render
        fcntl.flock(held, fcntl.LOCK_EX)
        request = rf.get(LIST)
        request.user = AnonymousUser()
        assert pagecache.cached_page(request, "v1", lambda: HttpResponse(b"rendered anyway")).content == (
            b"rendered anyway"
        )


def test_the_home_page_is_cached_and_shows_a_publication_at_once(draft: Advisory, lead: User, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from psirt.advisories.tests.conftest import publish

    _warm("/en/")
    assert draft.advisory_id not in Client().get("/en/").content.decode()
    publish(draft, lead)
    html = Client().get("/en/").content.decode()
    assert draft.advisory_id in html
    monkeypatch.setattr("psirt.pages.views.public._render_home", lambda request: pytest.fail("rendered again"))
    assert Client().get("/en/").content.decode() == html


def test_switching_the_public_statistics_moves_the_generation(db: None, lead: User) -> None:
    from psirt.metrics.services import set_public_statistics
    from psirt.pages import generation

    before = generation.current()
    set_public_statistics(enabled=True, min_count=10, actor=lead)
    assert generation.current() != before


# --- a hit answered before the rest of the middleware stack --------------------------------------------------------


def _no_view(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """From here on, reaching a cached view (or the session) fails the test: only an early answer passes."""
    from django.contrib.sessions.middleware import SessionMiddleware

    def unreachable(*args, **kwargs):  # type: ignore[no-untyped-def]
        pytest.fail("the request went past the page cache")

    for view in ("psirt.advisories.views.public.cached_page", "psirt.advisories.views.affected.cached_page"):
        monkeypatch.setattr(view, unreachable)
    monkeypatch.setattr("psirt.pages.views.public.pagecache.cached_page", unreachable)
    monkeypatch.setattr(SessionMiddleware, "process_request", unreachable)


def _paths_reaching(monkeypatch, module) -> list[str]:  # type: ignore[no-untyped-def]
    """From here on, the paths of the requests that reach `module.cached_page`, in order."""
    reached: list[str] = []
    real = module.cached_page

    def counting(request, *args, **kwargs):  # type: ignore[no-untyped-def]
        reached.append(request.path)
        return real(request, *args, **kwargs)

    monkeypatch.setattr(module, "cached_page", counting)
    return reached


EARLY = [LIST, "/en/advisories/?sort=severity", "/en/affected/?product=cam-x5&version=V5.5.2", "/en/", "/zh-hans/"]


def test_a_hit_is_answered_early_with_the_same_bytes_and_headers(
    published: Advisory, monkeypatch, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    urls = [*EARLY, published.get_absolute_url()]
    for url in urls:
        Client().get(url)  # a first render may create rows that move the generation (the organization profile)
    rendered = {url: Client().get(url) for url in urls}
    _no_view(monkeypatch)
    for url, first in rendered.items():
        with django_assert_num_queries(1):  # the freshness check, nothing else
            again = Client().get(url)
        assert again.status_code == first.status_code == 200, url
        assert again.content == first.content, url
        assert sorted(again.items()) == sorted(first.items()), url
        assert not again.cookies
        for header in ("Content-Security-Policy", "Permissions-Policy", "X-Frame-Options", "Content-Language"):
            assert again[header], (url, header)
        assert "Cookie" in again["Vary"]
    assert Client().get(LIST)["ETag"] == rendered[LIST]["ETag"]


def test_an_early_answer_keeps_each_language(published: Advisory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    english = Client().get(LIST).content.decode()
    chinese = Client().get("/zh-hans/advisories/").content.decode()
    _no_view(monkeypatch)
    en, zh = Client().get(LIST), Client().get("/zh-hans/advisories/")
    assert en.content.decode() == english and '<html lang="en">' in english and en["Content-Language"] == "en"
    assert zh.content.decode() == chinese and '<html lang="zh-Hans">' in chinese
    assert zh["Content-Language"] == "zh-hans"
    # A language cookie does not change the language the URL names.
    with_cookie = Client()
    with_cookie.cookies["django_language"] = "zh-hans"
    assert with_cookie.get(LIST).content.decode() == english


def test_a_signed_in_visitor_never_gets_an_early_answer(published: Advisory, as_lead: Client) -> None:
    for url in EARLY:
        Client().get(url)
        Client().get(url)
        html = as_lead.get(url).content.decode()
        assert "/desk/" in html, url  # the signed-in footer links to the back office
        assert "Staff sign-in" not in html, url


def test_a_page_that_changed_is_not_answered_early(published: Advisory, lead: User) -> None:
    from psirt.catalog import services as catalog

    Client().get(LIST)
    Client().get(LIST)
    catalog.update_product(actor=lead, product=published.affected.get().product, name="Camera X5 Pro")
    assert "Camera X5 Pro" in Client().get(LIST).content.decode()
    revise(advisory=published, actor=lead, changes={"impact_en": "Impact revised"}, revision_summary_en="Revised.")
    assert "Impact revised" in Client().get(published.get_absolute_url()).content.decode()


def test_conditional_requests_go_to_the_view(published: Advisory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from psirt.advisories.views import public as views

    first = Client().get(LIST)
    Client().get(LIST)
    reached = _paths_reaching(monkeypatch, views)
    assert Client().get(LIST, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert reached == []  # the 304 is decided by the view's condition before cached_page
    assert Client().get(LIST)["ETag"] == first["ETag"]


PUBLIC = [*EARLY, "/zh-hans/advisories/", "/zh-hans/affected/?product=cam-x5&version=V5.5.2"]


def test_no_public_page_holds_a_csrf_token(published: Advisory) -> None:
    # What lets every visitor share a page's validators and its early answer, whatever CSRF cookie they hold.
    for url in [*PUBLIC, published.get_absolute_url(), published.get_absolute_url().replace("/en/", "/zh-hans/")]:
        response = Client().get(url)
        assert response.status_code == 200, url
        assert b"csrfmiddlewaretoken" not in response.content, url


def _with_csrf_cookie(value: str) -> Client:
    client = Client()
    client.cookies["csrftoken"] = value
    return client


def test_visitors_with_different_csrf_cookies_share_validators(published: Advisory) -> None:
    for url in [LIST, published.get_absolute_url(), "/zh-hans/advisories/"]:
        first = Client().get(url)
        one, other = _with_csrf_cookie("a" * 32).get(url), _with_csrf_cookie("b" * 64).get(url)
        assert one.content == other.content == first.content, url
        assert one["ETag"] == other["ETag"] == first["ETag"], url
        assert one["Last-Modified"] == first["Last-Modified"], url
        again = _with_csrf_cookie("c" * 32).get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and not again.content, url


def test_a_visitor_with_a_csrf_cookie_gets_the_early_answer(published: Advisory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    urls = [*PUBLIC, published.get_absolute_url()]
    for url in urls:
        Client().get(url)
    rendered = {url: Client().get(url) for url in urls}
    _no_view(monkeypatch)
    for url, first in rendered.items():
        again = _with_csrf_cookie("a" * 32).get(url)
        assert again.content == first.content, url
        assert sorted(again.items()) == sorted(first.items()), url
        assert not again.cookies, url


def test_a_malformed_csrf_cookie_is_still_replaced(published: Advisory) -> None:
    first = Client().get(LIST)
    Client().get(LIST)
    answer = _with_csrf_cookie("not a CSRF secret!").get(LIST)  # Django's CSRF middleware replaces it: the view
    assert answer.content == first.content
    assert answer.cookies["csrftoken"].value != "not a CSRF secret!"
    assert len(answer.cookies["csrftoken"].value) == 32


def test_headers_of_another_hour_are_not_replayed(published: Advisory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = Client().get(LIST)
    Client().get(LIST)
    monkeypatch.setattr(pagecache, "_hour", lambda now: 10**9)  # the next clock hour: the validators change
    from psirt.advisories.views import public as views

    _no_view_reached = _paths_reaching(monkeypatch, views)
    assert Client().get(LIST).content == first.content
    assert Client().get(LIST).content == first.content
    assert _no_view_reached == [LIST]  # once through the view, then early again with the new hour's headers


def test_an_early_answer_still_refuses_a_host_that_is_not_allowed(published: Advisory) -> None:
    Client().get(LIST)
    assert Client().get(LIST).status_code == 200
    assert Client().get(LIST, HTTP_HOST="evil.example").status_code == 400


# --- a page holding a CSRF token: each visitor's own ----------------------------------------------------------------
# The public pages hold none (above); a page that did would be served with the visitor's own token put back, never
# answered early, and without validators that would let a copy (and its token) be kept.

TOKEN_PAGE = "/en/token-page/"
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
with_token_page = pytest.mark.urls(__name__)


def _accepted(client: Client, token: str) -> bool:
    return client.post(TOKEN_PAGE, {"csrfmiddlewaretoken": token}).status_code == 200


@with_token_page
def test_each_visitor_gets_a_token_of_their_own_secret_from_the_stored_page(db: None) -> None:
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_token = _token(first.get(TOKEN_PAGE).content.decode())  # rendered and stored
    assert pagecache._entries
    second.get(TOKEN_PAGE)
    second_token = _token(second.get(TOKEN_PAGE).content.decode())  # from the store, now with a CSRF cookie of its own
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    assert _accepted(second, second_token)
    assert not _accepted(second, first_token)  # the first visitor's token never reaches the second
    assert _accepted(first, first_token)
    assert b"\x00" not in second.get(TOKEN_PAGE).content


@with_token_page
@pytest.mark.parametrize("ttl", [60, 0])
def test_a_page_with_a_token_carries_no_validators(db: None, settings, ttl: int) -> None:  # type: ignore[no-untyped-def]
    settings.PSIRT_PUBLIC_PAGE_CACHE = ttl
    visitor = Client()
    for _ in range(3):  # rendered, then from the store, then from the store with the visitor's cookie
        response = visitor.get(TOKEN_PAGE)
        assert response.status_code == 200
        assert "ETag" not in response and "Last-Modified" not in response


@with_token_page
def test_a_page_with_a_token_is_never_answered_early(db: None, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    Client().get(TOKEN_PAGE)
    Client().get(TOKEN_PAGE)
    reached = _paths_reaching(monkeypatch, pagecache)
    visitor = Client()
    visitor.get(TOKEN_PAGE)
    visitor.get(TOKEN_PAGE)
    assert reached == [TOKEN_PAGE, TOKEN_PAGE]
