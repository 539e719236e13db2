"""Read-only views of published advisories for the public pages, the API and other apps.

Only published and withdrawn advisories appear here; drafts never do. Every function runs a fixed number of
queries whatever the number of advisories (the list is paginated in the database)."""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from psirt.advisories.models import (
    PUBLIC_STATES,
    Advisory,
    AdvisoryState,
    AffectedProduct,
    Revision,
)
from psirt.cases.models import Exploitation
from psirt.catalog.models import FirmwareRelease, Product, ProductLine
from psirt.intake.advisory_links import PublishedAdvisory
from psirt.intake.models import Report
from psirt.lib.kept import Kept
from psirt.lib.prepared import PreparedSelect, first_row
from psirt.lib.search import clean_query
from psirt.lib.severity import Severity, rank
from psirt.pages import generation

T = TypeVar("T")

PER_PAGE = 20
# A text search or a product filter first reads the keys of its matches, at most this many plus one (one scan of the
# search column, which stops early for a common term; a product's few advisories looked up by key). At most this many:
# they are the exact count, and the page is read by those keys (no second scan of the search column: ~2 ms at 10,000
# advisories on SQLite; no walk of the whole list in sort order probing each advisory for the product: ~1 ms). More:
# the matches are counted and the page read by the statements of a search with many matches (see _matching).
FEW_MATCHES = 100
# The page-by-keys statement binds this many keys (the unused places repeat a key): FEW_MATCHES is never above it.
_KEY_PLACES = FEW_MATCHES
# The trigram index of the search column (SQLite, migration 0013; kept by triggers on every write): a search text of
# SEARCH_INDEX_MIN characters or more first asks it which rows hold its trigrams, and is then matched on those rows
# alone. Shorter texts, and databases without it, match the column on every row.
SEARCH_INDEX = "advisory_search"
SEARCH_INDEX_MIN = 3
RANGE_TERMS_MAX = 50
# Past this many public products, the list's product filter offers one product line's products at a time.
LIST_PRODUCTS_MAX = 200
SORTS = {
    "newest": ("-published_at", "-id"),
    "oldest": ("published_at", "id"),
    "severity": ("-score", "-published_at", "-id"),
    "id": ("-year", "-number"),
}


def public_advisories() -> QuerySet[Advisory]:
    # "listed IN (true)", not "listed = true": for a boolean the ORM writes a bare `WHERE listed` on SQLite, which
    # its planner does not match with the indexes on (listed, …); an IN list of one value it does.
    return Advisory.objects.filter(listed__in=[True])


@dataclass
class ListFilters:
    """The list's filters as typed in the URL; unknown values are dropped (and reported in `ignored`)."""

    q: str = ""
    line: str = ""
    product: str = ""
    severity: str = ""
    year: int | None = None
    exploitation: str = ""
    sort: str = "newest"
    ignored: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> ListFilters:
        """Parse GET parameters; raises QueryTooLong for an over-long search text."""
        f = cls(q=clean_query(params.get("q", "")))
        for name in ("line", "product"):
            value = params.get(name, "")
            if value and len(value) <= 80 and value.replace("-", "").isalnum() and value.isascii():
                setattr(f, name, value)
            elif value:
                f.ignored.append(name)
        severity = params.get("severity", "")
        if severity in Severity.values:
            f.severity = severity
        elif severity:
            f.ignored.append("severity")
        year = params.get("year", "")
        if year.isdigit() and len(year) == 4 and 1990 <= int(year) <= 2200:
            f.year = int(year)
        elif year:
            f.ignored.append("year")
        exploitation = params.get("exploitation", "")
        if exploitation in Exploitation.values:
            f.exploitation = exploitation
        elif exploitation:
            f.ignored.append("exploitation")
        sort = params.get("sort", "")
        if sort in SORTS:
            f.sort = sort
        elif sort:
            f.ignored.append("sort")
        return f

    @property
    def active(self) -> bool:
        return bool(self.q or self.line or self.product or self.severity or self.year or self.exploitation)


def filtered_advisories(filters: ListFilters) -> QuerySet[Advisory]:
    """Published advisories matching the filters, sorted, with their affected products prefetched."""
    rows = AffectedProduct.objects.select_related("product").order_by("product__name", "variant")
    return _matching(filters).order_by(*SORTS[filters.sort]).prefetch_related(Prefetch("affected", queryset=rows))


