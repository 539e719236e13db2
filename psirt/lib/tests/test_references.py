from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from psirt.lib.references import (
    CNNVD,
    CNVD,
    CVE,
    EUVD,
    InvalidReference,
    classify_identifier,
    normalise_advisory_url,
    normalise_cnnvd,
    normalise_cnvd,
    normalise_cve,
    normalise_euvd,
    validate_advisory_url,
    validate_cnnvd,
    validate_cnvd,
    validate_cve,
    validate_euvd,
)

TODAY = dt.date(2026, 6, 1)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("CVE-2024-12345", "CVE-2024-12345"),
        ("  cve-2021-44228 ", "CVE-2021-44228"),
        ("CVE-1999-0001", "CVE-1999-0001"),
        ("CVE-2014-0160", "CVE-2014-0160"),
        ("CVE-2027-1000000", "CVE-2027-1000000"),  # reserved for next year
        ("ＣＶＥ－２０２４－１２３４", "CVE-2024-1234"),  # full-width, typed with a Chinese input method
        ("CVE\u20132024\u20141234", "CVE-2024-1234"),  # typographic dashes
    ],
)
def test_valid_cve_ids_are_normalised(raw: str, canonical: str) -> None:
    assert normalise_cve(raw, today=TODAY) == canonical


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("CVE-2024-123", "at least four digits"),
        ("CVE-24-1234", "CVE-2024-12345"),
        ("CVE-1998-1234", "between 1999 and 2027"),
        ("CVE-2028-1234", "between 1999 and 2027"),
        ("CVE-2014-00001", "no leading zero (CVE-2014-0001)"),
        ("CVE 2024 1234", "CVE-2024-12345"),
        ("CVE-2024-1234/", "CVE-2024-12345"),
        ("CVE-2024-1234\nCVE-2024-5678", "CVE-2024-12345"),
        ("CVE-2024-" + "1" * 20, "CVE-2024-12345"),
        ("<script>CVE-2024-1234</script>", "CVE-2024-12345"),
        ("CVE-2024-1234" * 100, "too long"),
        ("", "CVE-2024-12345"),
        ("CVE-٢٠٢٤-١٢٣٤", "CVE-2024-12345"),  # Arabic-Indic digits are not what the format means
    ],
)
def test_invalid_cve_ids_are_refused_with_the_format(raw: str, words: str) -> None:
    with pytest.raises(InvalidReference, match=re.escape(words)) as info:
        normalise_cve(raw, today=TODAY)
    assert info.value.kind == CVE


