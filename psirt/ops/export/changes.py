"""Which URLs an export starts from, and which pages show an advisory that changed.

After an advisory is published, revised, withdrawn or taken off the site these pages show it, and only these are
rendered again:

* its own page in both languages, its CSAF document and CVE records, the CSAF provider files written since;
* the home page (latest advisories), the acknowledgments, the software updates overview, the pages of the
  products it names and of their public releases (each lists the advisories it fixes), the full feed and its
  product lines' feeds (both languages);
* the exported pages of the lists that hold it: unfiltered, filtered by each of its product lines and by its
  year. Every list page shows the list's count and number of pages, so an advisory that enters or leaves a list
  changes every page of it: that is why the lists that grow are exported for their first pages only
  (`links.LIST_PAGES`), and a new advisory rewrites a bounded set of pages however many advisories the site holds.
  A revision or a withdrawal moves nothing, so only the one page that holds it changes.

An advisory taken off the site (no longer published nor withdrawn) loses its files.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from psirt.advisories import queries
from psirt.advisories.csaf import provider
from psirt.advisories.models import PUBLIC_STATES, Advisory
from psirt.advisories.queries import ListFilters
from psirt.catalog.models import FirmwareRelease, ProductLine
from psirt.formats.csaf import csaf_filename
from psirt.ops.export import links
from psirt.pages.models import STANDALONE_PAGES

FEED_LANG = "zh-hans"  # the feeds' ?lang= value for Chinese, as the pages link them


def languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _in(lang: str, name: str, *args: str) -> str:
    with override(lang):
        return reverse(name, args=list(args))


def _feeds(lines: Iterable[str]) -> list[str]:
    urls = [reverse("advisories_feed")] + [reverse("line_feed", args=[slug]) for slug in lines]
    return [u for url in urls for u in (url, f"{url}?lang={FEED_LANG}")]


def _csaf_files(since: dt.datetime | None = None) -> list[str]:
    """The provider tree's files (changed since `since`) as URLs, and the folder listings that hold them."""
    root = provider.provider_root()
    base = reverse("csaf_provider")
    if not root.is_dir():
        return []
    urls: set[str] = set()
    cutoff = since.timestamp() if since is not None else None
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in rel.split("/")) or not path.is_file() or path.is_symlink():
            continue
        if cutoff is not None and path.stat().st_mtime < cutoff:
            continue
        urls.add(base + rel)
        folder = rel.rpartition("/")[0]
        while folder:
            urls.add(f"{base}{folder}/")
            folder = folder.rpartition("/")[0]
    if urls:
        urls.add(base)
    return sorted(urls)


def entry_urls() -> list[str]:
    """Where a full export starts: the home pages and everything no page links to (list filters by product line
    and year, the feeds, security.txt, the team's key, the CSAF provider tree), and every public advisory, so
    none depends on the list's pagination to be found."""
    line_slugs = list(ProductLine.objects.order_by("position", "slug").values_list("slug", flat=True))
    years = queries.filter_choices()["years"]
    urls: list[str] = []
    for lang in languages():
        urls.append(_in(lang, "pages:home"))
        urls += [_in(lang, f"pages:{slug}") for slug in STANDALONE_PAGES]
        urls.append(_in(lang, "catalog:updates"))
        listing = _in(lang, "advisories:list")
        urls.append(listing)
        urls += [f"{listing}?{urlencode({'line': slug})}" for slug in line_slugs]
        urls += [f"{listing}?{urlencode({'year': year})}" for year in years]
    urls += _feeds(line_slugs)
    urls += [reverse("security_txt"), reverse("security_team_key")]
    urls += _csaf_files()
    ids = queries.public_advisories().order_by("-published_at").values_list("advisory_id", flat=True)
    for advisory_id in ids.iterator(chunk_size=2000):
        urls += [_in(lang, "advisories:detail", advisory_id) for lang in languages()]
    return urls