def _matching(filters: ListFilters, *, counting: bool = False, part: str = "") -> QuerySet[Advisory]:
    """The advisories matching `filters`; a search text matches an advisory's own texts or its products' names.
    `part` (when counting, for a search alone): "text", the advisories whose own texts match; "products", those of
    the matching products."""
    # The product conditions are uncorrelated "id IN (…)" subqueries: the database finds the few matching products
    # once, where a correlated EXISTS ran a lookup for every public advisory.
    qs = Advisory.objects.filter(listed=True) if counting else public_advisories()
    if filters.q:
        term = filters.q
        matching = Product.objects.filter(Q(name__icontains=term) | Q(model_numbers__icontains=term) | Q(slug=term))
        products = _advisories_of(AffectedProduct.objects.filter(product__in=matching.values("id")))
        own = Q(search_text__icontains=term)
        text = own | products
        if part == "text":
            qs = qs.filter(own)
        elif part == "products":
            qs = qs.filter(products)
        elif counting or filters.product or filters.line:
            # Matched on each row when counting (see list_page), and when a product or line filter, a short
            # list of advisories, drives the query: the text is then matched on those rows alone. As an
            # uncorrelated list it would be built over every advisory and probed for each candidate (SQLite: ~20 ms
            # for a common term at 10,000 advisories, against ~3).
            qs = qs.filter(text)
        else:
            # Alone, one uncorrelated "id IN (…)" over the joined texts: on SQLite it reads the partial index on
            # `search_text` once, instead of every row of the table in sort order (a rare term walked all of them).
            qs = qs.filter(id__in=Advisory.objects.filter(listed=True).filter(text).values("id"))
    if filters.product:
        qs = qs.filter(_advisories_of(AffectedProduct.objects.filter(product__slug=filters.product)))
    if filters.line:
        qs = qs.filter(_advisories_of(AffectedProduct.objects.filter(product__line__slug=filters.line)))
    if filters.severity:
        qs = qs.filter(severity=filters.severity)
    if filters.exploitation:
        qs = qs.filter(exploitation=filters.exploitation)
    if filters.year:
        start = timezone.make_aware(dt.datetime(filters.year, 1, 1))
        end = timezone.make_aware(dt.datetime(filters.year + 1, 1, 1))
        qs = qs.filter(published_at__gte=start, published_at__lt=end)
    return qs


def _through_search_index(advisories: QuerySet[Advisory], query: str) -> QuerySet[Advisory]:
    """`advisories` restricted to the rows the trigram index finds for `query` (a `search_index_query`): a superset
    of those holding the text, so the caller still matches the text on each. Joined, not "id IN (…)": the rows come
    as the index finds them, so a probe for a few keys stops early, where a list would first be built of them all."""
    table = connection.ops.quote_name(SEARCH_INDEX)
    main = connection.ops.quote_name(Advisory._meta.db_table)
    # Only quoted constant names are interpolated; the query is a parameter.
    return advisories.extra(  # noqa: S610
        tables=[SEARCH_INDEX], where=[f"{table}.rowid = {main}.id", f"{table} MATCH %s"], params=[query]
    )


def search_index_query(text: str) -> str:
    """The trigram index's query (FTS5) for the rows that may hold `text` (SEARCH_INDEX_MIN characters or more):
    trigrams laid end to end over the text, the last one ending with it, each quoted (no character is read as query
    syntax). A row holding the text holds them all; the index folds case (beyond ASCII, where LIKE does not), so it
    may name more rows than match, never fewer."""
    starts = dict.fromkeys([*range(0, len(text) - 2, 3), len(text) - 3])
    trigrams = dict.fromkeys(text[start : start + 3] for start in starts)
    return " AND ".join('"' + trigram.replace('"', '""') + '"' for trigram in trigrams)


# Whether each database (alias, name) has the trigram index: asked once, it changes only with a migration.
_SEARCH_INDEX_READY: dict[tuple[str, str], bool] = {}


def search_index_ready() -> bool:
    """Whether the database has the trigram index of the search column (SQLite with FTS5's trigram tokenizer)."""
    if connection.vendor != "sqlite":
        return False
    key = (connection.alias, str(connection.settings_dict["NAME"]))
    ready = _SEARCH_INDEX_READY.get(key)
    if ready is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [SEARCH_INDEX])
            ready = _SEARCH_INDEX_READY[key] = cursor.fetchone() is not None
    return ready


def product_names_of(advisory_ids: Sequence[int]) -> dict[int, list[str]]:
    """`Advisory.product_names` of many advisories at once (advisory pk → names, each once, in the rows' order),
    in one query of two columns: the list needs no more than the names, and loading every affected row with its
    product as model instances was a fifth of the list page's time. Plain SQL: built through the ORM, the statement
    cost more than running it."""
    if not advisory_ids:
        return {}
    ops = connection.ops
    affected, product = (ops.quote_name(m._meta.db_table) for m in (AffectedProduct, Product))
    # Only quoted table names and one placeholder per advisory are interpolated; the keys are parameters.
    sql = (
        f"SELECT a.advisory_id, p.name FROM {affected} a JOIN {product} p ON p.id = a.product_id "  # noqa: S608
        f"WHERE a.advisory_id IN ({', '.join('%s' for _pk in advisory_ids)}) ORDER BY p.name, a.variant"
    )
    names: dict[int, dict[str, None]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [int(pk) for pk in advisory_ids])
        for advisory_pk, name in cursor.fetchall():
            names.setdefault(advisory_pk, {})[name] = None
    return {pk: list(found) for pk, found in names.items()}


def _advisories_of(rows: QuerySet[AffectedProduct]) -> Q:
    return Q(id__in=rows.values("advisory_id"))


# The columns the public list shows (`psirt.advisories.views.public.list_rows`), the only ones it loads: converting
# the texts, dates and scores of the forty other columns for twenty rows cost about a sixth of the list's query and
# row building.
LIST_COLUMNS = (
    "advisory_id",
    "title_en",
    "title_zh",
    "state",
    "exploitation",
    "severity",
    "identifiers",
    "published_at",
)


