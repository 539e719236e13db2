"""CVSS wrapper: conformance corpora, errors naming the metric, vector round trips, metric metadata."""

from __future__ import annotations

import ast
import csv
from collections.abc import Iterator, Sequence
from decimal import Decimal

import pytest
from cvss import constants3, constants4
from hypothesis import given, settings
from hypothesis import strategies as st

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
from psirt.lib.cvss_metrics import metric_groups, metrics
from psirt.tests.conformance import CVSS


def tsv(name: str) -> list[dict[str, str]]:
    with open(CVSS / "generated" / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def redhat(name: str) -> Iterator[tuple[str, tuple[float, ...]]]:
    """Lines `VECTOR - (s1, s2, s3)`, `VECTOR - (s,)` or `VECTOR - s` of the library's test files."""
    for line in (CVSS / "redhat-cvss-vectors" / name).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        vector, _, scores = line.partition(" - ")
        value = ast.literal_eval(scores.strip())
        yield vector.strip(), tuple(value) if isinstance(value, tuple) else (value,)


def mismatches(rows: Sequence[tuple[str, object, object]]) -> list[tuple[str, object, object]]:
    return [(v, got, want) for v, got, want in rows if got != want][:10]


# --- conformance -------------------------------------------------------------------------------------------


def test_every_cvss31_base_vector_matches_first_calculator() -> None:
    rows = list(redhat("vectors_simple31.txt"))
    assert len(rows) == 2592
    checked: list[tuple[str, object, object]] = []
    for vector, (b, t, e) in rows:
        r = score_vector(vector)
        checked.append((vector, (r.base, r.temporal, r.environmental), (b, t, e)))
    assert mismatches(checked) == []


def test_cvss31_random_vectors_with_temporal_and_environmental_metrics() -> None:
    rows = tsv("cvss31_bte_random10000.tsv")
    assert len(rows) == 10000
    checked: list[tuple[str, object, object]] = []
    for row in rows:
        r = score_vector(row["vector"])
        got = (r.base, r.temporal, r.environmental, r.base_severity, severity_for(r.temporal or 0), r.severity)
        want = (
            float(row["base"]),
            float(row["temporal"]),
            float(row["environmental"]),
            row["base_severity"],
            row["temporal_severity"],
            row["environmental_severity"],
        )
        checked.append((row["vector"], got, want))
    assert mismatches(checked) == []


def test_cvss40_base_vectors_give_cvss_b() -> None:
    rows = tsv("cvss40_base_random5000.tsv")
    checked: list[tuple[str, object, object]] = []
    for row in rows:
        r = score_vector(row["vector"])
        want = float(row["score"])
        # Base metrics only: CVSS-B, and nothing else can change it.
        checked.append(
            (row["vector"], (r.base, r.threat, r.environmental, r.severity), (want, want, want, row["severity"]))
        )
    for vector, (score,) in redhat("vectors_simple4.txt"):
        r = score_vector(vector)
        checked.append((vector, r.base, score))
    assert len(checked) == 5000 + 1058
    assert mismatches(checked) == []


def test_cvss40_base_and_threat_vectors_give_cvss_bt() -> None:
    checked: list[tuple[str, object, object]] = []
    for row in tsv("cvss40_base_threat_random2000.tsv"):
        r = score_vector(row["vector"])
        want = float(row["score"])
        checked.append((row["vector"], (r.threat, r.environmental, r.severity), (want, want, row["severity"])))
    for vector, (score,) in redhat("vectors_threat4.txt"):
        checked.append((vector, score_vector(vector).threat, score))
    assert len(checked) == 2006
    assert mismatches(checked) == []


def test_cvss40_whole_vectors_give_cvss_bte() -> None:
    checked: list[tuple[str, object, object]] = []
    for row in tsv("cvss40_bte_random10000.tsv"):
        r = score_vector(row["vector"])
        checked.append((row["vector"], (r.environmental, r.severity), (float(row["score"]), row["severity"])))
    for name in ("vectors_security4.txt", "vectors_supplemental4.txt"):
        for vector, (score,) in redhat(name):
            checked.append((vector, score_vector(vector).environmental, score))
    lines = (CVSS / "v4.0-macrovector-data" / "first_macro-scores.txt").read_text(encoding="utf-8").splitlines()
    for line in lines:
        item = ast.literal_eval(line)
        r = score_vector(item["vector"])
        checked.append((item["vector"], (r.environmental, r.severity), (float(item["score"]), item["severity"])))
    assert len(checked) == 10000 + 54 + 576 + 270
    assert mismatches(checked) == []


def test_cvss40_rounding_ties_follow_epsilon_half_up_rounding() -> None:
    rows = tsv("cvss40_base_rounding_ties.tsv")
    assert len(rows) == 522
    checked = [(row["vector"], score_vector(row["vector"]).base, float(row["score_epsilon_rounding"])) for row in rows]
    assert mismatches(checked) == []


def test_supplemental_metrics_never_change_the_score() -> None:
    base = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    r = score_vector(base + "/S:P/AU:Y/R:I/V:C/RE:H/U:Red")
    assert (r.base, r.threat, r.environmental) == (9.3, 9.3, 9.3)
    assert r.vector == base + "/S:P/AU:Y/R:I/V:C/RE:H/U:Red"


def test_v40_threat_and_environmental_scores_are_separate() -> None:
    r = score_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/CR:L/MSI:S")
    assert r.as_dict() == {
        "version": "4.0",
        "base": 9.3,
        "threat": 8.1,
        "environmental": 9.4,
        "severity": "Critical",
        "vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/CR:L/MSI:S",
    }


def test_v31_result_has_temporal_and_no_threat() -> None:
    r = score_vector(" CVSS:3.1/A:H/I:H/C:H/S:U/UI:N/PR:N/AC:L/AV:N/E:P/RL:X ")
    assert r.as_dict() == {
        "version": "3.1",
        "base": 9.8,
        "temporal": 9.3,
        "environmental": 9.3,
        "severity": "Critical",
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P",
    }
    assert r.base_severity == "Critical"


@pytest.mark.parametrize(
    ("score", "severity"),
    [(0, "None"), (0.1, "Low"), (3.9, "Low"), (4.0, "Medium"), (6.9, "Medium"), (7.0, "High"), (9.0, "Critical")],
)
def test_severity_bands(score: float, severity: str) -> None:
    assert severity_for(score) == severity


# --- errors ------------------------------------------------------------------------------------------------

V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
V40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"


@pytest.mark.parametrize(
    ("vector", "metric", "words"),
    [
        (V31 + "/XY:Z", "XY", "Unknown metric"),
        (V31 + "/AT:N", "AT", "Unknown metric"),  # a v4.0 metric in a v3.1 vector
        (V40 + "/RL:O", "RL", "Unknown metric"),  # a v3.1 metric in a v4.0 vector
        (V31.replace("AV:N", "AV:Q"), "AV", "not a value of AV (Attack Vector)"),
        (V31 + "/E:A", "E", "Exploit Code Maturity"),
        (V40.replace("UI:N", "UI:R"), "UI", "Passive"),
        (V40 + "/MSC:S", "MSC", "not a value"),
        (V31 + "/AV:L", "AV", "appears twice"),
        (V31.replace("/S:U", ""), "S", "Missing base metric: S (Scope)"),
        (V40.replace("/AT:N", ""), "AT", "AT (Attack Requirements)"),
        ("CVSS:3.1/", "AV", "Missing base metrics"),
        ("CVSS:3.1", "AV", "Missing base metrics"),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS", "not supported"),
        ("CVSS:2.0/AV:N", "CVSS", "not supported"),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS", "starts with CVSS:3.1/ or CVSS:4.0/"),
        ("cvss:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS", "capitals"),
        (V31.replace("AV:N", "av:N"), "av", "upper-case"),
        (V31 + "//E:P", None, "empty field"),
        (V31 + "/", None, "empty field"),
        (V31 + "/E", "E", "KEY:VALUE"),
        ("", None, "empty"),
        ("   ", None, "empty"),
        ("x" * 10_240, None, "too long"),
        (V31 + "/<script>:1", "<script>", "Unknown metric"),
        ("CVSS:3.1/" + "é" * 50, "éééééééééééééééééééé…", "KEY:VALUE"),
        (V31 + "/E:P\x00", "E", "not a value"),
    ],
)
def test_invalid_vectors_raise_an_error_naming_the_metric(vector: str, metric: str | None, words: str) -> None:
    with pytest.raises(CvssError) as info:
        score_vector(vector)
    assert info.value.metric == metric
    assert words in str(info.value)


def test_non_string_vector_is_refused() -> None:
    with pytest.raises(CvssError):
        score_vector(None)  # type: ignore[arg-type]


def test_the_longest_valid_vector_fits_the_length_cap() -> None:
    longest = build_vector("4.0", {m.key: m.values[-1].code for m in metrics("4.0").values()})
    assert len(longest) < MAX_VECTOR_LENGTH
    assert score_vector(longest).version == "4.0"


# --- vectors as forms --------------------------------------------------------------------------------------


def values_for(version: str) -> st.SearchStrategy[dict[str, str]]:
    """Random calculator-form input: every mandatory metric, any subset of the others (X allowed)."""
    entries = {}
    for key, metric in metrics(version).items():
        choice = st.sampled_from(metric.codes)
        entries[key] = choice if metric.mandatory else st.one_of(st.none(), choice)
    return st.fixed_dictionaries(entries).map(lambda d: {k: v for k, v in d.items() if v is not None})


@settings(max_examples=300, deadline=None)
@given(data=st.data(), version=st.sampled_from(["3.1", "4.0"]))
def test_build_and_parse_round_trip(data: st.DataObject, version: str) -> None:
    values = data.draw(values_for(version))
    vector = build_vector(version, values)
    assert parse_vector(vector) == {k: v for k, v in values.items() if v != "X"}
    assert build_vector(version, parse_vector(vector)) == vector
    # Any order of metrics on input normalises to the same vector and the same scores.
    fields = vector.split("/")[1:]
    shuffled = "/".join([vector.split("/")[0], *data.draw(st.permutations(fields))])
    assert normalise_vector(shuffled) == vector
    assert score_vector(shuffled) == score_vector(vector)
    result = score_vector(vector)
    assert 0.0 <= result.base <= 10.0 and 0.0 <= result.environmental <= 10.0


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=400))
def test_arbitrary_text_never_raises_anything_but_cvss_error(text: str) -> None:
    try:
        score_vector(text)
    except CvssError as exc:
        assert exc.message


