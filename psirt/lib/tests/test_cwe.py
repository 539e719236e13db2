from __future__ import annotations

import json

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from psirt.lib.cwe import DATA_FILE, all_entries, is_known, lookup, normalise_cwe_id, search

TOP25_2024 = [79, 787, 89, 352, 22, 125, 78, 416, 862, 434, 94, 20, 77, 287, 269, 502, 200, 863, 918, 119, 476, 798]
TOP25_2024 += [190, 400, 306]
# The weaknesses camera / IoT advisories cite most, which the list must always offer.
DEVICE_WEAKNESSES = [
    20,
    22,
    77,
    78,
    79,
    89,
    119,
    120,
    121,
    122,
    125,
    190,
    200,
    250,
    259,
    269,
    276,
    284,
    285,
    287,
    288,
    290,
    294,
    295,
    306,
    311,
    312,
    319,
    320,
    321,
    326,
    327,
    330,
    338,
    345,
    347,
    352,
    362,
    384,
    400,
    401,
    416,
    425,
    434,
    476,
    502,
    521,
    522,
    552,
    601,
    610,
    611,
    613,
    639,
    640,
    668,
    693,
    749,
    754,
    770,
    787,
    798,
    862,
    863,
    912,
    918,
    922,
    1021,
    1188,
    1191,
    1231,
    1233,
    1240,
    1242,
    1244,
    1247,
    1256,
    1270,
    1274,
    1277,
    1283,
    1299,
    1300,
    1317,
    1326,
    1391,
    1392,
    1393,
]


def test_data_file_is_well_formed_and_sorted() -> None:
    doc = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    assert "curated subset" in " ".join(doc["_about"])
    ids = [e["id"] for e in doc["entries"]]
    assert ids == sorted(set(ids)), "entries must be unique and sorted by id"
    assert len(ids) >= 150
    for e in doc["entries"]:
        assert set(e) <= {"id", "name", "name_zh", "kind", "top25_2024"}, e
        assert isinstance(e["id"], int) and e["id"] > 0
        assert e["name"] == e["name"].strip() and e["name"], e
        assert e["name_zh"] == e["name_zh"].strip() and e["name_zh"], e
        assert e.get("kind", "weakness") in {"weakness", "category"}


def test_top_25_of_2024_is_complete_and_ranked() -> None:
    ranked = sorted((e for e in all_entries() if e.top25_2024), key=lambda e: e.top25_2024 or 0)
    assert [e.id for e in ranked] == TOP25_2024


@pytest.mark.parametrize("cwe_id", DEVICE_WEAKNESSES)
def test_weaknesses_device_vendors_cite_are_known(cwe_id: int) -> None:
    assert is_known(cwe_id)


@pytest.mark.parametrize(
    ("cwe_id", "name"),
    [
        (79, "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"),
        (787, "Out-of-bounds Write"),
        (798, "Use of Hard-coded Credentials"),
        (1191, "On-Chip Debug and Test Interface With Improper Access Control"),
        (1392, "Use of Default Credentials"),
        (320, "Key Management Errors"),
    ],
)
def test_official_names(cwe_id: int, name: str) -> None:
    entry = lookup(cwe_id)
    assert entry is not None and entry.name == name


@pytest.mark.parametrize("spelling", [79, "79", "CWE-79", "cwe-79", " CWE 79 ", "CWE_79", "cwe79"])
def test_lookup_accepts_the_usual_spellings(spelling: int | str) -> None:
    entry = lookup(spelling)
    assert entry is not None and entry.cwe_id == "CWE-79"
    assert str(entry).startswith("CWE-79: Improper Neutralization")


@pytest.mark.parametrize(
    "bad", ["", "CWE-", "CWE--79", "79a", "CVE-2024-1", "-79", 0, -5, True, "9" * 40, "<script>", None, 7.9]
)
def test_lookup_of_non_identifiers_is_none(bad: object) -> None:
    assert lookup(bad) is None  # type: ignore[arg-type]
    assert not is_known(bad)  # type: ignore[arg-type]


def test_unknown_number_is_not_known() -> None:
    assert normalise_cwe_id("CWE-999999") == 999999
    assert lookup("CWE-999999") is None


def test_category_is_marked() -> None:
    entry = lookup(320)
    assert entry is not None and entry.kind == "category"


def test_search_by_number_puts_the_exact_entry_first() -> None:
    results = search("CWE-12", limit=10)
    assert not is_known(12)
    assert [e.id for e in results[:3]] == [120, 121, 122]
    assert [e.id for e in search("125")][:2] == [125, 1252]
    assert all(str(e.id).startswith("12") for e in results)
    assert [e.id for e in search("787")] == [787]


def test_search_by_words_finds_names_case_insensitively() -> None:
    results = search("hard-coded", limit=10)
    assert {259, 321, 798} <= {e.id for e in results}
    assert results[0].id == 798  # a Top 25 weakness first
    assert [e.id for e in search("DEBUG interface")] == [1191]
    assert {e.id for e in search("buffer overflow")} >= {120, 121, 122, 680}


def test_search_by_chinese_name() -> None:
    assert 79 in {e.id for e in search("跨站脚本")}
    assert search("默认口令")[0].id == 1393


def test_search_respects_limit_and_refuses_nonsense() -> None:
    assert len(search("improper", limit=5)) == 5
    assert len(search("improper", limit=10_000)) <= 100
    assert search("improper", limit=-3) == []
    assert search("") == []
    assert search("   ") == []
    assert search(".*(") == []
    assert search(None) == []  # type: ignore[arg-type]
    assert search("x" * 100_000) == []


def test_localized_name_follows_the_active_language() -> None:
    entry = lookup(79)
    assert entry is not None
    with translation.override("zh-hans"):
        assert entry.label == "CWE-79: 网页生成期间输入中和不恰当（跨站脚本）"
    with translation.override("en"):
        assert entry.localized_name == entry.name


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), limit=st.integers(min_value=-5, max_value=500))
def test_search_never_fails_and_every_result_matches(text: str, limit: int) -> None:
    results = search(text, limit)
    assert len(results) <= max(0, min(limit, 100))
    words = text.casefold().split()
    if results and normalise_cwe_id(text) is None:
        for e in results:
            assert all(w in e.name.casefold() or w in e.name_zh or w in e.cwe_id.casefold() for w in words)