@dataclass(frozen=True)
class _ListStatements:
    """The list's page and count statements for one shape of filters (which texts are given; the other filters'
    values and the order), compiled once (`psirt.lib.prepared`): building and compiling them through the ORM cost
    more than running them, a search's nested subqueries most of all."""

    texts: tuple[str, ...]
    rows: PreparedSelect[Advisory]
    count: PreparedSelect[Advisory]
    # The page of a text search or a product filter when it has FEW_MATCHES matches or fewer, read by their keys (see
    # list_page); None for shapes without either (a product line's or a year's advisories are many).
    by_keys: PreparedSelect[Advisory] | None = None
    # A search alone through the trigram index: the keys of the advisories whose own texts match (bound: the text,
    # then its `search_index_query`), and of those whose products do (bound: the text). None otherwise.
    text_keys: PreparedSelect[Advisory] | None = None
    product_keys: PreparedSelect[Advisory] | None = None


# Bounded (all dropped when full): a shape names at most a year, a severity, an exploitation status and an order.
# Statements do not age: a shape's SQL depends on the code only.
_LIST_STATEMENTS = Kept(max_entries=128, max_age=float("inf"))


def _list_statements(filters: ListFilters) -> _ListStatements:
    texts = tuple(name for name in ("q", "line", "product") if getattr(filters, name))
    # A search with a product or line filter matches the text on that short list of advisories; alone, through the
    # trigram index when the text is long enough to have a trigram.
    indexed = texts == ("q",) and len(filters.q) >= SEARCH_INDEX_MIN and search_index_ready()
    shape = (texts, indexed, filters.severity, filters.exploitation, filters.year, filters.sort)

    def compile_shape() -> _ListStatements:
        fixed = ListFilters(
            severity=filters.severity, exploitation=filters.exploitation, year=filters.year, sort=filters.sort
        )

        def shaped(*values: str) -> ListFilters:
            texts_given: dict[str, Any] = dict(zip(texts, values, strict=True))
            return replace(fixed, **texts_given)

        def page_rows(*values: str) -> QuerySet[Advisory]:
            return filtered_advisories(shaped(*values)).prefetch_related(None).only(*LIST_COLUMNS)

        kinds = [str] * len(texts)
        rows = PreparedSelect(page_rows, *kinds)
        # A search or a product or line filter is counted by a cheaper statement than the page's (see _matching):
        # counting needs no order, so the rows are not walked in sort order through the (`listed`, …) indexes; on
        # SQLite the text is matched on each row from the partial index on `search_text` where `listed`, and a
        # product or line filter's short list of advisories is looked up by key (10,000 advisories: a common term
        # ~20 ms -> ~1 ms, one product ~0.9 ms -> ~0.01 ms).
        count = PreparedSelect(lambda *v: _matching(shaped(*v), counting=True), *kinds) if texts else rows
        by_keys = None
        if "q" in texts or "product" in texts:
            # The rows of a search's or a product's few matches, found by their keys (every other filter was applied in
            # finding them), in the list's order; still listed, should one be taken off the list in between. "listed =
            # true", not public_advisories(): SQLite then reads the rows by key, where with "listed IN (true)" it
            # walked the (listed, …) index of the order over every public advisory.
            by_keys = PreparedSelect(
                lambda *keys: (
                    Advisory.objects.filter(listed=True, pk__in=keys).order_by(*SORTS[filters.sort]).only(*LIST_COLUMNS)
                ),
                *[int] * _KEY_PLACES,
            )
        text_keys = product_keys = None
        if indexed:
            text_keys = PreparedSelect(
                lambda q, query: _through_search_index(_matching(shaped(q), counting=True, part="text"), query),
                str,
                str,
            )
            product_keys = PreparedSelect(lambda q: _matching(shaped(q), counting=True, part="products"), str)
        return _ListStatements(texts, rows, count, by_keys, text_keys, product_keys)

    return _LIST_STATEMENTS.get("", shape, compile_shape)


class _PreparedPage:
    """The rows of a prepared list statement, as a Paginator slices them: one window per page."""

    def __init__(
        self,
        statements: _ListStatements,
        values: Sequence[str],
        keep: Callable[[Callable[[], int]], int] | None = None,
    ) -> None:
        self.statements = statements
        self.values = values
        self.keep = keep  # given, the count is read through it (a value kept under the list's version)
        self.counted: int | None = None
        # A search's or a product's matches when they are few (FEW_MATCHES): their keys, read instead of counting them.
        self.keys: list[int] | None = None

    def count(self) -> int:
        def afresh() -> int:
            return self.statements.count.count(*self.values)

        if self.statements.by_keys is not None and FEW_MATCHES <= _KEY_PLACES:
            keys = self._few_keys()
            if keys is not None:
                self.keys = keys
                self.counted = len(keys)
                return self.counted
        self.counted = afresh() if self.keep is None else self.keep(afresh)
        return self.counted

    def _few_keys(self) -> list[int] | None:
        """The keys of every match when there are no more than FEW_MATCHES, else None. A search alone through the
        trigram index: those whose own texts match, then (when few) those whose products do, each once."""
        statements, limit = self.statements, FEW_MATCHES + 1
        if statements.text_keys is not None and statements.product_keys is not None:
            text = self.values[0]
            keys = statements.text_keys.keys(text, search_index_query(text), limit=limit)
            if len(keys) <= FEW_MATCHES:
                keys = list(dict.fromkeys([*keys, *statements.product_keys.keys(text, limit=limit)]))
        else:
            keys = statements.count.keys(*self.values, limit=limit)
        return [int(key) for key in keys] if len(keys) <= FEW_MATCHES else None

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[Advisory]:
        start, stop = int(window.start or 0), int(window.stop)
        if stop <= start:
            return []  # as an empty slice of a queryset: no query
        if self.keys is not None and self.statements.by_keys is not None:
            if not self.keys:
                return []
            places = self.keys + [self.keys[0]] * (_KEY_PLACES - len(self.keys))
            return self.statements.by_keys.run(*places, window=(stop - start, start))
        return self.statements.rows.run(*self.values, window=(stop - start, start))