@settings(max_examples=200, deadline=None)
@given(data=st.data(), version=st.sampled_from(["3.1", "4.0"]))
def test_mangled_fields_raise_cvss_error_with_a_metric(data: st.DataObject, version: str) -> None:
    vector = build_vector(version, data.draw(values_for(version)))
    fields = vector.split("/")
    i = data.draw(st.integers(min_value=1, max_value=len(fields) - 1))
    key = fields[i].split(":")[0]
    fields[i] = key + ":" + data.draw(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=3))
    with pytest.raises(CvssError) as info:
        score_vector("/".join(fields))
    assert info.value.metric == key


def test_build_vector_refuses_unknown_version_and_metric() -> None:
    with pytest.raises(CvssError, match="not supported"):
        build_vector("3.0", {"AV": "N"})
    with pytest.raises(CvssError) as info:
        build_vector("3.1", {**parse_vector(V31), "ZZ": "1"})
    assert info.value.metric == "ZZ"


# --- metric metadata ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "library"), [("3.1", constants3), ("4.0", constants4)])
def test_metadata_offers_exactly_what_the_library_scores(version: str, library: object) -> None:
    ours = metrics(version)
    theirs = library.METRICS_VALUE_NAMES  # type: ignore[attr-defined]
    assert list(ours) == list(library.METRICS_ABBREVIATIONS)  # type: ignore[attr-defined]
    for key, metric in ours.items():
        assert set(metric.codes) == set(theirs[key]), key
        assert metric.mandatory == (key in library.METRICS_MANDATORY), key  # type: ignore[attr-defined]


