"""The exported advisory lists stay bounded: the lists that grow (all advisories, a product line's, the current
year's) are written for their first pages only and a closed year's in full, so a new advisory rewrites a fixed
number of pages; and every change to a public advisory (publication, withdrawal, a change of product line, being
taken off the site) reaches the export at once, with the same result as a full export made then."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from psirt.accounts.models import User
from psirt.advisories import queries, services
from psirt.advisories.models import Advisory, AdvisoryState
from psirt.catalog.models import FirmwareRelease, Product
from psirt.ops.export import UnsafeUrl, export_site, links, target
from psirt.ops.tasks import refresh_static_export
from psirt.ops.tests.conftest import APP_URL, make_case, publish_new
from psirt.tests.factories import make_line, make_product

pytestmark = pytest.mark.django_db


def _files(root: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(root).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".psirt-export")
    }


def _same_as_a_full_export(root: Path, tmp_path: Path) -> None:
    """The folder holds exactly what a full export made now writes, byte for byte."""
    full = tmp_path / "full"
    export_site(root=full)
    assert set(_files(full)) == set(_files(root))
    for name in _files(full):
        assert (full / name).read_bytes() == (root / name).read_bytes(), name


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """One advisory per list page and one exported page per growing list: the bounds of a large site, small."""
    monkeypatch.setattr(queries, "PER_PAGE", 1)
    monkeypatch.setattr(links, "LIST_PAGES", 1)


def test_later_pages_of_a_growing_list_are_dynamic_and_a_closed_years_list_is_static(db: None) -> None:
    year = timezone.localdate().year
    assert target(f"/en/advisories/?page={links.LIST_PAGES}").file.endswith(f"page={links.LIST_PAGES}/index.html")
    for url in (
        f"/en/advisories/?page={links.LIST_PAGES + 1}",
        f"/zh-hans/advisories/?line=cameras&page={links.LIST_PAGES + 1}",
        f"/en/advisories/?year={year}&page={links.LIST_PAGES + 1}",
        f"/en/advisories/?page={'9' * 60}",
    ):
        with pytest.raises(UnsafeUrl):
            target(url)
    closed = target(f"/en/advisories/?year={year - 1}&page=400")
    assert closed.file == f"en/advisories/_q/year={year - 1},page=400/index.html"
    assert links.list_page_exported([("year", "2030"), ("page", "9")], year_now=2031)
    assert not links.list_page_exported([("year", "2031"), ("page", "9")], year_now=2031)


@pytest.mark.parametrize(
    "url",
    ["/en/", "/zh-hans/advisories/?line=cameras&page=2", "/.well-known/csaf/white/2026/", "/feeds/advisories.atom"],
)
def test_a_file_maps_back_to_its_url(db: None, url: str) -> None:
    assert links.url_of(target(url).file) == url


def test_a_new_advisory_rewrites_only_the_first_pages_of_the_lists_it_enters(
    site: list[Advisory],
    small_pages: None,
    tmp_path: Path,
    product: Product,
    releases: dict[str, FirmwareRelease],
    lead: User,
    handler: User,
    committed: Callable[..., Any],
) -> None:
    # Two advisories in last year: its list (two pages) is an archive that no new advisory enters.
    last_year = timezone.localtime().replace(year=timezone.localdate().year - 1, month=6, day=1)
    for n, advisory in enumerate(site[:2]):
        Advisory.objects.filter(pk=advisory.pk).update(published_at=last_year + dt.timedelta(days=n))
    root = tmp_path / "out"
    export_site(root=root)
    written = set(_files(root))
    this_year, closed = timezone.localdate().year, last_year.year
    for lang in ("en", "zh-hans"):
        assert f"{lang}/advisories/_q/page=2/index.html" not in written  # beyond the first page of a growing list
        assert f"{lang}/advisories/_q/year={closed},page=2/index.html" in written  # a closed year: in full
        listing = (root / lang / "advisories" / "index.html").read_text()
        assert f'href="{APP_URL}/{lang}/advisories/?page=2"' in listing
    before = _files(root)
    since = timezone.now()
    new = publish_new(product=product, releases=releases, lead=lead, handler=handler, committed=committed, title="N")
    summary = export_site(root=root, changed_since=since)
    after = _files(root)
    changed_lists = {n for n in after if "/advisories/" in n and "_q" in n.split("/") and before.get(n) != after[n]}
    changed_lists |= {n for n in after if n.endswith("/advisories/index.html") and before.get(n) != after[n]}
    expected = set()
    for lang in ("en", "zh-hans"):
        expected |= {
            f"{lang}/advisories/index.html",
            f"{lang}/advisories/_q/line={product.line.slug}/index.html",
            f"{lang}/advisories/_q/year={this_year}/index.html",
        }
    assert changed_lists == expected
    assert f"en/advisories/{new.advisory_id}/index.html" in after
    assert summary.pages < 60
    _same_as_a_full_export(root, tmp_path)


def test_a_withdrawal_reaches_the_export_at_once(
    site: list[Advisory], tmp_path: Path, settings: Any, lead: User, committed: Callable[..., Any]
) -> None:
    folder = tmp_path / "static-site"
    settings.PSIRT_STATIC_EXPORT_DIR = folder
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    export_site(root=folder)
    page = folder / "en" / "advisories" / site[1].advisory_id / "index.html"
    assert "Withdrawn" not in page.read_text()
    committed(services.withdraw_advisory, advisory=site[1], actor=lead, reason="Duplicate.")
    assert "Withdrawn" in page.read_text()  # the worker's task ran on the commit, no periodic run
    # The CSAF tree is written after the commit too, here after the (immediate) export: the next run takes it.
    refresh_static_export.call()
    _same_as_a_full_export(folder, tmp_path)


def test_a_draft_saved_queues_nothing(
    site: list[Advisory],
    tmp_path: Path,
    settings: Any,
    product: Product,
    lead: User,
    handler: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    folder = tmp_path / "static-site"
    settings.PSIRT_STATIC_EXPORT_DIR = folder
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    case = make_case(product=product, disclosure_date=timezone.localdate(), assignee=handler, title="Draft")
    with django_capture_on_commit_callbacks(execute=True):
        advisory = services.create_advisory(cases=[case], actor=lead)
        services.update_advisory(advisory=advisory, actor=lead, changes={"summary_en": "Still a draft."})
    assert not folder.exists()  # no export was queued: nothing public changed


def test_an_advisory_taken_off_the_site_loses_its_files(site: list[Advisory], tmp_path: Path) -> None:
    root = tmp_path / "out"
    export_site(root=root)
    gone = site[1]
    assert (root / "en" / "advisories" / gone.advisory_id / "index.html").is_file()
    since = timezone.now()
    gone.state = AdvisoryState.DRAFT  # e.g. through the admin
    gone.save()
    summary = export_site(root=root, changed_since=since)
    assert summary.removed >= 3
    for lang in ("en", "zh-hans"):
        assert not (root / lang / "advisories" / gone.advisory_id).exists()
        assert gone.advisory_id not in (root / lang / "advisories" / "index.html").read_text()
    assert not (root / "advisories" / gone.advisory_id).exists()
    _same_as_a_full_export(root, tmp_path)


def test_a_revision_that_moves_an_advisory_to_another_line_rewrites_both_lines_lists(
    site: list[Advisory], tmp_path: Path, product: Product
) -> None:
    recorders = make_product(make_line("recorders", name_en="Recorders"), "nvr-n4", name="NVR N4")
    root = tmp_path / "out"
    export_site(root=root)
    old_line = root / "en" / "advisories" / "_q" / f"line={product.line.slug}" / "index.html"
    assert site[1].advisory_id in old_line.read_text()
    since = timezone.now()
    site[1].affected.update(product=recorders)
    site[1].save()  # as a revision does: the advisory is saved with its new rows
    export_site(root=root, changed_since=since)
    assert site[1].advisory_id not in old_line.read_text()
    new_line = root / "en" / "advisories" / "_q" / "line=recorders" / "index.html"
    assert site[1].advisory_id in new_line.read_text()
    _same_as_a_full_export(root, tmp_path)


def test_one_refresh_per_transaction_however_many_advisories_it_saves(
    site: list[Advisory], tmp_path: Path, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PSIRT_STATIC_EXPORT_DIR = tmp_path / "static-site"
    with django_capture_on_commit_callbacks() as callbacks:
        for advisory in site:
            advisory.save()
    assert len(callbacks) == 1
    settings.PSIRT_STATIC_EXPORT_DIR = None
    with django_capture_on_commit_callbacks() as callbacks:
        site[0].save()
    assert callbacks == []  # no folder configured: nothing queued