def list_page(filters: ListFilters, page: int | str, *, version: str | None = None) -> Page[Advisory]:
    """Page `page` of `filtered_advisories(filters)` (as a Paginator of PER_PAGE gives it), with only LIST_COLUMNS
    loaded and no prefetch, by statements compiled once per shape of filters; two queries: the count, then the page.
    A text search or a product filter first reads the keys of at most FEW_MATCHES + 1 matches: when there are no more
    than FEW_MATCHES, they are the count and the page is read by them (two queries, one when nothing matches); else
    the matches are counted and the page read as without it (three queries, the first stopping early). A search alone
    through the trigram index reads its keys in two queries, the advisories' own texts, then (when few) their
    products: one query more.

    `version`: the list's page-cache version, which moves with every change of the public advisories; given, the
    count of filters without a text (the whole list, a severity, a year, …: a few dozen shapes, none typed by a
    visitor) is read once per process for each version (`generation.kept`), and the page is one query."""
    statements = _list_statements(filters)
    keep = None
    if version is not None and not statements.texts:
        keep = functools.partial(
            generation.kept, version, ("list-count", filters.severity, filters.exploitation, filters.year)
        )
    rows = _PreparedPage(statements, [getattr(filters, name) for name in statements.texts], keep)
    return Paginator(rows, PER_PAGE).get_page(page)  # type: ignore[arg-type]  # sliced and counted as a queryset


def _publication_span() -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first and the last publication date of a public advisory: two indexed probes per public state
    ((state, published_at) index, LIMIT 1), where MIN()/MAX() over "state IN (…)" reads every public row."""
    table = connection.ops.quote_name(Advisory._meta.db_table)
    probes, params = [], []
    for state in PUBLIC_STATES:
        for direction in ("ASC", "DESC"):
            probes.append(
                # Only the quoted table name and a constant are interpolated; values are parameters.
                f"(SELECT published_at FROM {table} WHERE state = %s AND published_at IS NOT NULL "  # noqa: S608
                f"ORDER BY published_at {direction} LIMIT 1)"
            )
            params.append(str(state))
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(probes), params)
        found = [d for d in (as_datetime(v) for v in cursor.fetchone()) if d is not None]
    return (min(found), max(found)) if found else (None, None)


def filter_choices(*, line: str = "", product: str = "") -> dict[str, Any]:
    """Product lines, public products and years for the filter form (three cheap queries: plain values, and
    the years from the first and last publication instead of a per-row date truncation).

    With more than LIST_PRODUCTS_MAX public products and no line chosen, the products are not listed (only the
    chosen one, if any: a fourth query): a thousand options would be most of every list page's weight. The
    form then asks for a line first; `products_need_line` says so."""
    products = Product.objects.filter(is_public=True).order_by("name")
    if line:
        pairs = list(products.filter(line__slug=line).values_list("slug", "name"))
        need_line = False
    else:
        pairs = list(products.values_list("slug", "name")[: LIST_PRODUCTS_MAX + 1])
        need_line = len(pairs) > LIST_PRODUCTS_MAX
        if need_line:
            pairs = list(products.filter(slug=product).values_list("slug", "name")) if product else []
    first, last = _publication_span()
    years = list(range(timezone.localtime(last).year, timezone.localtime(first).year - 1, -1)) if first and last else []
    return {
        "lines": list(ProductLine.objects.order_by("position", "name_en").values_list("slug", "name_en", "name_zh")),
        "products": pairs,
        "products_need_line": need_line,
        "years": years,
        "severities": list(reversed(Severity.choices)),
        "exploitations": Exploitation.choices,
        "sorts": SORTS,
    }


def as_datetime(value: object) -> dt.datetime | None:
    """A timestamp as a raw cursor returns it (text on SQLite, a datetime on PostgreSQL) as an aware datetime."""
    if value is None:
        return None
    parsed = value if isinstance(value, dt.datetime) else parse_datetime(str(value))
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, dt.UTC)


def stamp_sql() -> str:
    # One statement, one indexed probe per public state ((state, updated_at) index, newest first, LIMIT 1):
    # MAX() over "state IN (…)" would scan every public row on SQLite. Plain SQL because this runs on every
    # public request, cache hits included, and building it through the ORM costs ten times the query.
    table = connection.ops.quote_name(Advisory._meta.db_table)
    probe = f"(SELECT updated_at FROM {table} WHERE state = %s ORDER BY updated_at DESC LIMIT 1)"  # noqa: S608
    return "SELECT " + ", ".join(probe for _state in PUBLIC_STATES)


# The request attribute where last_modified() remembers its answer (a datetime, or None for an empty list).
STAMP_ATTRIBUTE = "_psirt_advisories_stamp"


def last_modified(request: HttpRequest | None = None) -> dt.datetime | None:
    """When the public list last changed (publication, revision, withdrawal); remembered on the request,
    since the ETag, the Last-Modified header and the page cache all ask."""
    if request is not None and hasattr(request, STAMP_ATTRIBUTE):
        cached: dt.datetime | None = getattr(request, STAMP_ATTRIBUTE)
        return cached
    with connection.cursor() as cursor:
        cursor.execute(stamp_sql(), [str(state) for state in PUBLIC_STATES])
        row = cursor.fetchone()
    stamp = max((s for s in (as_datetime(v) for v in row) if s is not None), default=None)
    if request is not None:
        setattr(request, STAMP_ATTRIBUTE, stamp)
    return stamp


# --- one advisory -----------------------------------------------------------------------------------------


# The SELECTs of the public pages, compiled once (psirt.lib.prepared): building them through the ORM cost more than
# running them.
_PUBLIC_ADVISORY: PreparedSelect[Advisory] = PreparedSelect(
    lambda advisory_id: first_row(public_advisories().filter(advisory_id=advisory_id)), str
)
_AFFECTED_ROWS: PreparedSelect[AffectedProduct] = PreparedSelect(
    lambda advisory_pk: (
        AffectedProduct.objects.filter(advisory_id=advisory_pk)
        .select_related("product", "product__line", "introduced", "fixed")
        .order_by("product__name", "variant")
    ),
    int,
)
_REVISIONS: PreparedSelect[Revision] = PreparedSelect(
    lambda advisory_pk: Revision.objects.filter(advisory_id=advisory_pk).order_by("-number"), int
)


def public_advisory(advisory_id: str) -> Advisory | None:
    """The published (or withdrawn) advisory with this ID, or None: drafts do not exist publicly."""
    if not advisory_id or len(advisory_id) > 40:
        return None
    found = _PUBLIC_ADVISORY.run(advisory_id.upper())
    return found[0] if found else None


def revisions_of(advisory: Advisory) -> list[Revision]:
    """The advisory's revisions, newest first (as `advisory.revisions.order_by("-number")`)."""
    revisions = _REVISIONS.run(advisory.pk)
    for revision in revisions:
        revision.advisory = advisory  # as the related manager gives them: no query for what is known
    return revisions


