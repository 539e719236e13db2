"""/api/openapi.json (OpenAPI 3.1) and /api/docs: Swagger UI from vendored files, under the strict CSP."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from psirt.tests.conftest import _media_url_for_live_server, chromium, live_server  # noqa: F401 - fixtures
from psirt.tests.test_headers import _assert_strict_headers

PUBLIC_READS = {
    "/api/v1/advisories",
    "/api/v1/advisories/{advisory_id}",
    "/api/v1/advisories/{advisory_id}/revisions",
    "/api/v1/products",
    "/api/v1/products/{slug}",
    "/api/v1/products/{slug}/releases",
    "/api/v1/affected",
    "/api/v1/cvss",
}


def test_openapi_is_3_1_and_lists_the_public_reads_without_security(client: Client) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert set(schema["paths"]) >= PUBLIC_READS
    for path in PUBLIC_READS:
        operation = schema["paths"][path]["get"]
        assert not operation.get("security"), path
        assert "200" in operation["responses"], path


@pytest.mark.django_db
def test_docs_page_uses_only_local_files_and_no_inline_script(client: Client) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    _assert_strict_headers(response, "/api/docs")
    html = response.content.decode()
    assert not re.search(r"<script\b(?![^>]*\bsrc=)", html), "inline script"
    assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=", html, re.I)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(not urlsplit(u).netloc for u in urls), urls
    assert 'data-openapi-url="/api/openapi.json"' in html
    # Each one is a file of an installed app (collectstatic gathers it; nothing is fetched at run time).
    for url in urls:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_docs_render_in_a_browser_with_no_foreign_request_and_no_csp_violation(
    live_server: Any,  # noqa: F811
    chromium: Any,  # noqa: F811
) -> None:
    origin = urlsplit(live_server.url).netloc
    context = chromium.new_context()
    page = context.new_page()
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(live_server.url + "/api/docs")
        # Swagger UI fetched the description and drew an operation of it.
        page.wait_for_selector("#operations-advisories-advisories", timeout=20_000)
        assert page.locator(".opblock-summary-path", has_text="/api/v1/products/{slug}/releases").count() == 1
    finally:
        context.close()
    foreign = [u for u in requests if urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc != origin]
    assert foreign == []
    assert any(u.endswith("/api/openapi.json") for u in requests)
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
