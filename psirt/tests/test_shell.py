"""The bilingual public shell under bad input: unknown language prefixes, the language switch, over-long
and hostile query strings, and the error pages (bilingual, nothing echoed, the 500 page without a database)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from psirt.lib import views as error_views

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _is_bilingual_404(response) -> bool:
    html = response.content.decode()
    return response.status_code == 404 and "Page not found" in html and "页面不存在" in html


@pytest.mark.parametrize(
    "path", ["/fr/", "/xx-yy/updates/", "/zh/updates/", "/zh-cn/", "/EN/", "/de/policy/", "/%ff/", "/en/%ff/"]
)
def test_unknown_language_prefix_gets_the_404_page(client: Client, path: str) -> None:
    assert _is_bilingual_404(client.get(path))


@pytest.mark.parametrize(
    ("accept", "target"), [("zh-CN,zh;q=0.9,en;q=0.8", "/zh-hans/"), ("en-US,en;q=0.9", "/en/"), ("", "/en/")]
)
def test_root_redirects_to_the_visitors_language(client: Client, accept: str, target: str) -> None:
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 302
    assert response["Location"] == target


def test_both_languages_render_with_the_right_lang_attribute(client: Client) -> None:
    assert '<html lang="en">' in client.get("/en/").content.decode()
    assert '<html lang="zh-Hans">' in client.get("/zh-hans/").content.decode()


def _switch_links(html: str) -> dict[str, str]:
    nav = html[html.index('class="lang-switch"') :]
    nav = nav[: nav.index("</nav>")]
    return {
        m.group(2): m.group(1).replace("&amp;", "&") for m in re.finditer(r'href="([^"]+)" hreflang="([^"]+)"', nav)
    }


def test_language_switch_links_to_the_same_page_in_each_language(client: Client) -> None:
    links = _switch_links(client.get("/en/updates/", {"q": "cam"}).content.decode())
    assert links == {"en": "/en/updates/?q=cam", "zh-Hans": "/zh-hans/updates/?q=cam"}
    links = _switch_links(client.get("/zh-hans/policy/").content.decode())
    assert links == {"en": "/en/policy/", "zh-Hans": "/zh-hans/policy/"}


def test_language_switch_on_a_missing_page_links_to_the_other_home(client: Client) -> None:
    links = _switch_links(client.get("/en/no-such-page/").content.decode())
    assert links["zh-Hans"] == "/zh-hans/"


def test_public_pages_set_no_cookie(client: Client) -> None:
    for path in ("/en/", "/en/updates/", "/zh-hans/policy/"):
        response = client.get(path)
        assert response.status_code == 200
        assert not response.cookies, f"{path} set {list(response.cookies)}"


def test_set_language_endpoint_still_keeps_the_page(client: Client) -> None:
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/en/updates/"})
    assert response.status_code == 302
    assert response["Location"] == "/zh-hans/updates/"
    back = client.post(reverse("set_language"), {"language": "en", "next": "/zh-hans/updates/?q=nc"})
    assert back["Location"] == "/en/updates/?q=nc"


def test_language_switch_never_redirects_to_another_site(client: Client) -> None:
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "https://evil.example/phish"})
    assert "evil.example" not in response.get("Location", "")


def test_language_switch_without_csrf_token_gets_the_friendly_page(csrf_client: Client, settings) -> None:
    settings.CSRF_FAILURE_VIEW = "psirt.lib.views.csrf_failure"
    response = csrf_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/en/"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "This form has expired" in html and "表单已过期" in html
    assert "CSRF cookie" not in html  # Django's reason stays in the log


@pytest.mark.parametrize("path", ["/en/", "/en/updates/", "/zh-hans/policy/", "/en/no-such-page/"])
def test_a_20_kb_query_string_is_refused_or_ignored_never_a_server_error(client: Client, path: str) -> None:
    filler = "a" * 20_000
    response = client.get(f"{path}?q={filler}&x={filler[:100]}")
    assert response.status_code in (200, 400, 404, 414)
    assert filler[:2000] not in response.content.decode()


@pytest.mark.parametrize("path", ["/en/", "/en/updates/", "/zh-hans/", "/en/no-such-page/"])
def test_html_in_a_query_parameter_is_never_reflected_raw(client: Client, path: str) -> None:
    response = client.get(path, {"q": HOSTILE, "next": HOSTILE, "lang": HOSTILE})
    html = response.content.decode()
    assert response.status_code < 500
    # Escaped text (&lt;img src=x onerror=…&gt;) is inert; a raw tag would run.
    assert "<script>alert" not in html and "<img src=x" not in html


def test_html_in_the_path_is_not_reflected_on_the_404_page(client: Client) -> None:
    response = client.get("/en/%3Cscript%3Ealert(1)%3C/script%3E/")
    assert _is_bilingual_404(response)
    assert "<script>alert" not in response.content.decode()
    assert "alert(1)" not in response.content.decode()  # the path is not echoed at all


def test_404_page_is_bilingual_and_leads_home(client: Client) -> None:
    english = client.get("/en/no-such-page/")
    assert _is_bilingual_404(english)
    assert 'href="/en/"' in english.content.decode()
    chinese = client.get("/zh-hans/no-such-page/").content.decode()
    assert re.search(r"<h1[^>]*>页面不存在</h1>", chinese), "Chinese visitors read their language first"
    assert 'href="/zh-hans/"' in chinese


def test_bad_host_header_gets_a_400_page_without_echo(client: Client) -> None:
    response = client.get("/en/", HTTP_HOST="evil-host.invalid")
    assert response.status_code == 400
    assert "evil-host" not in response.content.decode()


@pytest.mark.parametrize(
    ("view", "status"), [("bad_request", 400), ("permission_denied", 403), ("page_not_found", 404)]
)
def test_error_views_render_the_bilingual_page(rf: RequestFactory, view: str, status: int) -> None:
    request = rf.get("/en/whatever/")
    response = getattr(error_views, view)(request, Exception("secret detail"))
    html = response.content.decode()
    assert response.status_code == status
    assert "secret detail" not in html and "whatever" not in html


def test_server_error_page_renders_without_touching_the_database(rf: RequestFactory) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = error_views.server_error(rf.get("/en/boom/?token=SECRET"))
    html = response.content.decode()
    assert response.status_code == 500
    assert len(queries) == 0
    assert "Something went wrong" in html and "服务器出现错误" in html
    assert "SECRET" not in html and "Traceback" not in html
    assert "/static/psirt/css/psirt.css" in html


def test_server_error_page_falls_back_to_plain_html_if_its_template_breaks(rf: RequestFactory, monkeypatch) -> None:
    def broken(name: str):
        raise RuntimeError("template engine down")

    monkeypatch.setattr(error_views.loader, "get_template", broken)
    response = error_views.server_error(rf.get("/"))
    assert response.status_code == 500
    assert "服务器错误" in response.content.decode()
