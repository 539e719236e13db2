"""The one severity vocabulary: order, thresholds, and what a threshold admits."""

from __future__ import annotations

import pytest

from psirt.lib.severity import ORDER, MinimumSeverity, Severity, at_or_below, meets_minimum, rank


def test_order_is_firsts_from_lowest_to_highest() -> None:
    assert ORDER == ("None", "Low", "Medium", "High", "Critical")
    assert [rank(s) for s in ORDER] == [0, 1, 2, 3, 4]


def test_every_threshold_is_a_rating_of_the_vocabulary() -> None:
    assert MinimumSeverity.values == Severity.values
    assert MinimumSeverity.ANY == Severity.NONE


@pytest.mark.parametrize("value", ["", None, "high", "HIGH", "Severe", "<script>", "any", "Critical "])
def test_unknown_or_missing_severities_rank_below_every_rating(value: str | None) -> None:
    assert rank(value) == -1


@pytest.mark.parametrize(
    ("severity", "minimum", "passes"),
    [
        ("Medium", "Medium", True),
        ("Medium", "High", False),
        ("High", "Medium", True),
        ("Critical", "Critical", True),
        ("High", "Critical", False),
        ("None", "Low", False),
        ("None", "None", True),
        ("", "None", True),  # the lowest threshold admits even an unscored advisory
        ("", "Low", False),
        ("Critical", "severe", False),  # an unknown threshold admits nothing
        ("Critical", "", False),
    ],
)
def test_meets_minimum(severity: str, minimum: str, passes: bool) -> None:
    assert meets_minimum(severity, minimum) is passes


def test_at_or_below_lists_the_thresholds_an_advisory_passes() -> None:
    assert at_or_below("Medium") == ["None", "Low", "Medium"]
    assert at_or_below("Critical") == list(ORDER)
    assert at_or_below("") == ["None"]
    assert at_or_below("bogus") == ["None"]