@pytest.mark.parametrize("version", ["3.1", "4.0"])
def test_every_metric_and_value_is_named_in_both_languages(version: str) -> None:
    groups = metric_groups(version)
    assert groups[0].key == "base"
    assert ("temporal" if version == "3.1" else "threat") in [g.key for g in groups]
    for group in groups:
        assert group.name_en and group.name_zh
        for metric in group.metrics:
            assert metric.name_en and metric.name_zh, metric.key
            assert all(v.name_en and v.name_zh for v in metric.values), metric.key
            assert metric.value(metric.codes[0]) is metric.values[0]
            assert metric.value("nonsense") is None
            # "Not Defined" is offered (first) exactly for the optional metrics.
            assert (metric.codes[0] == "X") == (not metric.mandatory), metric.key


def test_environmental_group_has_requirements_and_modified_base_metrics() -> None:
    env31 = next(g for g in metric_groups("3.1") if g.key == "environmental")
    assert [m.key for m in env31.metrics] == ["CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA"]
    env40 = next(g for g in metric_groups("4.0") if g.key == "environmental")
    assert {"CR", "IR", "AR", "MAV", "MAT", "MVC", "MSI"} <= {m.key for m in env40.metrics}


def test_unknown_version_has_no_metadata() -> None:
    with pytest.raises(ValueError, match="not supported"):
        metric_groups("2.0")


