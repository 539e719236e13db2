"""`psirt export-site`: every public page in both languages as files, with bytes equal to the application's answer
(links rewritten only), dynamic parts on PSIRT_APP_URL, refusals of unsafe folders and names, and the
incremental export that rewrites only the pages showing a changed advisory."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.models import Advisory
from psirt.catalog.models import FirmwareRelease, Product
from psirt.ops.export import ExportRefused, UnsafeUrl, export_site, links, target
from psirt.ops.export.files import MANIFEST_NAME, inside, write_atomic
from psirt.ops.tasks import refresh_static_export
from psirt.ops.tests.conftest import APP_URL, publish_new
from psirt.organization.models import OrganizationProfile

pytestmark = pytest.mark.django_db


def _files(root: Path) -> dict[str, tuple[int, int]]:
    """Every file with (inode, mtime_ns): a rewrite (temporary file, then rename) changes the inode."""
    return {
        p.relative_to(root).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".psirt-export")
    }


def _app(url: str) -> tuple[int, bytes, str]:
    response = Client().get(url, secure=True)
    body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    return response.status_code, body, response.get("Content-Type", "")


# -- where a URL goes ----------------------------------------------------------------------------------------


def test_folder_urls_become_index_files_and_query_strings_become_folders(db: None) -> None:
    assert target("/en/").file == "en/index.html"
    assert target("/zh-hans/advisories/").file == "zh-hans/advisories/index.html"
    page = target("/en/advisories/?line=cameras&page=2")
    assert page.file == "en/advisories/_q/line=cameras,page=2/index.html"
    assert page.link == "/en/advisories/_q/line=cameras,page=2/"
    feed = target("/feeds/advisories.atom?lang=zh-hans")
    assert (feed.file, feed.link) == ("feeds/_q/lang=zh-hans/advisories.atom", "/feeds/_q/lang=zh-hans/advisories.atom")
    assert target("/.well-known/security.txt").file == ".well-known/security.txt"


@pytest.mark.parametrize(
    "url",
    [
        "/en/advisories/../../etc/passwd",
        "/en/advisories/%2e%2e/",
        "/en/advisories/..%2F..%2Fetc/",
        "/en/advisories/.hidden/",
        "/en/advisories/A%00B/",
        "/en/advisories/a%5Cb/",
        "/en/advisories/%E4%B8%AD/",
        "/en/advisories/?q=camera",  # a search is a question to the live site
        "/en/advisories/?severity=critical",
        "/en/advisories/?line=../x",
        "/en/advisories/?page=" + "9" * 200,
        "/en/report/",  # dynamic
        "/en/desk/",
        "/api/v1/advisories",
        "https://psirt.test/en/",
        "/.well-known/../en/",
    ],
)
def test_unsafe_or_dynamic_urls_get_no_file(db: None, url: str) -> None:
    with pytest.raises((UnsafeUrl, UnicodeDecodeError)):
        target(url)


def test_no_write_leaves_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside)
    for rel in ["../x", "/etc/x", "a/../../x", "link/x", "a\\..\\x", ""]:
        with pytest.raises(ExportRefused):
            write_atomic(root, rel, b"x")
    assert not any(outside.iterdir()) and not (tmp_path / "x").exists()
    assert inside(root, "a/b.html") == root / "a" / "b.html"


# -- the full export ----------------------------------------------------------------------------------------


def test_every_public_page_in_both_languages_equals_the_apps_answer(site: list[Advisory], tmp_path: Path) -> None:
    root = tmp_path / "out"
    summary = export_site(root=root)
    assert not summary.failed
    written = set(_files(root))
    for lang in ("en", "zh-hans"):
        for page in ("", "policy/", "process/", "guidelines/", "acknowledgments/", "contact/", "updates/"):
            assert f"{lang}/{page}index.html" in written, (lang, page)
        assert f"{lang}/updates/{site[0].affected.first().product.slug}/index.html" in written  # type: ignore[union-attr]
        release = FirmwareRelease.objects.filter(is_public=True, product__is_public=True).first()
        assert release is not None
        assert f"{lang}/updates/{release.product.slug}/releases/{release.public_id}/index.html" in written
        assert f"{lang}/advisories/index.html" in written
        for advisory in site:
            assert f"{lang}/advisories/{advisory.advisory_id}/index.html" in written
    for name in [
        ".well-known/security.txt",
        ".well-known/csaf/provider-metadata.json",
        ".well-known/csaf/white/index.txt",
        "feeds/advisories.atom",
        "feeds/_q/lang=zh-hans/advisories.atom",
        f"advisories/{site[0].advisory_id}/csaf.json",
        "static/psirt/css/psirt.css",
    ]:
        assert name in written, name
    year = timezone.localtime(site[0].published_at).year
    assert f"en/advisories/_q/year={year},page=1/index.html" not in written  # one page: no page links
    assert f"en/advisories/_q/year={year}/index.html" in written
    assert any(name.endswith(".json.asc") for name in written)

    # Bytes: HTML equals the app's page with its links rewritten; every other file equals the app's bytes.
    manifest = json.loads((root / MANIFEST_NAME).read_bytes())
    for url, rel in _urls_of(manifest["files"]):
        status, body, content_type = _app(url)
        assert status == 200, url
        on_disk = (root / rel).read_bytes()
        if content_type.startswith("text/html"):
            assert without_links(on_disk.decode()) == without_links(body.decode()), url
        else:
            assert on_disk == body, url


def _urls_of(files: list[str]) -> list[tuple[str, str]]:
    """(URL, file) of the exported files that map back to one URL (static assets and the root page aside)."""
    out = []
    for rel in files:
        if rel == "index.html" or rel.startswith("static/"):
            continue
        parts = rel.split("/")
        query = ""
        if links.QUERY_FOLDER in parts:
            at = parts.index(links.QUERY_FOLDER)
            query = "?" + parts[at + 1].replace(",", "&")
            parts = parts[:at] + parts[at + 2 :]
        path = "/" + "/".join(parts)
        path = path.removesuffix("index.html")
        out.append((path + query, rel))
    return out


_ATTR = re.compile(r'\b(href|src|action)="[^"]*"')


def without_links(page: str) -> str:
    """The page with the values of its link attributes blanked: what an export may change, and nothing else."""
    return _ATTR.sub(r'\1=""', page)


def test_links_point_into_the_export_or_to_the_live_application(site: list[Advisory], tmp_path: Path) -> None:
    root = tmp_path / "out"
    export_site(root=root)
    page = (root / "zh-hans" / "advisories" / site[0].advisory_id / "index.html").read_text()
    hrefs = [html.unescape(v) for v in re.findall(r'\b(?:href|src)="([^"]*)"', page)]
    actions = [html.unescape(v) for v in re.findall(r'\baction="([^"]*)"', page)]
    assert f"{APP_URL}/zh-hans/report/" in hrefs and f"{APP_URL}/zh-hans/subscribe/" in hrefs
    assert actions and all(a.startswith(f"{APP_URL}/zh-hans/advisories/{site[0].advisory_id}/") for a in actions)
    for href in hrefs:
        if href.startswith(APP_URL):
            assert links.static_view(href[len(APP_URL) :].partition("?")[0].partition("#")[0]) is None or "?" in href
        elif href.startswith("/"):
            assert (root / href.lstrip("/").partition("#")[0]).exists() or (
                root / href.lstrip("/").partition("#")[0] / "index.html"
            ).exists(), href
        else:
            assert href.startswith(("#", "mailto:", "https://downloads.example.com/")), href
        assert "psirt.test/" not in href or href.startswith(APP_URL)


def test_an_advisory_id_with_path_tricks_stays_on_the_live_site(site: list[Advisory], tmp_path: Path) -> None:
    Advisory.objects.filter(pk=site[1].pk).update(advisory_id="..")
    Advisory.objects.filter(pk=site[2].pk).update(advisory_id=".htaccess")
    root = tmp_path / "out"
    summary = export_site(root=root)
    assert not summary.failed
    assert not (tmp_path / "index.html").exists() and not (root / "en" / "index.html.tmp").exists()
    listing = (root / "en" / "advisories" / "index.html").read_text()
    assert f'href="{APP_URL}/en/advisories/.htaccess/"' in listing
    assert not list(root.rglob(".htaccess*"))


# -- refusals -----------------------------------------------------------------------------------------------


def test_a_file_a_non_empty_folder_and_a_missing_export_are_refused(site: list[Advisory], tmp_path: Path) -> None:
    afile = tmp_path / "file"
    afile.write_text("keep")
    with pytest.raises(CommandError, match="not a folder"):
        call_command("export_site", str(afile))
    assert afile.read_text() == "keep"
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("keep")
    with pytest.raises(CommandError, match="not empty"):
        call_command("export_site", str(busy))
    with pytest.raises(CommandError, match="no earlier export"):
        call_command("export_site", str(busy), "--changed-since", "2026-01-01")
    with pytest.raises(CommandError, match="is not a time"):
        call_command("export_site", str(busy), "--changed-since", "<script>yesterday")
    call_command("export_site", str(busy), "--force")
    assert (busy / "mine.txt").read_text() == "keep"  # --force replaces the export, not the operator's files
    assert (busy / "en" / "index.html").is_file()


def test_force_removes_what_the_earlier_export_wrote_and_is_gone(
    site: list[Advisory], tmp_path: Path, lead: User, committed: Callable[..., Any]
) -> None:
    root = tmp_path / "out"
    export_site(root=root)
    gone = site[2]
    Advisory.objects.filter(pk=gone.pk).update(state="draft")  # as if it had never been public
    summary = export_site(root=root, force=True)
    assert summary.removed >= 2
    assert not (root / "en" / "advisories" / gone.advisory_id).exists()
    assert (root / "en" / "advisories" / site[0].advisory_id / "index.html").is_file()


# -- incremental --------------------------------------------------------------------------------------------


def test_after_one_publication_only_the_pages_showing_it_are_rewritten(
    site: list[Advisory],
    tmp_path: Path,
    product: Product,
    releases: dict[str, FirmwareRelease],
    lead: User,
    handler: User,
    committed: Callable[..., Any],
) -> None:
    root = tmp_path / "out"
    export_site(root=root)
    before = _files(root)
    since = timezone.now()
    new = publish_new(
        product=product, releases=releases, lead=lead, handler=handler, committed=committed, title="Weak TLS"
    )
    call_command("export_site", str(root), "--changed-since", since.isoformat())
    after = _files(root)
    changed = {name for name in after if before.get(name) != after[name]}
    for lang in ("en", "zh-hans"):
        assert f"{lang}/advisories/{new.advisory_id}/index.html" in changed
        assert f"{lang}/advisories/index.html" in changed
        assert f"{lang}/index.html" in changed
        assert f"{lang}/updates/{product.slug}/index.html" in changed
        for old in site:  # their pages do not show the new advisory
            assert f"{lang}/advisories/{old.advisory_id}/index.html" not in changed
        assert f"{lang}/policy/index.html" not in changed
    assert f"advisories/{new.advisory_id}/csaf.json" in changed
    assert "feeds/advisories.atom" in changed
    assert ".well-known/csaf/white/changes.csv" in changed
    assert ".well-known/security.txt" not in changed and "static/psirt/css/psirt.css" not in changed
    # The result equals a full export made now.
    full = tmp_path / "full"
    export_site(root=full)
    assert set(_files(full)) == set(after)
    for name in after:
        if not name.startswith(".well-known/security.txt"):
            assert (full / name).read_bytes() == (root / name).read_bytes(), name


def test_a_revision_rewrites_its_page_and_not_the_others(
    site: list[Advisory], tmp_path: Path, lead: User, committed: Callable[..., Any]
) -> None:
    root = tmp_path / "out"
    export_site(root=root)
    before = _files(root)
    since = timezone.now()
    committed(services.withdraw_advisory, advisory=site[1], actor=lead, reason="Duplicate.")
    export_site(root=root, changed_since=since)
    after = _files(root)
    changed = {name for name in after if before.get(name) != after[name]}
    assert f"en/advisories/{site[1].advisory_id}/index.html" in changed
    assert f"en/advisories/{site[0].advisory_id}/index.html" not in changed
    assert f"en/advisories/{site[2].advisory_id}/index.html" not in changed
    assert "Withdrawn" in (root / "en" / "advisories" / site[1].advisory_id / "index.html").read_text()


def test_publication_queues_the_refresh_when_a_folder_is_configured(
    site: list[Advisory],
    tmp_path: Path,
    settings: Any,
    product: Product,
    releases: dict[str, FirmwareRelease],
    lead: User,
    handler: User,
    committed: Callable[..., Any],
) -> None:
    settings.PSIRT_STATIC_EXPORT_DIR = tmp_path / "static-site"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    new = publish_new(product=product, releases=releases, lead=lead, handler=handler, committed=committed, title="X")
    assert (tmp_path / "static-site" / "en" / "advisories" / new.advisory_id / "index.html").is_file()


def test_static_assets_keep_their_hashed_names(site: list[Advisory], tmp_path: Path, settings: Any) -> None:
    settings.STATIC_ROOT = tmp_path / "collected"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", "-v", "0")
    root = tmp_path / "out"
    export_site(root=root)
    css = [p.name for p in (root / "static" / "psirt" / "css").iterdir()]
    assert len(css) == 1 and re.fullmatch(r"psirt\.[0-9a-f]{12}\.css", css[0]), css
    assert f'href="/static/psirt/css/{css[0]}"' in (root / "en" / "index.html").read_text()
    assert (root / "static" / "psirt" / "css" / css[0]).read_bytes() == (
        tmp_path / "collected" / "psirt" / "css" / css[0]
    ).read_bytes()


def test_the_worker_keeps_the_folder_current_and_renders_all_after_a_site_change(
    site: list[Advisory], tmp_path: Path, settings: Any
) -> None:
    folder = tmp_path / "static-site"
    settings.PSIRT_STATIC_EXPORT_DIR = None
    assert refresh_static_export.call() == {}  # no folder configured: nothing
    settings.PSIRT_STATIC_EXPORT_DIR = folder
    first = refresh_static_export.call()
    assert first["written"] > 20 and (folder / "en" / "policy" / "index.html").is_file()
    assert refresh_static_export.call()["written"] == 0  # nothing changed since: no page is rewritten
    profile = OrganizationProfile.get()
    profile.name_en = "Renamed Devices"
    profile.save()  # the site generation moves: every page shows the name
    refresh_static_export.call()
    assert "Renamed Devices" in (folder / "en" / "policy" / "index.html").read_text()
    assert "Renamed Devices" in (folder / "en" / "advisories" / site[0].advisory_id / "index.html").read_text()
