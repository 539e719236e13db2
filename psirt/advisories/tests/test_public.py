"""Public advisory list and page: search, filters, pagination, drafts invisible, escaping, 304, languages."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from psirt.accounts.models import User
from psirt.advisories import queries, services
from psirt.advisories.models import PUBLIC_STATES, Advisory, AdvisoryState, AffectedProduct
from psirt.advisories.queries import ListFilters
from psirt.advisories.tests.conftest import make_case, publish, revise, state_on_cases
from psirt.cases.models import Exploitation
from psirt.catalog.models import FirmwareRelease, Product, ProductLine
from psirt.lib.kept import forget_all
from psirt.lib.prepared import PreparedSelect
from psirt.tests.factories import make_line, make_product, make_release

LIST = "/en/advisories/"


def _published(product: Product, lead: User, fixed: FirmwareRelease | None = None, **changes: object) -> Advisory:
    case = make_case(product=product, disclosure_date=timezone.localdate() - dt.timedelta(days=1))
    advisory = services.create_advisory(cases=[case], actor=lead)
    services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={"workarounds_en": "Disable UPnP.", "mitigation_sufficient": True, **changes},
        affected=[services.AffectedInput(product=product, fixed=fixed)],
    )
    return publish(state_on_cases(advisory), lead)


def test_empty_list_says_so(db: None, anonymous: Client) -> None:
    response = anonymous.get(LIST)
    assert response.status_code == 200
    assert "There is currently no information to display." in response.content.decode()
    assert 'href="/feeds/advisories.atom"' in response.content.decode()


def test_drafts_never_appear_publicly(draft: Advisory, anonymous: Client) -> None:
    assert draft.advisory_id not in anonymous.get(LIST).content.decode()
    response = anonymous.get(f"/en/advisories/{draft.advisory_id}/")
    assert response.status_code == 404
    assert draft.title_en not in response.content.decode()
    unknown = anonymous.get("/en/advisories/NO-SA-1999-001/")

    def without_token(body: bytes) -> str:
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body.decode())

    assert without_token(response.content) == without_token(unknown.content)


def test_published_advisory_page_shows_what_a_customer_needs(
    published: Advisory, anonymous: Client, releases: dict[str, FirmwareRelease]
) -> None:
    response = anonymous.get(published.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert published.advisory_id in html and published.title_en in html
    assert 'class="badge sev-critical"' in html
    assert "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" in html and "9.8" in html
    assert "update to firmware V5.6.0 or later" in html
    assert "https://downloads.example.com/V5.6.0.bin" in html
    # V5.5.0 and V5.5.2 are in the range [V5.5.0, V5.6.0); V5.4.0 and V5.10.0 are not.
    assert "V5.5.0, V5.5.2" in html
    assert "Initial publication." in html
    assert "Revision history" in html


def test_list_shows_published_and_links_them(published: Advisory, anonymous: Client) -> None:
    html = anonymous.get(LIST).content.decode()
    assert published.advisory_id in html
    assert f'href="{published.get_absolute_url()}"' in html


def test_list_rows_label_severity_as_the_advisory_page_does(published: Advisory, anonymous: Client) -> None:
    english = anonymous.get(LIST).content.decode()
    chinese = anonymous.get("/zh-hans/advisories/").content.decode()
    assert '<span class="badge sev-critical">Critical</span>' in english
    assert '<span class="badge sev-critical">严重</span>' in chinese
    Advisory.objects.filter(pk=published.pk).update(severity="")
    assert '<span class="badge sev-none">Not rated</span>' in anonymous.get(f"{LIST}?sort=oldest").content.decode()


@pytest.fixture
def catalog_of_advisories(
    product: Product, line: ProductLine, releases: dict[str, FirmwareRelease], lead: User
) -> dict[str, Advisory]:
    router = make_product(make_line("routers", "Routers", position=2), "router-r1", "Router R1")
    # A public release in the affected range: without one there is no CSAF document, and no publication.
    make_release(router, "1.0.0", 10)
    return {
        "rce": _published(product, lead, releases["V5.6.0"], identifiers="CVE-2026-11111", title_en="Camera RCE"),
        "xss": _published(
            product,
            lead,
            releases["V5.6.0"],
            title_en="Stored XSS in the camera UI",
            cvss31_vector="CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N",
            identifiers="CNVD-2026-01234",
        ),
        "router": _published(router, lead, None, title_en="Router DoS", exploitation="active"),
    }


@pytest.mark.parametrize(
    "query,expected",
    [
        ("q=CVE-2026-11111", {"rce"}),
        ("q=cnvd-2026-01234", {"xss"}),
        ("q=stored+xss", {"xss"}),
        ("q=Router+R1", {"router"}),
        ("q=X5-200", {"rce", "xss"}),
        ("product=router-r1", {"router"}),
        ("line=cameras", {"rce", "xss"}),
        ("severity=Medium", {"xss"}),
        ("severity=Critical", {"rce", "router"}),
        ("exploitation=active", {"router"}),
        ("year=1999", set()),
        ("severity=Bogus", {"rce", "xss", "router"}),
    ],
)
def test_search_and_filters(
    catalog_of_advisories: dict[str, Advisory], anonymous: Client, query: str, expected: set[str]
) -> None:
    html = anonymous.get(f"{LIST}?{query}").content.decode()
    shown = {key for key, a in catalog_of_advisories.items() if a.advisory_id in html}
    assert shown == expected


def _searched_fields(term: str) -> Q:
    """The search's text predicate spelled field by field, as the list matched before the joined column."""
    return (
        Q(title_en__icontains=term)
        | Q(title_zh__icontains=term)
        | Q(summary_en__icontains=term)
        | Q(summary_zh__icontains=term)
        | Q(identifiers__icontains=term)
        | Q(advisory_id__icontains=term)
    )