# The one severity rule: v4.0 base + threat when a v4.0 vector is known, else v3.1 temporal; never environmental.
V31_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def test_decisive_rating_uses_v31_temporal_and_ignores_environmental_metrics() -> None:
    # 9.8 base × E:U 0.91 × RL:O 0.95 = 8.47 → 8.5 temporal; CR/IR/AR:L would lower the environmental score.
    rating = decisive_rating(V31_CRITICAL + "/E:U/RL:O/RC:C/CR:L/IR:L/AR:L")
    assert rating is not None
    assert (rating.version, rating.score, rating.severity) == ("3.1", Decimal("8.5"), "High")
    assert score_vector(V31_CRITICAL + "/E:U/RL:O/RC:C/CR:L/IR:L/AR:L").environmental < 8.5


def test_decisive_rating_prefers_v40_base_and_threat_over_v31() -> None:
    v40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/CR:L"
    rating = decisive_rating(V31_CRITICAL, v40)
    assert rating is not None
    result = score_vector(v40)
    assert (rating.version, rating.score) == ("4.0", Decimal(str(result.threat)))
    assert result.threat is not None and result.threat < result.base
    assert rating.severity == severity_for(result.threat) == "High"
    assert rating.vector == result.vector


def test_decisive_rating_of_a_low_v40_wins_over_a_critical_v31() -> None:
    rating = decisive_rating(V31_CRITICAL, "CVSS:4.0/AV:N/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N")
    assert rating is not None and rating.severity == "Low"


@pytest.mark.parametrize("v31,v40", [("", ""), ("  ", " ")])
def test_decisive_rating_without_a_vector_is_none(v31: str, v40: str) -> None:
    assert decisive_rating(v31, v40) is None


def test_decisive_rating_called_without_arguments_is_none() -> None:
    # Both vectors default to "no vector": a caller that passes only one of them gets a rating for that one.
    assert decisive_rating() is None
    rating = decisive_rating(cvss40_vector="CVSS:4.0/AV:N/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N")
    assert rating is not None and rating.version == "4.0"


def test_decisive_rating_refuses_an_invalid_vector() -> None:
    with pytest.raises(CvssError):
        decisive_rating("CVSS:3.1/AV:Q")
