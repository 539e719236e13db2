"""The export served by a real nginx with the example configuration (deploy/nginx-static.conf, paths and addresses
substituted), crawled from both home pages: every link resolves, no page points at the application's host except
for the dynamic parts, every answer has the bytes the application serves for the same URL and the right type."""

from __future__ import annotations

import html
import http.client
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from psirt.advisories import queries
from psirt.advisories.models import Advisory
from psirt.ops.export import export_site, links
from psirt.ops.export.nginx import example_config
from psirt.ops.tests.conftest import APP_URL
from psirt.ops.tests.test_export import without_links

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

pytestmark = [
    pytest.mark.processes,
    pytest.mark.django_db,
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian package nginx)"),
]


def free_port() -> int:

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(site: list[Advisory], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, Path]]:
    monkeypatch.setattr(queries, "PER_PAGE", 2)  # three advisories on two list pages: pagination is crawled too
    # nginx started by root serves as "nobody": the export goes where that user can read it (pytest's own
    # temporary folders are private to their owner), as it would under /srv.
    public = Path(tempfile.mkdtemp(prefix="psirt-static-"))
    public.chmod(0o755)
    root = public / "site"
    summary = export_site(root=root)
    assert not summary.failed
    work = tmp_path / "nginx"
    work.mkdir()
    port = free_port()
    conf = work / "nginx.conf"
    conf.write_text(example_config(root=root, work=work, port=port, app_url=APP_URL))
    assert NGINX is not None
    command = [NGINX, "-p", str(work), "-c", str(conf), "-e", str(work / "error.log")]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                _get(port, "/en/")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        yield port, root
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(public, ignore_errors=True)


def _get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": "psirt.test"})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _app_url_of(path: str) -> str:
    """The application's URL of a file of the export (the query folder back into a query string)."""
    head, sep, rest = path.partition(f"/{links.QUERY_FOLDER}/")
    if not sep:
        return path
    query, _, name = rest.partition("/")
    return f"{head}/{name}?{query.replace(',', '&')}"


def _app(url: str) -> tuple[int, str, bytes]:
    if url.startswith(settings.STATIC_URL):
        # The test settings serve no static files (whitenoise without finders): the file whitenoise would send.
        found = finders.find(url[len(settings.STATIC_URL) :])
        assert isinstance(found, str), url
        kind = "text/css" if url.endswith(".css") else "image/svg+xml" if url.endswith(".svg") else ""
        return 200, kind, Path(found).read_bytes()
    response = Client().get(url, secure=True)
    body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    return response.status_code, response.get("Content-Type", ""), body


EXPECTED_TYPES = {
    ".atom": "application/atom+xml",
    ".json": "application/json",
    ".asc": "application/pgp-signature",
    "key.asc": "application/pgp-keys",
    ".sha256": "text/plain",
    ".sha512": "text/plain",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    "/": "text/html",
}
_REFS = re.compile(r'\b(?:href|src)="([^"]*)"')
_ACTIONS = re.compile(r'\baction="([^"]*)"')


def test_nginx_serves_the_export_and_every_link_resolves(served: tuple[int, Path], site: list[Advisory]) -> None:
    port, _root = served
    seen: set[str] = set()
    queue: deque[str] = deque(["/en/", "/zh-hans/", "/.well-known/security.txt", "/.well-known/csaf/"])
    dynamic: set[str] = set()
    types_seen: set[str] = set()
    while queue:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        status, headers, body = _get(port, path)
        assert status == 200, path
        suffix = next((s for s in EXPECTED_TYPES if path.endswith(s)), None)
        if "/openpgp/" in path and suffix == ".asc":
            suffix = "key.asc"
        kind = headers["content-type"].split(";")[0]
        if suffix is not None:
            assert kind == EXPECTED_TYPES[suffix], (path, kind)
            types_seen.add(suffix)
        app_status, app_type, app_body = _app(_app_url_of(path))
        assert app_status == 200, path
        assert kind == app_type.split(";")[0], path
        if kind != "text/html":
            assert body == app_body, path  # feeds, security.txt, CSAF documents, hashes and signatures: same bytes
            continue
        page = body.decode()
        assert without_links(page) == without_links(app_body.decode()), path
        # A form sends what the visitor typed: always to the live application.
        assert all(html.unescape(a).startswith(APP_URL + "/") for a in _ACTIONS.findall(page)), path
        for ref in (html.unescape(r) for r in _REFS.findall(page)):
            if ref.startswith(APP_URL):
                dynamic.add(ref)
                continue
            assert "psirt.test" not in ref, (path, ref)  # no absolute link to the site's own host is left
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith("#"):
                continue
            local = urljoin(path, ref).partition("#")[0]
            assert "?" not in local, (path, ref)  # a static server ignores query strings
            queue.append(local)
    ids = {a.advisory_id for a in site}
    for lang in ("en", "zh-hans"):
        assert {f"/{lang}/advisories/{i}/" for i in ids} <= seen
        assert f"/{lang}/policy/" in seen and f"/{lang}/updates/" in seen
        assert f"/{lang}/advisories/{links.QUERY_FOLDER}/page=2/" in seen
    assert any(p.endswith(".json.asc") for p in seen) and any(p.endswith(".json.sha512") for p in seen)
    assert {".atom", ".json", ".asc", ".sha512", ".txt", "/"} <= types_seen
    # Every link to the application is to a dynamic part: a URL the export does not write.
    assert dynamic
    for ref in dynamic:
        url = ref[len(APP_URL) :]
        with pytest.raises((links.UnsafeUrl, UnicodeDecodeError)):
            links.target(url.partition("#")[0])
        assert url.startswith(("/en/", "/zh-hans/")), ref


def test_nginx_answers_the_redirects_and_hides_the_bookkeeping(served: tuple[int, Path]) -> None:
    port, root = served
    status, headers, _ = _get(port, "/")
    assert status == 302 and headers["location"].endswith("/en/")
    status, headers, _ = _get(port, "/security.txt")
    assert status == 301 and headers["location"].endswith("/.well-known/security.txt")
    assert (root / ".psirt-export.json").is_file()
    assert _get(port, "/.psirt-export.json")[0] == 404
    assert _get(port, "/.psirt-export.lock")[0] == 404
    status, headers, _ = _get(port, "/en/")
    assert "form-action 'self' " + APP_URL in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