SEARCH_TERMS = [
    "camera",
    "CAMERA",
    "rce",
    "Camera RCE",
    "RCE Overflow",  # the end of one text and the start of the next: no match across a field boundary
    "écran",
    "ÉCRAN",
    "摄像头",
    "远程",
    "100%",
    "5_0",
    "a\\b",
    "_",
    "%",
    "cnvd-2026",
    "SA-",
    "zzzz",
]


def test_search_column_matches_exactly_what_the_fields_match(
    catalog_of_advisories: dict[str, Advisory], draft: Advisory, anonymous: Client
) -> None:
    rce, xss, router = catalog_of_advisories["rce"], catalog_of_advisories["xss"], catalog_of_advisories["router"]
    # Written with update(), which no save() sees: the database keeps the joined column current itself.
    Advisory.objects.filter(pk=rce.pk).update(summary_en="Overflow in the Écran menu; 100% CPU.")
    Advisory.objects.filter(pk=xss.pk).update(
        title_zh="摄像头存储型跨站脚本", summary_zh="远程攻击者", summary_en="V5_0 a\\b"
    )
    Advisory.objects.filter(pk=router.pk).update(identifiers="CVE-2026-22222\nCNVD-2026-99999")
    Advisory.objects.filter(pk=draft.pk).update(title_en="Draft camera RCE écran")
    for term in SEARCH_TERMS:
        old = set(Advisory.objects.filter(_searched_fields(term)).values_list("pk", flat=True))
        new = set(Advisory.objects.filter(search_text__icontains=term).values_list("pk", flat=True))
        assert new == old, term
        listed = set(queries.filtered_advisories(ListFilters(q=term)).values_list("pk", flat=True))
        products = set(
            Advisory.objects.filter(
                Q(affected__product__name__icontains=term)
                | Q(affected__product__model_numbers__icontains=term)
                | Q(affected__product__slug=term)
            ).values_list("pk", flat=True)
        )
        public = set(Advisory.objects.filter(state__in=PUBLIC_STATES).values_list("pk", flat=True))
        assert listed == (old | products) & public, term
        page = queries.list_page(ListFilters(q=term), 1)
        assert page.paginator.count == len(listed), term
    assert draft.pk in set(Advisory.objects.filter(search_text__icontains="écran").values_list("pk", flat=True))


def test_search_reads_the_partial_index_of_the_search_column_on_sqlite(db: None) -> None:
    sql, params = queries.filtered_advisories(ListFilters(q="camera")).query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # A remake of the table by a later migration would drop an index the model does not declare.
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            assert any("advisory_search_listed" in row[-1] for row in cursor.fetchall())
        else:
            constraints = connection.introspection.get_constraints(cursor, "advisories_advisory")
            assert "advisory_search_listed" not in constraints