def public_advisory_probe(advisory_id: str) -> tuple[str, dt.datetime, str | None] | None:
    """(canonical ID, updated_at, site generation token) of the published (or withdrawn) advisory with this ID,
    or None. Plain SQL without the texts: it runs on every request for an advisory page (ETag, Last-Modified and a
    page-cache hit need no more)."""
    if not advisory_id or len(advisory_id) > 40:
        return None
    table = connection.ops.quote_name(Advisory._meta.db_table)
    states = ", ".join("%s" for _state in PUBLIC_STATES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT advisory_id, updated_at, {generation.token_sql()} FROM {table} "  # noqa: S608
            f"WHERE advisory_id = %s AND state IN ({states})",
            [advisory_id.upper(), *(str(state) for state in PUBLIC_STATES)],
        )
        row = cursor.fetchone()
    stamp = as_datetime(row[1]) if row is not None else None
    if row is None or stamp is None:
        return None
    return str(row[0]), stamp, None if row[2] is None else str(row[2])


def public_advisory_head(advisory_id: str) -> tuple[str, dt.datetime] | None:
    """(canonical ID, updated_at) of the published (or withdrawn) advisory with this ID, or None."""
    probe = public_advisory_probe(advisory_id)
    return (probe[0], probe[1]) if probe is not None else None


@dataclass
class AffectedRow:
    """One product (variant) of an advisory as the page shows it."""

    row: AffectedProduct
    affected_versions: list[FirmwareRelease]

    @property
    def product(self) -> Product:
        return self.row.product

    @property
    def fixed(self) -> FirmwareRelease | None:
        return self.row.fixed


def affected_rows(advisory: Advisory, table: Sequence[AffectedProduct] | None = None) -> list[AffectedRow]:
    """The affected table: per product and variant, the catalog releases in the range and the fixing release.
    Two queries: the rows, and the public releases inside their ranges. `table` (unsaved rows, e.g. an open
    revision's) replaces the advisory's own rows."""
    if table is not None:
        rows = sorted(table, key=lambda r: (r.product.name, r.variant))
    else:
        rows = _AFFECTED_ROWS.run(advisory.pk)
        for row in rows:
            row.advisory = advisory  # as the related manager gives them: no query for what is known
    releases: dict[tuple[int, str], list[FirmwareRelease]] = {}
    if rows:
        found = _releases_in_ranges(advisory.pk) if table is None else _releases_in_rows(rows)
        for release in found:
            releases.setdefault((release.product_id, release.variant), []).append(release)
    return [
        AffectedRow(
            row=r,
            affected_versions=[
                x for x in releases.get((r.product_id, r.variant), []) if r.affects_position(x.position)
            ],
        )
        for r in rows
    ]