def test_cve_year_limit_follows_today() -> None:
    next_year = dt.date.today().year + 1
    assert normalise_cve(f"CVE-{next_year}-0001") == f"CVE-{next_year}-0001"
    with pytest.raises(InvalidReference):
        normalise_cve(f"CVE-{next_year + 1}-0001")


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("CNVD-2024-01234", "CNVD-2024-01234"),
        ("cnvd-2009-00001", "CNVD-2009-00001"),
        (" CNVD－2025－12345", "CNVD-2025-12345"),
    ],
)
def test_valid_cnvd_ids(raw: str, canonical: str) -> None:
    assert normalise_cnvd(raw, today=TODAY) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "CNVD-2024-1234",
        "CNVD-2024-123456",
        "CNVD-24-01234",
        "CNVD-2008-01234",
        "CNVD-2030-01234",
        "CNVD2024-01234",
        "CNNVD-2024-01234",
    ],
)
def test_invalid_cnvd_ids(raw: str) -> None:
    with pytest.raises(InvalidReference) as info:
        normalise_cnvd(raw, today=TODAY)
    assert info.value.kind == CNVD


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("CNNVD-202401-1234", "CNNVD-202401-1234"),
        ("cnnvd-202512-0001", "CNNVD-202512-0001"),
        ("CNNVD-201905-001", "CNNVD-201905-001"),  # three-digit sequences of older IDs
    ],
)
def test_valid_cnnvd_ids(raw: str, canonical: str) -> None:
    assert normalise_cnnvd(raw, today=TODAY) == canonical


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("CNNVD-202413-1234", "13 is not a month"),
        ("CNNVD-202400-1234", "00 is not a month"),
        ("CNNVD-2024-1234", "year and month"),
        ("CNNVD-202401-12345", "year and month"),
        ("CNNVD-202401-12", "year and month"),
        ("CNNVD-199801-1234", "between 1999 and 2027"),
        ("CNNVD-202801-1234", "between 1999 and 2027"),
    ],
)
def test_invalid_cnnvd_ids(raw: str, words: str) -> None:
    with pytest.raises(InvalidReference, match=words) as info:
        normalise_cnnvd(raw, today=TODAY)
    assert info.value.kind == CNNVD


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("EUVD-2025-14498", "EUVD-2025-14498"),
        ("euvd-2018-16983", "EUVD-2018-16983"),  # the database also holds older vulnerabilities
        ("EUVD-1999-0001", "EUVD-1999-0001"),
        ("EUVD-2027-1000000", "EUVD-2027-1000000"),  # next year, as for CVE
        ("ＥＵＶＤ－２０２５－１２３４５", "EUVD-2025-12345"),  # full-width
        ("EUVD\u20132025\u201412345", "EUVD-2025-12345"),  # typographic dashes
    ],
)
def test_valid_euvd_ids_are_normalised(raw: str, canonical: str) -> None:
    assert normalise_euvd(raw, today=TODAY) == canonical


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("EUVD-2025-123", "at least four digits"),
        ("EUVD-25-12345", "at least four digits"),
        ("EUVD-2025-12345-1", "at least four digits"),
        ("EUVD-2025-1234a", "at least four digits"),
        ("EUVD_2025_12345", "at least four digits"),
        ("EUVD-2025-\u0661\u0662\u0663\u0664\u0665", "at least four digits"),  # Arabic-Indic digits
        ("EUVD-2025-" + "1" * 20, "at least four digits"),
        ("EUVD-1998-12345", "between 1999 and 2027"),
        ("EUVD-2028-12345", "between 1999 and 2027"),
        ("EUVD-2025-012345", "no leading zero (EUVD-2025-12345)"),
        ("CVE-2025-12345", "at least four digits"),
        ("EUVD-2025-" + "1" * 500, "too long"),
    ],
)
def test_invalid_euvd_ids_are_refused_with_the_format(raw: str, words: str) -> None:
    with pytest.raises(InvalidReference) as info:
        normalise_euvd(raw, today=TODAY)
    assert words in info.value.message and info.value.kind == EUVD


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("cve-2024-1234", (CVE, "CVE-2024-1234")),
        ("CNVD-2024-01234", (CNVD, "CNVD-2024-01234")),
        ("cnnvd-202401-1234", (CNNVD, "CNNVD-202401-1234")),
        (" euvd-2025-14498 ", (EUVD, "EUVD-2025-14498")),
    ],
)
def test_classify_recognises_the_kind(raw: str, expected: tuple[str, str]) -> None:
    assert classify_identifier(raw, today=TODAY) == expected


@pytest.mark.parametrize(
    "raw",
    ["GHSA-xxxx-xxxx-xxxx", "JVN#12345678", "", "CNNVD-202413-1234", "EUVD-2025-12", "EUVD 2025 12345", None, 2024],
)
def test_classify_refuses_other_identifiers(raw: object) -> None:
    with pytest.raises(InvalidReference):
        classify_identifier(raw, today=TODAY)  # type: ignore[arg-type]