def _list_pages(listing: str, params: dict[str, str], ids: list[str], changed: str, moved: bool) -> Iterator[str]:
    """The exported list pages (with `params`) that show `changed`: when it entered or left the list (`moved`),
    every exported page of it, else the page that holds it."""
    per_page = queries.PER_PAGE
    last = max(1, math.ceil(len(ids) / per_page))
    if moved:
        pages = range(1, last + 1)
    elif changed in ids:
        pages = range(ids.index(changed) // per_page + 1, ids.index(changed) // per_page + 2)
    else:
        return
    for page in pages:
        query = {**params, "page": str(page)}
        if not links.list_page_exported(list(query.items())):
            break
        yield f"{listing}?{urlencode(query)}"
        if page == 1:
            yield f"{listing}?{urlencode(params)}" if params else listing


def _file(url: str) -> str | None:
    try:
        return links.target(url).file
    except (links.UnsafeUrl, UnicodeDecodeError):
        return None


def _ids(filters: ListFilters) -> list[str]:
    qs = queries.filtered_advisories(filters).prefetch_related(None)
    return list(qs.values_list("advisory_id", flat=True))


def _detail_links(advisory_id: str) -> list[str]:
    return [_in(lang, "advisories:detail", advisory_id) for lang in languages()]


def _pages_linking(root: Path | None, on_disk: set[str], hrefs: dict[str, list[str]]) -> dict[str, list[str]]:
    """For each advisory ID, the URLs of the exported product lines' lists and product and release pages whose
    file links to one of its `hrefs` (exported links): what showed it before it changed, such as the list of a
    product line it no longer names. One pass over those files (a few per product), however many changed."""
    found: dict[str, list[str]] = {advisory_id: [] for advisory_id in hrefs}
    if root is None or not hrefs:
        return found
    prefixes = tuple(
        prefix
        for lang in languages()
        for prefix in (
            _in(lang, "catalog:updates").lstrip("/"),
            f"{_in(lang, 'advisories:list').lstrip('/')}{links.QUERY_FOLDER}/line=",
        )
    )
    needles = {advisory_id: [f'href="{h}"'.encode() for h in links_] for advisory_id, links_ in hrefs.items()}
    for name in sorted(on_disk):
        if not name.startswith(prefixes) or not name.endswith(links.INDEX_NAME):
            continue
        try:
            body = (root / name).read_bytes()
        except OSError:
            continue
        for advisory_id, wanted in needles.items():
            if any(needle in body for needle in wanted):
                found[advisory_id].append(links.url_of(name))
    return found


def _other_list(url: str) -> tuple[str, dict[str, str]]:
    path, _sep, query = url.partition("?")
    params = {k: v for k, v in parse_qsl(query) if k != "page"}
    return path, params


def urls_showing_changes(*, since: dt.datetime, on_disk: set[str], root: Path | None = None) -> list[str]:
    """The URLs to render again for the advisories changed at or after `since` (see the module docstring).
    `on_disk` (the files of the earlier export, in `root`) tells a new advisory from a changed one, and which
    pages showed it before."""
    changed = list(
        Advisory.objects.filter(updated_at__gte=since, published_at__isnull=False)
        .order_by("-published_at")
        .prefetch_related(
            "affected__product__line",
            Prefetch(
                "affected__product__releases",
                queryset=FirmwareRelease.objects.filter(is_public=True).order_by("pk"),
                to_attr="public_releases",
            ),
        )
    )
    urls: list[str] = []
    id_lists: dict[tuple[tuple[str, str], ...], list[str]] = {}

    def list_pages(listing: str, params: dict[str, str], advisory_id: str, moved: bool) -> list[str]:
        key = tuple(sorted(params.items()))
        if key not in id_lists:
            id_lists[key] = _ids(ListFilters.from_params(params))
        return [
            url
            for url in _list_pages(listing, params, id_lists[key], advisory_id, moved)
            if not url.endswith("page=1") or _file(url) in on_disk
        ]

    before = _pages_linking(
        root,
        on_disk,
        {a.advisory_id: [t.link for t in map(_target, _detail_links(a.advisory_id)) if t is not None] for a in changed},
    )
    for advisory in changed:
        public = advisory.state in PUBLIC_STATES
        detail_files = {_file(url) for url in _detail_links(advisory.advisory_id)}
        was_exported = bool(detail_files & on_disk)
        if not public and not was_exported:
            continue  # a draft that was never on the static site
        products = {row.product for row in advisory.affected.all() if row.product.is_public}
        lines = sorted({product.line.slug for product in products})
        variants: list[dict[str, str]] = [{}, *({"line": slug} for slug in lines)]
        assert advisory.published_at is not None
        variants.append({"year": str(timezone.localtime(advisory.published_at).year)})
        # Entered or left the lists (published, or taken off the site): every exported page of them changes.
        moved = public != was_exported
        for lang in languages():
            if public:
                urls.append(_in(lang, "advisories:detail", advisory.advisory_id))
            urls += [_in(lang, "pages:home"), _in(lang, "pages:acknowledgments"), _in(lang, "catalog:updates")]
            for product in sorted(products, key=lambda p: p.slug):
                urls.append(_in(lang, "catalog:product", product.slug))
                # Each release page lists the advisories the release fixes: all of them, since a revision may
                # have moved the fix from one release to another.
                releases: list[FirmwareRelease] = getattr(product, "public_releases", [])
                urls += [_in(lang, "catalog:release", product.slug, str(r.public_id)) for r in releases]
            listing = _in(lang, "advisories:list")
            for params in variants:
                urls += list_pages(listing, params, advisory.advisory_id, moved)
        # Pages that showed it before and may not any more: the lists of product lines and the product and release
        # pages it no longer names (a revision changed its products), or all of them when it left the site.
        for url in before.get(advisory.advisory_id, []):
            path, params = _other_list(url)
            if set(params) == {"line"} and params not in variants:
                urls += list_pages(path, params, advisory.advisory_id, True)
                urls += _feeds([params["line"]])
            elif not params:
                urls.append(url)
        if public:
            csaf = reverse("advisory_csaf", args=[advisory.advisory_id])
            urls.append(csaf)
            urls += [reverse("advisory_cve", args=[advisory.advisory_id, cve]) for cve in advisory.cve_ids]
            # And every other file of its own on disk (the translation's CSAF document, a CVE record).
            folder = csaf.lstrip("/").rpartition("/")[0] + "/"
            urls += [links.url_of(name) for name in on_disk if name.startswith(folder)]
        urls += _feeds(lines)
    # Every tree file written since, whatever wrote it: also the documents written after the commit of a change an
    # earlier export already saw (the tree is written after the commit, the export may have started before).
    tree = _csaf_files(since)
    urls += tree + _csaf_copies(tree, on_disk)
    return list(dict.fromkeys(urls))


def _csaf_copies(tree_urls: list[str], on_disk: set[str]) -> list[str]:
    """The exported files of `/advisories/ID/csaf.json` (either language) whose document in the tree is among
    `tree_urls`: the application serves them from the tree."""
    names = {url.rpartition("/")[2] for url in tree_urls if url.endswith(".json")}
    if not names:
        return []
    prefix = reverse("advisory_csaf", args=["ID"]).lstrip("/").partition("ID")[0]
    return [
        links.url_of(name)
        for name in sorted(on_disk)
        if name.startswith(prefix) and name.endswith("/csaf.json") and csaf_filename(name.split("/")[1]) in names
    ]


def _target(url: str) -> links.Target | None:
    try:
        return links.target(url)
    except (links.UnsafeUrl, UnicodeDecodeError):
        return None


def files_of_removed(*, since: dt.datetime, on_disk: set[str]) -> set[str]:
    """The exported files of the advisories taken off the site (no longer public) since `since`: their pages in
    both languages, CSAF documents and CVE records."""
    gone = Advisory.objects.filter(updated_at__gte=since).exclude(state__in=PUBLIC_STATES)
    prefixes: list[str] = []
    for advisory_id in gone.values_list("advisory_id", flat=True):
        for url in [*_detail_links(advisory_id), reverse("advisory_csaf", args=[advisory_id])]:
            target = _target(url)
            if target is not None:
                prefixes.append(target.file.rpartition("/")[0] + "/")
    if not prefixes:
        return set()
    removed = {name for name in on_disk if name.startswith(tuple(prefixes))}
    # Its documents left the CSAF provider tree too: the exported copies of files the tree no longer holds.
    tree = provider.provider_root()
    base = reverse("csaf_provider").lstrip("/")
    for name in on_disk:
        listing = name.endswith(links.INDEX_NAME)
        if name.startswith(base) and not listing and not (tree / name[len(base) :]).is_file():
            removed.add(name)
    return removed
