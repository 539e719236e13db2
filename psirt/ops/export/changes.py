"""Which URLs an export starts from, and which pages show an advisory that changed.

After an advisory is published, revised or withdrawn these pages show it, and only these are rendered again:

* its own page in both languages, its CSAF document and CVE records, the CSAF provider files written since;
* the home page (latest advisories), the acknowledgments, the software updates overview, the pages of the
  products it names and of their public releases (each lists the advisories it fixes), the full feed and its
  product lines' feeds (both languages);
* the list pages that hold it, unfiltered and filtered by each of its product lines and by its year. The list is
  newest first: an advisory that is new to the export pushes every later one down a place, so the page that holds
  it and every page after it change (at 10,000 advisories a new one rewrites all 500 unfiltered list pages of each
  language); a revision or a withdrawal moves nothing, so only the one page that holds it changes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from psirt.advisories import queries
from psirt.advisories.csaf import provider
from psirt.advisories.models import Advisory
from psirt.advisories.queries import ListFilters
from psirt.catalog.models import FirmwareRelease, ProductLine
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


def _list_pages(listing: str, params: dict[str, str], ids: list[str], changed: Advisory, new: bool) -> Iterator[str]:
    """The list pages (with `params`) that show `changed`: its page, and when it is new every page after it."""
    try:
        position = ids.index(changed.advisory_id)
    except ValueError:
        return
    per_page = queries.PER_PAGE
    last = max(1, math.ceil(len(ids) / per_page))
    first = position // per_page + 1
    for page in range(first, (last if new else first) + 1):
        query = urlencode({**params, "page": str(page)})
        yield f"{listing}?{query}"
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


def urls_showing_changes(*, since: dt.datetime, on_disk: set[str]) -> list[str]:
    """The URLs to render again for the public advisories changed at or after `since` (see the module
    docstring). `on_disk` (the files of the earlier export) tells a new advisory from a changed one."""
    changed = list(
        queries.public_advisories()
        .filter(updated_at__gte=since)
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
    for advisory in changed:
        products = {row.product for row in advisory.affected.all() if row.product.is_public}
        lines = sorted({product.line.slug for product in products})
        variants: list[dict[str, str]] = [{}, *({"line": slug} for slug in lines)]
        if advisory.published_at is not None:
            variants.append({"year": str(timezone.localtime(advisory.published_at).year)})
        for lang in languages():
            detail = _in(lang, "advisories:detail", advisory.advisory_id)
            new = _file(detail) not in on_disk
            urls.append(detail)
            urls += [_in(lang, "pages:home"), _in(lang, "pages:acknowledgments"), _in(lang, "catalog:updates")]
            for product in sorted(products, key=lambda p: p.slug):
                urls.append(_in(lang, "catalog:product", product.slug))
                # Each release page lists the advisories the release fixes: all of them, since a revision may
                # have moved the fix from one release to another.
                releases: list[FirmwareRelease] = getattr(product, "public_releases", [])
                urls += [_in(lang, "catalog:release", product.slug, str(r.public_id)) for r in releases]
            listing = _in(lang, "advisories:list")
            for params in variants:
                key = tuple(sorted(params.items()))
                if key not in id_lists:
                    id_lists[key] = _ids(ListFilters.from_params(params))
                urls += [
                    url
                    for url in _list_pages(listing, params, id_lists[key], advisory, new)
                    if not url.endswith("page=1") or _file(url) in on_disk
                ]
        urls.append(reverse("advisory_csaf", args=[advisory.advisory_id]))
        urls += [reverse("advisory_cve", args=[advisory.advisory_id, cve]) for cve in advisory.cve_ids]
        urls += _feeds(lines)
    if changed:
        urls += _csaf_files(since)
    return list(dict.fromkeys(urls))
