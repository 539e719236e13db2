"""Security headers on every page, and the template rules that let the CSP stay strict: no inline script or
style in any template, nothing loaded from another host."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch
from django.utils import translation

PSIRT = Path(__file__).resolve().parent.parent
PRIVATE = ("/desk/", "/accounts/", "/r/")


def _route_names(patterns: list[URLPattern | URLResolver], namespace: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _route_names(pattern.url_patterns, inner)
        elif pattern.name:
            yield namespace + pattern.name


def _language_paths() -> list[str]:
    """Every language-prefixed page that takes no argument (English), found from the URL map, so pages
    added later are checked too."""
    paths = set()
    with translation.override("en"):
        for name in _route_names(get_resolver().url_patterns):
            try:
                path = reverse(name)
            except NoReverseMatch:  # needs arguments
                continue
            if path.startswith("/en/"):
                paths.add(path)
    return sorted(paths)


def _public_paths() -> list[str]:
    return [p for p in _language_paths() if not p[3:].startswith(PRIVATE)]


def _assert_strict_headers(response, where: str) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives.get("frame-ancestors") == ["'none'"], where
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src and "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, where
    assert "'unsafe-inline'" not in directives.get("style-src", []), where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin"), where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert "camera=()" in response.headers.get("Permissions-Policy", ""), where


def test_the_url_map_yields_the_public_pages() -> None:
    paths = _public_paths()
    assert {"/en/", "/en/updates/", "/en/policy/"} <= set(paths)


@pytest.mark.django_db
def test_every_public_page_sends_strict_security_headers(client: Client) -> None:
    for path in [*_public_paths(), "/zh-hans/", "/en/no-such-page/", "/fr/", "/static/psirt/css/psirt.css"]:
        response = client.get(path)
        assert response.status_code < 500, path
        _assert_strict_headers(response, path)


@pytest.mark.django_db
def test_public_pages_may_be_cached_but_sign_in_pages_may_not(client: Client) -> None:
    assert "no-store" not in client.get("/en/updates/").headers.get("Cache-Control", "")
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    _assert_strict_headers(response, "login")
    assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.django_db
def test_every_desk_page_sends_strict_headers_and_no_store(as_lead: Client) -> None:
    desk = [p for p in _language_paths() if p.startswith("/en/desk/")]
    assert "/en/desk/" in desk
    for path in desk:
        response = as_lead.get(path)
        assert response.status_code < 500, path
        _assert_strict_headers(response, path)
        assert "no-store" in response.headers["Cache-Control"], path


@pytest.mark.django_db
def test_every_account_page_sends_strict_headers_and_no_store(client: Client) -> None:
    accounts = [p for p in _language_paths() if p.startswith("/en/accounts/")]
    assert "/en/accounts/login/" in accounts
    for path in accounts:
        response = client.get(path)
        assert response.status_code < 500, path
        _assert_strict_headers(response, path)
        assert "no-store" in response.headers["Cache-Control"], path


@pytest.mark.django_db
def test_a_signed_in_visitor_gets_no_store_even_on_public_pages(as_handler: Client) -> None:
    assert "no-store" in as_handler.get("/en/updates/").headers["Cache-Control"]


@pytest.mark.django_db
def test_a_post_answer_is_never_stored(client: Client) -> None:
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/en/"})
    assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.django_db
def test_hsts_is_sent_over_https_only(client: Client) -> None:
    secure = client.get("/en/", secure=True)
    assert secure.status_code == 200
    hsts = secure.headers.get("Strict-Transport-Security", "")
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
    _assert_strict_headers(secure, "https home")
    assert "Strict-Transport-Security" not in client.get("/en/").headers


# --- the templates and stylesheets themselves -------------------------------------------------------------

TEMPLATE_SUFFIXES = {".html", ".txt", ".xml", ".svg", ".json"}
# Names that can never be a third party (RFC 2606 / RFC 6761) and the SVG/XML namespace identifier, which
# is a name, not something a browser fetches.
ALLOWED_HOST = re.compile(
    r"^(?:[\w-]+\.)*(?:example\.(?:com|net|org)|[\w-]+\.(?:example|test|invalid|localhost)|localhost)$"
    r"|^www\.w3\.org$"
)
DJANGO_COMMENT = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}|<!--.*?-->", re.S)
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
URL = re.compile(r"""(?:https?:)?//([a-z0-9.-]+\.[a-z]{2,}|localhost)(?=[/:"'\s)]|$)""", re.I)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I)
STYLE_ATTR = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I | re.S)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I | re.S)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def _templates() -> list[Path]:
    return sorted(
        p for p in PSIRT.rglob("*") if p.is_file() and "templates" in p.parts and p.suffix in TEMPLATE_SUFFIXES
    )