# Only the releases inside each row's range, and only what the page shows of them (the version): a product's whole
# history, fifty releases or more, would be loaded to show a handful.
RELEASE_COLUMNS = ("id", "product_id", "variant", "position", "version")


def _releases_in_ranges(advisory_pk: int) -> Iterable[FirmwareRelease]:
    """The public releases inside the ranges of a saved advisory's rows, oldest first: one plain-SQL join of a
    fixed size whatever the number of rows (built through the ORM, one condition per row, it cost more than the
    rest of the advisory page's queries)."""
    ops = connection.ops
    release, affected = (ops.quote_name(m._meta.db_table) for m in (FirmwareRelease, AffectedProduct))
    columns = ", ".join(f"r.{ops.quote_name(c)}" for c in RELEASE_COLUMNS)
    # Only quoted table and column names are interpolated; the advisory is a parameter.
    sql = (
        f"SELECT DISTINCT {columns} FROM {release} r "  # noqa: S608
        f"JOIN {affected} a ON a.product_id = r.product_id AND a.variant = r.variant "
        f"LEFT JOIN {release} i ON i.id = a.introduced_id LEFT JOIN {release} f ON f.id = a.fixed_id "
        "WHERE a.advisory_id = %s AND r.is_public = %s "
        "AND (i.id IS NULL OR r.position >= i.position) AND (f.id IS NULL OR r.position < f.position) "
        "ORDER BY r.position, r.id"
    )
    return FirmwareRelease.objects.raw(sql, [advisory_pk, True])


def _releases_in_rows(rows: Sequence[AffectedProduct]) -> Iterable[FirmwareRelease]:
    """The same for rows that are not saved (an open revision's table). Past RANGE_TERMS_MAX rows, every release of
    the products named: one condition per row would make an expression deeper than SQLite accepts."""
    in_range = Q(product_id__in={r.product_id for r in rows})
    if len(rows) <= RANGE_TERMS_MAX:
        in_range = Q()
        for r in rows:
            one = Q(product_id=r.product_id, variant=r.variant)
            if r.introduced is not None:
                one &= Q(position__gte=r.introduced.position)
            if r.fixed is not None:
                one &= Q(position__lt=r.fixed.position)
            in_range |= one
    return FirmwareRelease.objects.filter(in_range, is_public=True).only(*RELEASE_COLUMNS).order_by("position")


def advisories_fixed_by(release: FirmwareRelease) -> list[Advisory]:
    """Published advisories whose affected table names `release` as the fixing release (Software updates)."""
    return list(
        public_advisories()
        .filter(state=AdvisoryState.PUBLISHED, affected__fixed=release)
        .distinct()
        .order_by("-published_at")
    )


# What the home page shows of each of its newest advisories: their texts (descriptions, workarounds, …) were most
# of the query's cost.
LATEST_COLUMNS = ("id", "advisory_id", "title_en", "title_zh", "severity", "published_at")
LATEST_LIMIT = 5


def _latest(limit: int) -> QuerySet[Advisory]:
    return (
        public_advisories()
        .filter(state=AdvisoryState.PUBLISHED)
        .only(*LATEST_COLUMNS)
        .order_by("-published_at")[:limit]
    )


_LATEST: PreparedSelect[Advisory] = PreparedSelect(lambda: _latest(LATEST_LIMIT))


def latest_advisories(*, limit: int = LATEST_LIMIT) -> list[Advisory]:
    """Newest published advisories for the home page (`psirt.pages.sections.latest_advisories`), with the columns
    it shows (LATEST_COLUMNS)."""
    return _LATEST.run() if limit == LATEST_LIMIT else list(_latest(limit))


@dataclass(frozen=True)
class Credit:
    """One line of the hall of fame: a credit line of a published advisory."""

    name: str
    affiliation: str
    advisory_id: str
    date: dt.datetime | None


# "Name (Organization)" with ASCII or full-width parentheses; the organization is the last bracketed group.
CREDIT_IN_BRACKETS_RE = re.compile(r"^(?P<name>.*?)\s*[(（](?P<org>[^()（）]*)[)）]$")


def split_credit(line: str) -> tuple[str, str]:
    """A credit line as (name, organization): "Jane Doe (Example Lab)", "Jane Doe, Example Lab" and their
    full-width forms ("张三（示例实验室）", "张三，示例实验室") name the organization; a line without either is a
    name alone."""
    text = " ".join(line.split()).replace("，", ",")
    match = CREDIT_IN_BRACKETS_RE.match(text)
    # A comma before the brackets separates name and organization ("Jane Doe, Example Lab (Berlin)").
    if match and match["name"] and "," not in match["name"] and match["org"].strip():
        return match["name"], match["org"].strip()
    name, _sep, organization = text.partition(",")
    return name.strip(), organization.strip()


def acknowledgment_entries() -> list[Credit]:
    """Reporters credited on published advisories, newest first, each credit line split into name and
    organization (`psirt.pages.sections.acknowledgment_entries`)."""
    out = []
    for advisory in public_advisories().filter(state=AdvisoryState.PUBLISHED).order_by("-published_at")[:500]:
        for line in advisory.credit_lines:
            name, affiliation = split_credit(line)
            out.append(Credit(name, affiliation, advisory.advisory_id, advisory.published_at))
    return out