def test_django_validators_raise_validation_errors() -> None:
    validate_cve("CVE-2024-1234")
    validate_cnvd("CNVD-2024-01234")
    validate_cnnvd("CNNVD-202401-1234")
    validate_euvd("EUVD-2025-12345")
    for validator, bad in (
        (validate_cve, "CVE-1"),
        (validate_cnvd, "CNVD-1"),
        (validate_cnnvd, "CNNVD-1"),
        (validate_euvd, "EUVD-1"),
    ):
        with pytest.raises(ValidationError) as info:
            validator(bad)
        assert info.value.code == "invalid"


@pytest.mark.parametrize(
    "url",
    ["https://www.cisa.gov/news-events/ics-advisories/icsa-24-001-01", "http://example.com/advisory?id=1#top"],
)
def test_advisory_links_are_accepted(url: str) -> None:
    assert normalise_advisory_url("  " + url + " ") == url
    validate_advisory_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.com/a",
        "//example.com/a",
        "/relative/path",
        "https://",
        "https://user:pass@example.com/",
        "https://example.com/a b",
        "https://example.com/\x00",
        "https://example.com:99999/",
        "https://example.com/" + "a" * 3000,
        "",
        None,
    ],
)
def test_hostile_or_malformed_links_are_refused(url: object) -> None:
    with pytest.raises(InvalidReference):
        normalise_advisory_url(url)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        validate_advisory_url(url)  # type: ignore[arg-type]


# --- properties ---------------------------------------------------------------------------------------------

years = st.integers(min_value=1999, max_value=2027)


@given(year=years, number=st.integers(min_value=0, max_value=10**12), noise=st.sampled_from(["", " ", "\t", "\n"]))
def test_every_well_formed_cve_id_round_trips(year: int, number: int, noise: str) -> None:
    canonical = f"CVE-{year}-{number:04d}"
    assert normalise_cve(noise + canonical.lower() + noise, today=TODAY) == canonical
    assert normalise_cve(canonical, today=TODAY) == canonical  # idempotent


@given(year=years, number=st.integers(min_value=0, max_value=10**12))
def test_every_well_formed_euvd_id_round_trips(year: int, number: int) -> None:
    canonical = f"EUVD-{year}-{number:04d}"
    assert classify_identifier(canonical.lower(), today=TODAY) == (EUVD, canonical)


@given(year=years, month=st.integers(min_value=1, max_value=12), number=st.integers(min_value=0, max_value=9999))
def test_every_well_formed_cnnvd_id_round_trips(year: int, month: int, number: int) -> None:
    canonical = f"CNNVD-{year}{month:02d}-{number:04d}"
    assert classify_identifier(canonical.lower(), today=TODAY) == (CNNVD, canonical)


@given(year=years, month=st.integers(min_value=13, max_value=99))
def test_cnnvd_months_beyond_twelve_are_refused(year: int, month: int) -> None:
    with pytest.raises(InvalidReference, match="not a month"):
        normalise_cnnvd(f"CNNVD-{year}{month:02d}-1234", today=TODAY)


@given(text=st.text(max_size=200))
def test_arbitrary_text_is_either_refused_or_a_canonical_id(text: str) -> None:
    try:
        kind, canonical = classify_identifier(text, today=TODAY)
    except InvalidReference as exc:
        assert exc.message
        return
    assert re.fullmatch(r"(CVE|EUVD)-[0-9]{4}-[0-9]{4,19}|CNVD-[0-9]{4}-[0-9]{5}|CNNVD-[0-9]{6}-[0-9]{3,4}", canonical)
    assert classify_identifier(canonical, today=TODAY) == (kind, canonical)


@given(
    prefix=st.sampled_from(["CVE", "CNVD", "CNNVD", "EUVD"]),
    body=st.text(alphabet="0123456789-_/ .ABCxyz", max_size=30),
)
def test_fuzzed_bodies_never_crash(prefix: str, body: str) -> None:
    try:
        kind, canonical = classify_identifier(f"{prefix}-{body}", today=TODAY)
    except InvalidReference:
        return
    assert canonical.startswith(prefix + "-") and kind == prefix.lower()
