"""The CVSS wrapper's own rules, checked where mutation testing found them unchecked: each error's exact words in
both languages, the length limits, the form's skipped metrics, the result's shape and the severity bands' edges."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from psirt.lib.cvss import (
    MAX_VECTOR_LENGTH,
    CvssError,
    build_vector,
    decisive_rating,
    normalise_vector,
    parse_vector,
    score_vector,
    severity_for,
)
from psirt.lib.tests.test_cvss import V31, V40

ERRORS: list[tuple[object, str, str | None]] = [
    (
        V31.replace("AV:N", "AV:Q"),
        "'Q' is not a value of AV (Attack Vector); use one of: N (Network), A (Adjacent), L (Local), P (Physical).",
        "AV",
    ),
    (V31 + "/AV:L", "The metric AV (Attack Vector) appears twice.", "AV"),
    (V31.replace("/S:U", ""), "Missing base metric: S (Scope).", "S"),
    (
        "CVSS:3.1/AV:N/S:U/C:H/I:H/A:H",
        "Missing base metrics: AC (Attack Complexity), PR (Privileges Required), UI (User Interaction).",
        "AC",
    ),
    ("CVSS:3.0/AV:N", "CVSS version '3.0' is not supported: use CVSS:3.1/ or CVSS:4.0/.", "CVSS"),
    (
        "CVSS:3.1.2345678901234567890123/AV:N",
        "CVSS version '3.1.2345678901234567…' is not supported: use CVSS:3.1/ or CVSS:4.0/.",
        "CVSS",
    ),
    ("cvss:4.0/AV:N", "Write the prefix in capitals: CVSS:4.0/", "CVSS"),
    ("x" * (MAX_VECTOR_LENGTH + 1), "This is too long to be a CVSS vector (more than 300 characters).", None),
    ("x" * MAX_VECTOR_LENGTH, "A vector starts with CVSS:3.1/ or CVSS:4.0/ followed by its metrics.", "CVSS"),
    (None, "A CVSS vector is a text such as CVSS:3.1/AV:N/AC:L/…", None),
    (" \t", "The vector is empty: paste a vector such as CVSS:3.1/AV:N/AC:L/…", None),
    (V31 + "//E:P", "The vector has an empty field (two slashes in a row, or a trailing slash).", None),
    (V31 + "/E", "'E' is not a metric: write KEY:VALUE, e.g. AV:N.", "E"),
    (V31 + "/" + "é" * 24, "'" + "é" * 24 + "' is not a metric: write KEY:VALUE, e.g. AV:N.", "é" * 24),
    (V31 + "/" + "é" * 25, "'" + "é" * 20 + "…' is not a metric: write KEY:VALUE, e.g. AV:N.", "é" * 20 + "…"),
    (V31.replace("AV:N", "av:N"), "Unknown metric 'av' in a CVSS 3.1 vector (metric names are upper-case).", "av"),
    (V40 + "/ZZ:1", "Unknown metric 'ZZ' in a CVSS 4.0 vector.", "ZZ"),
]


@pytest.mark.parametrize(("vector", "message", "metric"), ERRORS)
def test_each_error_says_exactly_what_is_wrong(vector: str, message: str, metric: str | None) -> None:
    with translation.override("en"), pytest.raises(CvssError) as info:
        score_vector(vector)
    assert (info.value.message, str(info.value), info.value.metric) == (message, message, metric)


@pytest.mark.parametrize("language", ["zh-hans", "zh-HANS"])
def test_errors_name_the_metric_and_its_values_in_chinese(language: str) -> None:
    with translation.override(language), pytest.raises(CvssError) as info:
        score_vector(V31.replace("AV:N", "AV:Q"))
    assert (
        info.value.message
        == "'Q' 不是 AV（攻击途径）的取值；请使用以下之一：N (网络), A (相邻网络), L (本地), P (物理)。"
    )
    with translation.override(language), pytest.raises(CvssError) as info:
        score_vector(V31.replace("/S:U", ""))
    assert info.value.message == "缺少基本指标：S (影响范围)。"


def test_a_form_leaves_out_the_metrics_it_did_not_set() -> None:
    values = {**parse_vector(V31), "E": "", "RL": None, "RC": "X", "CR": "H"}
    assert build_vector("3.1", values) == V31 + "/CR:H"  # type: ignore[arg-type]
    with pytest.raises(CvssError) as info:
        build_vector("2.0", {"AV": "N"})
    assert (info.value.message, info.value.metric) == (
        "CVSS version '2.0' is not supported: use 3.1 or 4.0.",
        "CVSS",
    )


def test_a_vector_with_only_its_prefix_misses_every_base_metric() -> None:
    with pytest.raises(CvssError) as info:
        parse_vector("CVSS:4.0")
    assert info.value.metric == "AV" and info.value.message.startswith("Missing base metrics: AV (Attack Vector), ")


def test_a_v31_result_as_json_has_its_temporal_score_and_both_severities() -> None:
    r = score_vector(V31 + "/E:U/RL:O/CR:L/IR:L/AR:L")
    assert r.as_dict() == {
        "version": "3.1",
        "base": 9.8,
        "temporal": 8.5,
        "environmental": 7.0,
        "severity": "High",
        "vector": V31 + "/E:U/RL:O/CR:L/IR:L/AR:L",
    }
    assert (r.threat, r.base_severity) == (None, "Critical")


def test_a_v40_result_rates_its_base_and_its_whole_vector() -> None:
    r = score_vector("CVSS:4.0/AV:N/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N/MVC:H/MVI:H/MVA:H/CR:H")
    assert (r.base, r.temporal, r.threat, r.environmental) == (1.8, None, 1.8, 7.1)
    assert (r.base_severity, r.severity) == ("Low", "High")


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (Decimal("0.0"), "None"),
        (1.0, "Low"),
        (8.9, "High"),
        (10, "Critical"),
    ],
)
def test_severity_bands_at_every_edge(score: float | Decimal, severity: str) -> None:
    assert severity_for(score) == severity


def test_the_decisive_rating_carries_the_normalised_vector() -> None:
    rating = decisive_rating(" CVSS:3.1/A:H/I:H/C:H/S:U/UI:N/PR:N/AC:L/AV:N/E:P ", "")
    assert rating is not None
    assert (rating.version, rating.score, rating.severity, rating.vector) == (
        "3.1",
        Decimal("9.3"),
        "Critical",
        V31 + "/E:P",
    )
    blank_v40 = decisive_rating(V31, "   ")
    assert blank_v40 is not None and blank_v40.version == "3.1"


def test_normalising_puts_firsts_order_and_drops_what_is_not_defined() -> None:
    assert normalise_vector(" CVSS:3.1/A:H/I:H/C:H/S:U/UI:N/PR:N/AC:L/AV:N/RL:X/E:P ") == V31 + "/E:P"
    assert normalise_vector(V40.replace("AV:N/", "") + "/E:X/AV:L") == V40.replace("AV:N", "AV:L")
    with pytest.raises(CvssError) as info:
        normalise_vector("CVSS:3.1/AV:N")
    assert info.value.metric == "AC"


def test_a_field_with_two_colons_is_a_wrong_value_of_its_metric() -> None:
    with translation.override("en"), pytest.raises(CvssError) as info:
        score_vector(V31.replace("AV:N", "AV:N:N"))
    assert info.value.metric == "AV"
    assert info.value.message.startswith("'N:N' is not a value of AV (Attack Vector)")
