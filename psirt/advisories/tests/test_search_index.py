"""The trigram index of the search column (SQLite): it holds every advisory's search text whichever way the row was
written, and a search through it finds exactly the advisories a scan of the column finds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from psirt.accounts.models import User
from psirt.advisories import queries, services
from psirt.advisories.csaf.importer import import_csaf
from psirt.advisories.models import Advisory, AffectedProduct
from psirt.advisories.queries import ListFilters
from psirt.advisories.tests.conftest import revise
from psirt.advisories.tests.test_import import BSI
from psirt.catalog.models import ProductLine
from psirt.tests.factories import make_line, make_product


def search_index_differences() -> list[tuple[Any, ...]]:
    """The advisories whose entry in the trigram index is missing or differs from their search text, and entries of
    advisories that no longer exist; nothing on a database without the index (PostgreSQL)."""
    if not queries.search_index_ready():
        return []
    index = connection.ops.quote_name(queries.SEARCH_INDEX)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.id, a.search_text, s.search_text FROM advisories_advisory a LEFT JOIN {index} s "
            "ON s.rowid = a.id WHERE s.rowid IS NULL OR s.search_text IS NOT a.search_text"
        )
        missing = cursor.fetchall()
        cursor.execute(
            f"SELECT s.rowid FROM {index} s LEFT JOIN advisories_advisory a ON a.id = s.rowid WHERE a.id IS NULL"
        )
        return missing + cursor.fetchall()


def test_the_index_exists_exactly_on_sqlite(db: None) -> None:
    """On SQLite (with FTS5's trigram tokenizer, as every supported Debian has) after every migration, with its
    triggers: a later migration that remakes the advisories table drops them, and the index would go stale."""
    assert queries.search_index_ready() == (connection.vendor == "sqlite")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'advisories_advisory'")
            assert {row[0] for row in cursor.fetchall()} == {
                "advisory_search_insert",
                "advisory_search_update",
                "advisory_search_delete",
            }


def test_the_index_follows_every_write(
    line: ProductLine, published: Advisory, lead: User, tmp_path: Path, settings: Any
) -> None:
    """Created, edited, published, revised, withdrawn, written by update() and bulk_create(), imported from CSAF,
    deleted: the index holds each advisory's search text, and a search finds the new text and not the old."""
    assert queries.search_index_ready() == (connection.vendor == "sqlite")
    assert not search_index_differences()

    def found(text: str) -> set[int]:
        page = queries.list_page(ListFilters(q=text), 1)
        return {a.pk for a in page.object_list}

    # Published through the services (the fixture): created, edited, approved, published.
    assert found(published.advisory_id) == {published.pk}
    revise(
        advisory=published,
        actor=lead,
        changes={"summary_en": "Heap overflow in the zyxwv parser."},
        revision_summary_en="Summary corrected.",
    )
    assert not search_index_differences()
    assert found("zyxwv") == {published.pk}
    services.withdraw_advisory(advisory=published, actor=lead, reason="Not a vulnerability after all.")
    assert not search_index_differences()
    assert found("zyxwv") == {published.pk}  # withdrawn advisories stay listed

    now = timezone.now()
    Advisory.objects.filter(pk=published.pk).update(title_zh="摄像头远程代码执行")
    assert not search_index_differences()
    assert found("远程代码") == {published.pk} and found("zyxwv") == {published.pk}
    made = Advisory.objects.bulk_create(
        Advisory(
            advisory_id=f"T-SA-2001-{n:03d}",
            year=2001,
            number=n,
            state="published",
            title_en=f"Bulk qwertz {n}",
            published_at=now,
            revised_at=now,
        )
        for n in range(3)
    )
    assert not search_index_differences()
    assert len(found("qwertz")) == 3
    one = Advisory.objects.get(advisory_id="T-SA-2001-001")
    one.title_en = "Renamed"
    one.save()
    assert not search_index_differences()
    assert len(found("qwertz")) == 2 and found("T-SA-2001-001") == {one.pk}
    Advisory.objects.filter(pk__in=[a.pk for a in made]).delete()
    assert not search_index_differences()
    assert found("qwertz") == set()

    settings.PSIRT_VAR_DIR = tmp_path / "var"
    result = import_csaf(document=json.loads(BSI.read_text(encoding="utf-8")), source="bsi")
    assert result.outcome == "imported"
    assert not search_index_differences()
    assert found("BSI-2022-0001") == {Advisory.objects.get(advisory_id="BSI-2022-0001").pk}


TEXTS = [
    "Camera RCE",
    "摄像头远程代码执行",
    "Overflow 100% CPU",
    "V5_0 path a\\b",
    "Quote \" and ' OK AND NEAR(x y) * ^col: -not",
    "Écran ÅSA straße",
    "KELVIN \u212a sign and İstanbul",
    "<script>alert(1)</script>",
    "ǅungla ﬁle ｗｅｂ 🙂 emoji",
]
TERMS = [
    "camera",
    "CAMERA",
    "rce",
    "RCE",
    "era",
    "远程",
    "远程代码",
    "摄像头远程代码执行",
    "100%",
    "0% C",
    "5_0",
    "a\\b",
    "\\b",
    '"',
    '" and',
    "' OK",
    "AND",
    "and near",
    "NEAR(x",
    "* ^",
    "col:",
    "-not",
    "écran",
    "ÉCRAN",
    "Écran",
    "åsa",
    "ÅSA",
    "STRASSE",
    "straße",
    "kelvin",
    "\u212a s",
    "k sign",
    "i̇stanbul",
    "İstanbul",
    "<script>",
    "alert(1)",
    "ǆungla",
    "ǅungla",
    "ﬁle",
    "file",
    "ｗｅｂ",
    "web",
    "🙂",
    "🙂 e",
    "emoji",
    "zzz",
    "ab",
    "a",
    "%",
    "_",
]


def test_a_search_through_the_index_finds_what_the_scan_finds(line: ProductLine) -> None:
    """Every term (three characters or more: through the index on SQLite) lists exactly the advisories the search's
    own statement lists, which matches the column on every row: the same case rule (ASCII only: "écran" does not
    find "Écran", though the index folds both), the characters a LIKE pattern or the index's query syntax would
    read, Chinese, other scripts."""
    product = make_product(make_line("routers", "Routers"), "router-r1", "路由器 R1 100%", model_numbers="R1_A")
    now = timezone.now()
    for n, text in enumerate(TEXTS * 2):
        advisory = Advisory.objects.create(
            advisory_id=f"T-SA-2026-{n:03d}",
            year=2026,
            number=n,
            state=("published", "draft")[n // len(TEXTS)],
            title_en=text,
            summary_zh=text[::-1],
            published_at=now,
            revised_at=now,
        )
        AffectedProduct.objects.create(advisory=advisory, product=product)
    assert not search_index_differences()
    for term in TERMS:
        filters = ListFilters(q=term)
        expected = [a.pk for a in queries.filtered_advisories(filters)]
        with CaptureQueriesContext(connection) as captured:
            page = queries.list_page(filters, 1)
            shown = [a.pk for a in page.object_list]
        assert (page.paginator.count, shown) == (len(expected), expected[: queries.PER_PAGE]), term
        through_index = any("MATCH" in q["sql"] for q in captured.captured_queries)
        assert through_index == (connection.vendor == "sqlite" and len(term) >= queries.SEARCH_INDEX_MIN), term
    # A term the index folds and SQLite's LIKE does not: found by its own case only, on SQLite (PostgreSQL's
    # UPPER() folds it).
    assert {a.title_en for a in queries.filtered_advisories(ListFilters(q="Écran"))} == {TEXTS[5]}
    assert bool(list(queries.filtered_advisories(ListFilters(q="écran")))) == (connection.vendor == "postgresql")


def test_a_search_with_a_product_or_line_filter_matches_the_text_on_their_advisories(line: ProductLine) -> None:
    """With a product or line filter, the text is matched on that short list of advisories, not through the index."""
    with CaptureQueriesContext(connection) as captured:
        list(queries.list_page(ListFilters(q="camera", line="cameras"), 1).object_list)
        list(queries.list_page(ListFilters(q="camera", product="cam-x5"), 1).object_list)
    assert not any("MATCH" in q["sql"] for q in captured.captured_queries)


@pytest.mark.parametrize(
    "text,query",
    [
        ("abc", '"abc"'),
        ("abcd", '"abc" AND "bcd"'),
        ("abcdef", '"abc" AND "def"'),
        ("abcdefg", '"abc" AND "def" AND "efg"'),
        ('a"b"c', '"a""b" AND "b""c"'),
        ("aaaaaa", '"aaa"'),
        ("远程代码执行", '"远程代" AND "码执行"'),
    ],
)
def test_the_index_query_quotes_trigrams_laid_end_to_end(text: str, query: str) -> None:
    assert queries.search_index_query(text) == query