@pytest.mark.parametrize("sort", list(queries.SORTS))
def test_a_search_with_few_matches_scans_the_search_column_once(
    catalog_of_advisories: dict[str, Advisory], sort: str
) -> None:
    """A rare term's matches are found once, by one statement that reads at most FEW_MATCHES + 1 of their keys (no
    COUNT); the page is read by those keys, without matching the text again. Through the trigram index (SQLite), the
    keys come in two such statements: the advisories' own texts (the index joined), then their products'."""
    filters = ListFilters(q="CVE-2026-11111", sort=sort)
    with CaptureQueriesContext(connection) as captured:
        page = queries.list_page(filters, 1)
        shown = list(page.object_list)
    assert 0 < page.paginator.count <= queries.FEW_MATCHES
    assert shown == list(queries.filtered_advisories(filters))
    *probes, page_sql = (q["sql"] for q in captured.captured_queries)
    for probe in probes:
        assert "COUNT(" not in probe and probe.endswith(f"LIMIT {queries.FEW_MATCHES + 1}"), probe
    if connection.vendor == "sqlite":
        text, products = probes
        assert "search_text" in text and "MATCH" in text and "catalog_product" not in text, text
        assert "search_text" not in products and "catalog_product" in products, products
    else:
        (probe,) = probes
        assert "search_text" in probe and "MATCH" not in probe
    assert "search_text" not in page_sql and "COUNT(" not in page_sql, page_sql
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + page_sql)  # SQLite's captured SQL holds its values, quoted
            plan = " ".join(row[-1] for row in cursor.fetchall())
        assert "INTEGER PRIMARY KEY" in plan, plan  # the rows read by key, not the order's index walked