def _static_text() -> list[Path]:
    return sorted(p for p in (PSIRT / "static").rglob("*") if p.suffix in {".css", ".js", ".svg"})


def test_the_scan_sees_the_templates_and_the_stylesheet() -> None:
    names = {p.relative_to(PSIRT).as_posix() for p in _templates() + _static_text()}
    assert {"templates/base.html", "templates/errors/500.html", "static/psirt/css/psirt.css"} <= names


def test_no_template_has_inline_script_style_or_event_handlers() -> None:
    problems = []
    for path in _templates():
        text = DJANGO_COMMENT.sub("", path.read_text(encoding="utf-8"))
        for rule, pattern in [
            ("<script> without src", INLINE_SCRIPT),
            ('style="" attribute', STYLE_ATTR),
            ("<style> element", STYLE_ELEMENT),
            ("on…= event handler", EVENT_HANDLER),
            ("javascript: URL", JS_URL),
        ]:
            if pattern.search(text):
                problems.append(f"{path.relative_to(PSIRT)}: {rule}")
    assert problems == [], "CSP forbids these; use psirt.css classes and static files:\n" + "\n".join(problems)


def test_no_template_or_static_file_refers_to_another_host() -> None:
    problems = []
    for path in _templates() + _static_text():
        text = path.read_text(encoding="utf-8")
        text = CSS_COMMENT.sub("", text) if path.suffix in {".css", ".js"} else DJANGO_COMMENT.sub("", text)
        for match in URL.finditer(text):
            if not ALLOWED_HOST.match(match.group(1).lower()):
                problems.append(f"{path.relative_to(PSIRT)}: {match.group(0)}")
    assert problems == [], "pages load nothing from other hosts; vendor the file under psirt/static/:\n" + "\n".join(
        problems
    )


@pytest.mark.parametrize(
    ("snippet", "pattern"),
    [
        ("<script>alert(1)</script>", INLINE_SCRIPT),
        ('<div class="x" style="color:red">', STYLE_ATTR),
        ("<style>p{}</style>", STYLE_ELEMENT),
        ('<a href="#" onclick="go()">', EVENT_HANDLER),
        ('<a href="javascript:go()">', JS_URL),
    ],
)
def test_the_template_rules_catch_what_they_are_meant_to(snippet: str, pattern: re.Pattern[str]) -> None:
    assert pattern.search(snippet)


def test_the_host_rule_catches_cdns_but_allows_reserved_example_names() -> None:
    found = [
        m.group(1) for m in URL.finditer('<link href="https://cdn.jsdelivr.net/x.css"> url(//fonts.gstatic.com/a)')
    ]
    assert found == ["cdn.jsdelivr.net", "fonts.gstatic.com"]
    assert not any(ALLOWED_HOST.match(h) for h in found)
    assert all(ALLOWED_HOST.match(h) for h in ["example.com", "security.example.org", "psirt.test", "www.w3.org"])
    assert not INLINE_SCRIPT.search('<script src="/static/x.js"></script>')