# Am I affected? A product and a firmware version → the published advisories that affect it, with the lowest
# release that fixes all of them; shared by the public page and `GET /api/v1/affected`. Versions are ordered by
# the catalog's `position`, never by comparing version strings. A version that is not in the catalog is answered
# honestly: it cannot be placed in the order, so the answer says so and names the nearest known releases by a
# natural reading of the version text, labelled as a guess. Three queries per answer.

MAX_VERSION_CHARS = 100
MAX_PRODUCT_QUERY = 100


def normalise_version(text: str) -> str:
    """Compare versions as people type them: trimmed, case-folded, full-width folded, an optional leading
    "v" ignored ("v5.5.0" = "V5.5.0" = "5.5.0")."""
    value = unicodedata.normalize("NFKC", text).strip().casefold()
    value = " ".join(value.split())
    return value[1:] if value.startswith("v") and value[1:2].isdigit() else value


def _natural_key(text: str) -> tuple[Any, ...]:
    """A guess at version order for versions the catalog does not know: digit runs compare as numbers."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|[^\d.\-_ ]+", text))


@dataclass
class AffectedQuery:
    """The question as asked (GET parameters of the page or the API), with field errors."""

    product_slug: str = ""
    release_id: str = ""
    version: str = ""
    product_q: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> AffectedQuery:
        q = cls()
        slug = str(params.get("product", "") or "")
        if slug and (len(slug) > 80 or not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug)):
            q.errors["product"] = _("Choose a product from the list.")
        else:
            q.product_slug = slug
        release = str(params.get("release", "") or "")
        if release:
            try:
                q.release_id = str(uuid.UUID(release))
            except ValueError:
                q.errors["release"] = _("Choose a version from the list, or type it.")
        version = str(params.get("version", "") or "")
        if len(version) > MAX_VERSION_CHARS:
            q.errors["version"] = _("A firmware version has at most %(n)d characters.") % {"n": MAX_VERSION_CHARS}
        else:
            q.version = "".join(ch for ch in version if unicodedata.category(ch)[0] != "C").strip()
        product_q = str(params.get("q", "") or "")
        if len(product_q) > MAX_PRODUCT_QUERY:
            q.errors["q"] = _("The search text is too long (at most %(n)d characters).") % {"n": MAX_PRODUCT_QUERY}
        else:
            q.product_q = " ".join(product_q.split())
        return q

    @property
    def ready(self) -> bool:
        return bool(self.product_slug and (self.release_id or self.version) and not self.errors)


@dataclass
class Hit:
    """One advisory that affects the version asked about."""

    advisory: Advisory
    row: AffectedProduct

    @property
    def fixed(self) -> FirmwareRelease | None:
        return self.row.fixed


@dataclass
class AffectedAnswer:
    product: Product | None
    version: str
    release: FirmwareRelease | None = None
    hits: list[Hit] = field(default_factory=list)
    update_to: FirmwareRelease | None = None
    update_is_clean: bool = False
    latest: FirmwareRelease | None = None
    older: FirmwareRelease | None = None
    newer: FirmwareRelease | None = None
    unknown_product: bool = False
    # Every public release of the product (variant, then catalog order): the page's version list reuses it.
    releases: list[FirmwareRelease] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return self.release is not None

    @property
    def unfixed(self) -> list[Hit]:
        return [h for h in self.hits if h.fixed is None]


_PUBLIC_PRODUCT: PreparedSelect[Product] = PreparedSelect(
    lambda slug: first_row(Product.objects.filter(slug=slug, is_public=True).select_related("line")), str
)
_PUBLIC_RELEASES: PreparedSelect[FirmwareRelease] = PreparedSelect(
    lambda product_pk: FirmwareRelease.objects.filter(product_id=product_pk, is_public=True).order_by(
        "variant", "position"
    ),
    int,
)


def _public_product(slug: str) -> Product | None:
    found = _PUBLIC_PRODUCT.run(slug)
    return found[0] if found else None


# What an answer shows of each advisory: loading the texts of every advisory of a product (descriptions,
# workarounds, …) was almost half of the answer's time.
HIT_ADVISORY_COLUMNS = ("id", "advisory_id", "state", "title_en", "title_zh", "severity", "exploitation")
# Of the range's releases, what the ranges are compared by (the position) and what an answer shows of the fixing
# release (`psirt.advisories.api._release`, the page's "Fixed in"): converting the public IDs, dates and notes of
# two releases per row was a fifth of the answer's time.
HIT_RELEASE_COLUMNS = (
    "introduced__position",
    "fixed__position",
    "fixed__version",
    "fixed__variant",
    "fixed__download_url",
)


_HIT_ROWS: PreparedSelect[AffectedProduct] = PreparedSelect(
    lambda product_pk: (
        AffectedProduct.objects.filter(product_id=product_pk, advisory__state=AdvisoryState.PUBLISHED)
        .select_related("advisory", "introduced", "fixed")
        .only(
            "advisory",
            "product",
            "variant",
            "introduced",
            "fixed",
            *(f"advisory__{c}" for c in HIT_ADVISORY_COLUMNS),
            *HIT_RELEASE_COLUMNS,
        )
        .order_by("-advisory__published_at")
    ),
    int,
)


def _rows(product: Product) -> list[AffectedProduct]:
    return _HIT_ROWS.run(product.pk)


def _product_releases(slug: str) -> tuple[Product | None, list[FirmwareRelease]]:
    """The public product with this slug and its public releases (two queries; one when there is none)."""
    product = _public_product(slug)
    return product, (_PUBLIC_RELEASES.run(product.pk) if product is not None else [])


def check_affected(query: AffectedQuery, *, version: str | None = None) -> AffectedAnswer:
    """Which published advisories affect the product and version asked about, and what to update to. `version`: a
    token that changes with the catalog and the published advisories (the list's page-cache version, which the
    page reads anyway), under which the product, its releases and its rows are read once (`generation.kept`) —
    shared, read only."""

    def read(key: tuple[str, Any], compute: Callable[[], T]) -> T:
        return compute() if version is None else generation.kept(version, key, compute)

    product, releases = read(("affected-product", query.product_slug), lambda: _product_releases(query.product_slug))
    if product is None:
        return AffectedAnswer(product=None, version=query.version, unknown_product=True)
    release = None
    # A typed version wins over the list: people type when the list does not show what their device says.
    if query.release_id and not query.version:
        release = next((r for r in releases if str(r.public_id) == query.release_id), None)
    if release is None and query.version:
        wanted = normalise_version(query.version)
        matches = [r for r in releases if normalise_version(r.version) == wanted]
        # The standard build first when a version exists in several variants.
        release = min(matches, key=lambda r: (r.variant != "", r.variant), default=None)
    shown = release.version if release is not None else query.version
    answer = AffectedAnswer(product=product, version=shown, release=release, releases=releases)
    if release is None:
        _nearest(answer, releases, query.version)
        return answer
    variant_releases = [r for r in releases if r.variant == release.variant]
    answer.latest = variant_releases[-1] if variant_releases else None
    rows = [r for r in read(("affected-rows", product.pk), lambda: _rows(product)) if r.variant == release.variant]
    answer.hits = sorted(
        (Hit(advisory=r.advisory, row=r) for r in rows if r.affects_position(release.position)),
        key=lambda h: (-rank(h.advisory.severity), h.advisory.advisory_id),
    )
    newer = [r for r in variant_releases if r.position > release.position]
    if answer.hits:
        # Lowest newer release outside every published range of this product; else the lowest one that
        # at least leaves every advisory affecting this version behind.
        clean = next((r for r in newer if not any(row.affects_position(r.position) for row in rows)), None)
        fixes_all = next((r for r in newer if not any(h.row.affects_position(r.position) for h in answer.hits)), None)
        answer.update_to = clean or fixes_all
        answer.update_is_clean = clean is not None
    return answer


def _nearest(answer: AffectedAnswer, releases: list[FirmwareRelease], typed: str) -> None:
    """For a version the catalog does not know: the nearest known releases by a natural reading of the text."""
    standard = [r for r in releases if r.variant == ""] or releases
    if not standard:
        return
    answer.latest = max(standard, key=lambda r: r.position)
    key = _natural_key(normalise_version(typed))
    ordered = sorted(standard, key=lambda r: _natural_key(normalise_version(r.version)))
    older = [r for r in ordered if _natural_key(normalise_version(r.version)) < key]
    newer = [r for r in ordered if _natural_key(normalise_version(r.version)) > key]
    answer.older = older[-1] if older else None
    answer.newer = newer[0] if newer else None


def product_choices(query: AffectedQuery, answer: AffectedAnswer | None = None) -> dict[str, Any]:
    """The form in two steps. Until a product is chosen: the product list as (slug, label) pairs, filtered by
    the search text. Once one is chosen: that product and its versions only, newest first — the list of every
    product is not sent again (with a large catalog it would be most of the page)."""
    chosen = answer.product if answer is not None else None
    if chosen is None and query.product_slug and "product" not in query.errors:
        chosen = _public_product(query.product_slug)
    if chosen is not None:
        releases = (
            answer.releases
            if answer is not None and answer.product is not None
            else list(FirmwareRelease.objects.filter(product=chosen, is_public=True).order_by("variant", "position"))
        )
        versions = sorted(releases, key=lambda r: (r.variant, -r.position))
        return {"products": [], "chosen": chosen, "versions": versions}
    products = Product.objects.filter(is_public=True).order_by("line__position", "name")
    if query.product_q:
        term = query.product_q
        products = products.filter(Q(name__icontains=term) | Q(model_numbers__icontains=term) | Q(slug__icontains=term))
    pairs = [
        (slug, f"{name} ({models})" if models else name)
        for slug, name, models in products.values_list("slug", "name", "model_numbers")[:2000]
    ]
    return {"products": pairs, "chosen": None, "versions": []}


def published_advisories_for_report(report: Report) -> list[PublishedAdvisory]:
    """The published advisories written from the case a report belongs to (duplicates included), for the link in
    the reporter's portal: titles in the active language, public URLs. Withdrawn and unpublished ones are not
    listed. Registered with the intake by the app config."""
    advisories = (
        Advisory.objects.filter(state=AdvisoryState.PUBLISHED, case_links__case__case_reports__report=report)
        .distinct()
        .order_by("published_at", "advisory_id")
    )
    return [PublishedAdvisory(a.advisory_id, a.title, a.get_absolute_url()) for a in advisories]