def test_a_search_page_read_by_keys_shows_only_advisories_still_listed(line: ProductLine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The page of a search's few matches is read by their keys, after they were found: an advisory taken off the
    list in between is not shown."""
    _many_advisories(line)
    probe = PreparedSelect.keys
    taken_off: list[int] = []

    def probe_then_unlist(self: PreparedSelect[Advisory], *values: Any, limit: int) -> list[Any]:
        keys = probe(self, *values, limit=limit)
        taken_off.append(keys[0])
        Advisory.objects.filter(pk=keys[0]).update(state=AdvisoryState.DRAFT)
        return keys

    monkeypatch.setattr(PreparedSelect, "keys", probe_then_unlist)
    page = queries.list_page(ListFilters(q="camera"), 1)
    shown = [a.pk for a in page.object_list]
    assert taken_off and shown and taken_off[0] not in shown


def _statements(filters: ListFilters, count: int, few: int) -> int:
    """The queries `list_page` runs for a page of `filters`' `count` matches when FEW_MATCHES is `few`: a search or a
    product filter reads the keys of its matches first (a search alone through the trigram index: the advisories'
    own texts, then, when few, their products'), then the page (few matches) or the count and the page; nothing
    found, the probes alone. Any other list: the count and the page."""
    if not (filters.q or filters.product):
        return 2 if count else 1
    probes = 1
    alone = filters.q and not (filters.product or filters.line)
    if alone and len(filters.q) >= queries.SEARCH_INDEX_MIN and queries.search_index_ready():
        own = queries.filtered_advisories(filters).filter(search_text__icontains=filters.q).count()
        probes += own <= few
    return probes + (2 if count > few else 1 if count else 0)


def test_a_search_with_more_matches_than_the_probe_reads_is_counted(
    line: ProductLine, django_assert_num_queries: Any, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The probe's keys are the count only when they are no more than FEW_MATCHES; one more, and the matches are
    counted (and the page read by the search's own statement)."""
    _many_advisories(line)
    filters = ListFilters(q="camera", sort="oldest")
    expected = Paginator(queries.filtered_advisories(filters), queries.PER_PAGE).get_page(2)
    matches = expected.paginator.count
    assert matches > queries.PER_PAGE
    for few in [matches, matches - 1, matches + 1, 1]:
        monkeypatch.setattr(queries, "FEW_MATCHES", few)
        with django_assert_num_queries(_statements(filters, matches, few)):
            page = queries.list_page(filters, 2)
            rows = [a.pk for a in page.object_list]
        assert (page.paginator.count, page.number, rows) == (matches, 2, [a.pk for a in expected]), few


def test_year_filter_and_sorting(catalog_of_advisories: dict[str, Advisory], anonymous: Client) -> None:
    year = timezone.localdate().year
    html = anonymous.get(f"{LIST}?year={year}&sort=severity").content.decode()
    ids = [a.advisory_id for a in catalog_of_advisories.values()]
    positions = {a: html.index(a) for a in ids}
    assert positions[catalog_of_advisories["xss"].advisory_id] > positions[catalog_of_advisories["rce"].advisory_id]
    oldest = anonymous.get(f"{LIST}?sort=oldest").content.decode()
    assert oldest.index(ids[0]) < oldest.index(ids[2])


def test_no_match_says_so(catalog_of_advisories: dict[str, Advisory], anonymous: Client) -> None:
    html = anonymous.get(f"{LIST}?q=nothing-like-this").content.decode()
    assert "No advisory matches these filters." in html


def test_overlong_and_hostile_queries_are_answered_plainly(published: Advisory, anonymous: Client) -> None:
    response = anonymous.get(LIST + "?q=" + "a" * 500)
    assert response.status_code == 400
    assert "too long" in response.content.decode()
    response = anonymous.get(LIST + "?q=%3Cscript%3Ealert(1)%3C/script%3E&page=99999999999&year=99999&line=%00")
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.content.decode()


def test_pagination_keeps_filters_and_query_count_is_bounded(
    product: Product, releases: dict[str, FirmwareRelease], lead: User, anonymous: Client
) -> None:
    for i in range(3):
        _published(product, lead, releases["V5.6.0"], title_en=f"Issue {i}")
    with CaptureQueriesContext(connection) as few:
        anonymous.get(f"{LIST}?line=cameras")
    for i in range(22):
        _published(product, lead, releases["V5.6.0"], title_en=f"More {i}")
    with CaptureQueriesContext(connection) as many:
        response = anonymous.get(f"{LIST}?line=cameras")
    # At most as many: data the site generation covers (the organization profile), which publications leave
    # alone, may have been kept since the first request.
    assert len(many.captured_queries) <= len(few.captured_queries)
    html = response.content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?line=cameras&amp;page=2"' in html
    second = anonymous.get(f"{LIST}?line=cameras&page=2").content.decode()
    assert "Page 2 of 2" in second


def test_hostile_markdown_is_inert(draft: Advisory, lead: User, anonymous: Client) -> None:
    services.update_advisory(
        advisory=draft,
        actor=lead,
        changes={
            "title_en": "<img src=x onerror=alert(1)>",
            "summary_en": "<script>alert(1)</script> [x](javascript:alert(1))",
            "description_en": "![t](https://tracker.example/p.gif) <iframe src=//evil>",
            "credits_en": "<b onmouseover=alert(1)>Eve</b>",
            "mitigation_sufficient": True,
        },
    )
    advisory = publish(draft, lead)
    html = anonymous.get(advisory.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript:' not in html
    assert "<iframe" not in html
    assert 'src="https://tracker.example' not in html
    assert "<b onmouseover" not in html


def test_both_languages_with_english_fallback(published: Advisory, lead: User, anonymous: Client) -> None:
    zh = anonymous.get(f"/zh-hans/advisories/{published.advisory_id}/").content.decode()
    assert published.title_en in zh  # no Chinese title yet: English shown
    revise(
        advisory=published,
        actor=lead,
        changes={"title_zh": "网页界面远程代码执行"},
        revision_summary_en="Chinese translation.",
    )
    zh = anonymous.get(f"/zh-hans/advisories/{published.advisory_id}/").content.decode()
    en = anonymous.get(f"/en/advisories/{published.advisory_id}/").content.decode()
    assert "网页界面远程代码执行" in zh and "网页界面远程代码执行" not in en


def test_lowercase_id_redirects_to_the_canonical_page(published: Advisory, anonymous: Client) -> None:
    response = anonymous.get(f"/en/advisories/{published.advisory_id.lower()}/")
    assert response.status_code == 302
    assert response["Location"] == published.get_absolute_url()


def test_conditional_requests_get_304_until_a_change(published: Advisory, lead: User, anonymous: Client) -> None:
    url = published.get_absolute_url()
    anonymous.get(url)  # the first visit sets the CSRF cookie (the language form), part of the validator
    first = anonymous.get(url)
    assert first.has_header("ETag") and first.has_header("Last-Modified")
    again = anonymous.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    listing = anonymous.get(LIST)
    assert anonymous.get(LIST, HTTP_IF_NONE_MATCH=listing["ETag"]).status_code == 304
    revise(advisory=published, actor=lead, changes={"impact_en": "More."}, revision_summary_en="Impact.")
    assert anonymous.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    assert anonymous.get(LIST, HTTP_IF_NONE_MATCH=listing["ETag"]).status_code == 200


def test_withdrawn_advisory_stays_readable_with_its_reason(published: Advisory, lead: User, anonymous: Client) -> None:
    assert 'id="todo"' in anonymous.get(published.get_absolute_url()).content.decode()
    services.withdraw_advisory(advisory=published, actor=lead, reason="Duplicate of an earlier advisory.")
    html = anonymous.get(published.get_absolute_url()).content.decode()
    assert "This advisory has been withdrawn." in html and "Duplicate of an earlier advisory." in html
    # It asks nothing of its readers any more: no "What to do first", no "update to firmware …".
    assert 'id="todo"' not in html and "update to firmware" not in html
    assert "Withdrawn" in anonymous.get(LIST).content.decode()


def test_stamps_read_by_plain_sql_match_the_models(published: Advisory) -> None:
    from psirt.advisories import queries

    published.refresh_from_db()
    assert queries.last_modified() == published.updated_at
    assert queries.public_advisory_head(published.advisory_id.lower()) == (published.advisory_id, published.updated_at)
    Advisory.objects.filter(pk=published.pk).update(state="draft")
    assert queries.last_modified() is None
    assert queries.public_advisory_head(published.advisory_id) is None


def test_the_years_filter_spans_first_to_last_publication(
    product: Product, releases: dict[str, FirmwareRelease], lead: User, anonymous: Client
) -> None:
    old = _published(product, lead, releases["V5.6.0"], title_en="Old one")
    _published(product, lead, releases["V5.6.0"], title_en="New one")
    year = timezone.localdate().year
    Advisory.objects.filter(pk=old.pk).update(published_at=timezone.now() - dt.timedelta(days=3 * 366))
    html = anonymous.get(LIST).content.decode()
    options = re.findall(r'<option value="(\d{4})"', html[html.index('id="f-year"') :])
    assert options == [str(y) for y in range(year, year - 4, -1)]


@pytest.mark.parametrize("terms_max", [50, 0])  # one condition per row, and the fallback for very many rows
def test_the_affected_table_lists_exactly_the_releases_in_range(
    published: Advisory, releases: dict[str, FirmwareRelease], product: Product, monkeypatch, terms_max: int
) -> None:  # type: ignore[no-untyped-def]
    from psirt.advisories import queries

    monkeypatch.setattr(queries, "RANGE_TERMS_MAX", terms_max)
    FirmwareRelease.objects.create(product=product, version="V5.5.1-lite", variant="lite", position=25)
    FirmwareRelease.objects.create(product=product, version="V5.5.1-hidden", position=26, is_public=False)
    other = Product.objects.create(line=product.line, slug="other", name="Other")
    FirmwareRelease.objects.create(product=other, version="V5.5.1", position=25)
    (row,) = queries.affected_rows(published)
    assert [r.version for r in row.affected_versions] == ["V5.5.0", "V5.5.2"]


def test_a_large_catalog_is_filtered_by_line_first(
    catalog_of_advisories: dict[str, Advisory], anonymous: Client, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from psirt.advisories import queries

    def product_options(html: str) -> list[str]:
        select = html[html.index('id="f-product"') : html.index("</select>", html.index('id="f-product"'))]
        return re.findall(r'<option value="([^"]+)"', select)

    assert product_options(anonymous.get(LIST).content.decode()) == ["cam-x5", "router-r1"]
    monkeypatch.setattr(queries, "LIST_PRODUCTS_MAX", 1)
    forget_all()  # the form's choices are kept per list version, and no data changed
    html = anonymous.get(LIST).content.decode()
    assert product_options(html) == [] and "Choose a product line" in html
    assert product_options(anonymous.get(f"{LIST}?line=routers").content.decode()) == ["router-r1"]
    chosen = anonymous.get(f"{LIST}?product=router-r1").content.decode()
    assert '<option value="router-r1" selected>Router R1</option>' in chosen
    assert catalog_of_advisories["router"].advisory_id in chosen
    assert catalog_of_advisories["rce"].advisory_id not in chosen


def test_list_names_a_product_once_however_many_variants_and_keeps_ids_whole(
    product: Product, releases: dict[str, FirmwareRelease], lead: User, anonymous: Client
) -> None:
    eu_fix = make_release(product, "V5.6.0-EU", 60, variant="EU")
    case = make_case(product=product, disclosure_date=timezone.localdate() - dt.timedelta(days=1))
    advisory = services.create_advisory(cases=[case], actor=lead)
    services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={"identifiers": "CVE-2026-22222\nCVE-2026-33333\nCNVD-2026-04444"},
        affected=[
            services.AffectedInput(product=product, fixed=releases["V5.6.0"]),
            services.AffectedInput(product=product, variant="EU", fixed=eu_fix),
        ],
    )
    advisory = publish(state_on_cases(advisory), lead)
    assert advisory.affected.count() == 2
    html = anonymous.get(LIST).content.decode()
    row = html[html.index(f">{advisory.advisory_id}<") :]
    row = row[: row.index("</tr>")]
    assert row.count(product.name) == 1
    assert '<span class="id">CVE-2026-22222</span>' in row and '<span class="id">CVE-2026-33333</span>' in row
    page = anonymous.get(advisory.get_absolute_url()).content.decode()
    assert '<span class="id">CVE-2026-22222</span>, <span class="id">CVE-2026-33333</span>' in page
    assert '<span class="id">CNVD-2026-04444</span>' in page


def test_a_search_counts_exactly_the_rows_its_pages_show(
    product: Product, releases: dict[str, FirmwareRelease], lead: User, anonymous: Client, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A text search counts its total with its own query (a table scan); it must count what the pages list:
    published and withdrawn advisories that match, never a draft or a non-matching one."""
    from psirt.advisories import queries

    monkeypatch.setattr(queries, "PER_PAGE", 2)
    shown = [_published(product, lead, releases["V5.6.0"], title_en=f"Needle {i}") for i in range(3)]
    withdrawn = _published(product, lead, releases["V5.6.0"], title_en="Old needle")
    services.withdraw_advisory(advisory=withdrawn, actor=lead, reason="Superseded")
    _published(product, lead, releases["V5.6.0"], title_en="Something else")
    draft = services.create_advisory(cases=[make_case(product=product)], actor=lead)
    services.update_advisory(advisory=draft, actor=lead, changes={"title_en": "Needle draft"})
    listed: set[str] = set()
    for page in (1, 2):
        html = anonymous.get(f"{LIST}?q=NEEDLE&page={page}").content.decode()
        assert "4 advisories" in html and f"Page {page} of 2" in html
        listed |= set(re.findall(r'href="/en/advisories/([^/"]+)/"', html))
    assert listed == {a.advisory_id for a in [*shown, withdrawn]}
    assert "Needle draft" not in html


def test_the_filter_form_follows_catalog_and_publications_on_the_next_request(
    product: Product, releases: dict[str, FirmwareRelease], lead: User, anonymous: Client
) -> None:
    # The form's choices are read once per list version: a change of either shows at once.
    _published(product, lead, releases["V5.6.0"], title_en="First one")
    html = anonymous.get(LIST).content.decode()
    assert 'value="gateways"' not in html
    make_product(make_line("gateways", "Gateways", position=9), "gw-1", "Gateway One")
    html = anonymous.get(LIST).content.decode()
    assert '<option value="gateways">Gateways</option>' in html and '<option value="gw-1">Gateway One</option>' in html
    year = timezone.localdate().year
    assert f'<option value="{year - 3}">' not in html
    old = _published(product, lead, releases["V5.6.0"], title_en="Second one")
    Advisory.objects.filter(pk=old.pk).update(
        published_at=timezone.now() - dt.timedelta(days=3 * 366), updated_at=timezone.now()
    )
    assert f'<option value="{year - 3}">' in anonymous.get(LIST).content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "q=camera",
        "q=CVE-2026-11111",
        "q=Router+R1",
        "q=X5-200&severity=Medium",
        "q=camera&line=cameras",
        "q=camera&product=router-r1",
        "q=camera&exploitation=active",
        "q=nothing-matches",
        "q=camera&year=1999",
        "product=router-r1",
        "line=cameras&severity=Medium",
        "line=routers&product=cam-x5",
    ],
)
def test_the_count_of_a_search_is_the_number_of_advisories_it_lists(
    catalog_of_advisories: dict[str, Advisory], anonymous: Client, query: str
) -> None:
    from django.http import QueryDict

    filters = ListFilters.from_params(QueryDict(query))
    listed = queries.filtered_advisories(filters).count()
    assert queries.list_page(filters, 1).paginator.count == listed
    html = anonymous.get(f"{LIST}?{query}").content.decode()
    if listed:
        assert f"{listed} advisor{'y' if listed == 1 else 'ies'}</p>" in html
    else:
        assert "No advisory matches these filters." in html


def _many_advisories(line: ProductLine) -> list[Advisory]:
    """45 advisories written directly (published, withdrawn and drafts; several years, severities and products),
    with texts holding what a LIKE pattern escapes and Chinese."""
    products = [
        make_product(line, "cam-x5", "Camera X5", model_numbers="X5-100"),
        make_product(make_line("routers", "Routers"), "router-r1", "路由器 R1 100%", model_numbers="R1_A"),
    ]
    now = timezone.now()
    titles = ["Camera RCE", "摄像头远程代码执行", "Overflow 100% CPU", "V5_0 path a\\b", "Quote \" and ' OK", "rce"]
    advisories = []
    for n in range(45):
        advisory = Advisory.objects.create(
            advisory_id=f"T-SA-{2024 + n % 3}-{n:03d}",
            year=2024 + n % 3,
            number=n,
            state=("published", "published", "withdrawn", "draft")[n % 4],
            title_en=titles[n % len(titles)],
            title_zh="标题" if n % 5 == 0 else "",
            summary_en=f"Summary {n}",
            identifiers=f"CVE-2026-{1000 + n}",
            score=(9.8, 5.0, 7.5, 0.0)[n % 4],
            severity=("Critical", "Medium", "High", "")[n % 4],
            exploitation=("none", "poc", "active")[n % 3],
            published_at=now - dt.timedelta(days=170 * (n % 7), hours=n),
            revised_at=now,
        )
        AffectedProduct.objects.create(advisory=advisory, product=products[n % 2])
        advisories.append(advisory)
    return advisories


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "oldest"},
        {"sort": "severity", "severity": "High"},
        {"sort": "id", "exploitation": "active"},
        {"q": "camera"},
        {"q": "CAMERA", "sort": "oldest"},
        {"q": "100%"},
        {"q": "%"},
        {"q": "_"},
        {"q": "5_0"},
        {"q": "a\\b"},
        {"q": "\\"},
        {"q": '"'},
        {"q": "'"},
        {"q": "远程"},
        {"q": "路由器"},
        {"q": "r1_a"},
        {"q": "router-r1"},
        {"q": "rce", "product": "cam-x5"},
        {"q": "rce", "line": "routers", "severity": "Critical"},
        {"line": "cameras", "year": str(timezone.localdate().year)},
        {"product": "router-r1", "sort": "severity"},
        {"product": "nothing"},
        {"q": "zzzz"},
    ],
)
@pytest.mark.parametrize("few_matches", [100, 5, 0], ids=["few-matches-by-key", "five-by-key", "matches-counted"])
def test_the_list_page_is_the_page_of_the_filtered_advisories(
    line: ProductLine, django_assert_num_queries: Any, params: dict[str, str], few_matches: int, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The list's statements are compiled once per shape of filters and take the texts as parameters: they answer
    the rows, their order and the count that the filtered queryset answers, whatever the texts hold — a text
    search's page read either way (by the keys of its few matches, or counted and read by the search)."""
    monkeypatch.setattr(queries, "FEW_MATCHES", few_matches)
    _many_advisories(line)
    filters = ListFilters.from_params(params)
    for number in ["1", "2", "3", "99", "abc", "-1"]:
        expected = Paginator(queries.filtered_advisories(filters), queries.PER_PAGE).get_page(number)
        count = expected.paginator.count
        with django_assert_num_queries(_statements(filters, count, few_matches)):
            page = queries.list_page(filters, number)
            rows = [(a.pk, a.advisory_id, a.title_en, a.severity, a.published_at) for a in page.object_list]
        assert page.paginator.count == expected.paginator.count
        assert page.number == expected.number
        assert rows == [(a.pk, a.advisory_id, a.title_en, a.severity, a.published_at) for a in expected]
    # Another text of the same shape is bound into the same statements.
    if filters.q:
        other = ListFilters.from_params({**params, "q": "Summary 1"})
        assert queries.list_page(other, 1).paginator.count == queries.filtered_advisories(other).count()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_severity_label_is_what_get_severity_display_gives(language: str) -> None:
    from django.utils import translation

    from psirt.lib.severity import Severity

    with translation.override(language):
        for value in [*Severity.values, "", "Bogus"]:
            advisory = Advisory(severity=value)
            assert advisory.severity_label == advisory.get_severity_display()
        assert Advisory(severity="Critical").severity_label == ("严重" if language == "zh-hans" else "Critical")


def test_an_advisory_page_reads_its_data_once_per_revision_and_shows_a_revision_at_once(
    published: Advisory, lead: User, anonymous: Client, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.PSIRT_PUBLIC_PAGE_CACHE = 0  # every request renders
    url = f"/en/advisories/{published.advisory_id}/"
    with CaptureQueriesContext(connection) as unkept:
        anonymous.get(url)
    with CaptureQueriesContext(connection) as first:
        first_html = anonymous.get(url).content.decode()
    with CaptureQueriesContext(connection) as second:
        second_html = anonymous.get(url).content.decode()
    assert second_html == first_html
    assert len(second.captured_queries) == len(first.captured_queries)  # both read it from what the first kept
    assert len(first.captured_queries) <= len(unkept.captured_queries) - 3  # the advisory, its rows and revisions
    revise(
        advisory=published,
        actor=lead,
        changes={"title_en": "A new title for the revision"},
        revision_summary_en="Title changed.",
    )
    html = anonymous.get(url).content.decode()
    assert "A new title for the revision" in html and published.title_en not in html


def test_the_count_of_a_list_without_text_is_read_once_per_version_and_follows_every_change(
    product: Product, releases: dict[str, FirmwareRelease], lead: User, anonymous: Client, settings
) -> None:  # type: ignore[no-untyped-def]
    """The number of advisories of the whole list (or of a severity, a year, …) is kept under the list's version:
    read once, then not again until a publication or a withdrawal moves the version. A search's count, whose key
    would be the visitor's text, is counted on every request."""
    settings.PSIRT_PUBLIC_PAGE_CACHE = 0  # every request renders
    first = _published(product, lead, releases["V5.6.0"], title_en="First one")
    assert "1 advisory</p>" in anonymous.get(LIST).content.decode()
    for path in (LIST, f"{LIST}?page=1", f"{LIST}?sort=oldest"):
        with CaptureQueriesContext(connection) as again:
            assert "1 advisory</p>" in anonymous.get(path).content.decode()
        assert not [q for q in again.captured_queries if "COUNT(" in q["sql"]], path
    severity = f"{LIST}?severity={first.severity}"
    assert "1 advisory</p>" in anonymous.get(severity).content.decode()
    for _ in range(2):
        with CaptureQueriesContext(connection) as searched:
            assert "1 advisory</p>" in anonymous.get(f"{LIST}?q=First").content.decode()
        # Its matches are read every time (their keys: a few matches are counted by reading them).
        assert [q for q in searched.captured_queries if "search_text" in q["sql"]]
    _published(product, lead, releases["V5.6.0"], title_en="Second one")
    assert "2 advisories</p>" in anonymous.get(LIST).content.decode()
    assert "2 advisories</p>" in anonymous.get(severity).content.decode()
    services.withdraw_advisory(advisory=first, actor=lead, reason="Superseded")  # still listed, as withdrawn
    assert "2 advisories</p>" in anonymous.get(LIST).content.decode()
    # A change made past the services that moves no version is seen once the kept values age out, as for the
    # rest of what is kept under the version (generation.KEPT_MAX_AGE).
    Advisory.objects.filter(pk=first.pk).update(state="draft")
    forget_all()
    assert "1 advisory</p>" in anonymous.get(LIST).content.decode()


def test_the_advisories_of_a_product_are_read_from_an_index_alone(line: ProductLine) -> None:
    """A product filter's keys come from the (product, advisory) index, not from each affected row."""
    _many_advisories(line)
    filters = ListFilters(product="cam-x5")
    with CaptureQueriesContext(connection) as captured:
        page = queries.list_page(filters, 1)
        shown = [a.pk for a in page.object_list]
    assert shown == [a.pk for a in queries.filtered_advisories(filters)][: queries.PER_PAGE] and shown
    probe = captured.captured_queries[0]["sql"]
    assert probe.endswith(f"LIMIT {queries.FEW_MATCHES + 1}")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + probe)  # SQLite's captured SQL holds its values, quoted
            plan = " ".join(row[-1] for row in cursor.fetchall())
            assert "COVERING INDEX affected_product_advisory" in plan, plan
        else:
            constraints = connection.introspection.get_constraints(cursor, "advisories_affectedproduct")
            assert constraints["affected_product_advisory"]["columns"] == ["product_id", "advisory_id"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("value", [*Exploitation.values, "", "unknown<b>"])
def test_exploitation_label_is_get_exploitation_display(language: str, value: str) -> None:
    advisory = Advisory(exploitation=value)
    with translation.override(language):
        assert advisory.exploitation_label == advisory.get_exploitation_display()
        assert type(advisory.exploitation_label) is str


def test_the_advisory_page_names_the_exploitation_status(published: Advisory, anonymous: Client) -> None:
    Advisory.objects.filter(pk=published.pk).update(exploitation="poc")
    english = anonymous.get(f"/en/advisories/{published.advisory_id}/").content.decode()
    chinese = anonymous.get(f"/zh-hans/advisories/{published.advisory_id}/").content.decode()
    with translation.override("en"):
        label_en = str(Exploitation.POC.label)
    with translation.override("zh-hans"):
        label_zh = str(Exploitation.POC.label)
    assert f"<dd>{label_en}</dd>" in english and f"<dd>{label_zh}</dd>" in chinese and label_zh != label_en
