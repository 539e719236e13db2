"""Vulnerability identifiers and advisory links a case refers to: format checks and normal forms.

* CVE — `CVE-YYYY-NNNN…`: year from 1999 (the first CVE list) to next year (IDs are reserved ahead), a
  sequence of at least 4 digits (at most 19, as the CVE JSON 5 schema allows) with no leading zero beyond the
  fourth digit (CVE ID syntax of 2014: "CVE-2014-0001" yes, "CVE-2014-00001" no).
* CNVD — `CNVD-YYYY-NNNNN`: China National Vulnerability Database, five-digit sequence, year from 2009.
* CNNVD — `CNNVD-YYYYMM-NNNN`: China National Vulnerability Database of Information Security; the middle part
  is a real year and month; the sequence has four digits (three in IDs issued before 2020 or so, also
  accepted, since those IDs are still cited).
* EUVD — `EUVD-YYYY-NNNN…`: ENISA's European Vulnerability Database (the ID the CRA's Single Reporting Platform
  asks for). The year runs from 1999 like CVE's (the database also holds records of older vulnerabilities, e.g.
  EUVD-2018-16983) to next year; the sequence has 4 to 19 digits and no leading zero beyond the fourth digit,
  the same rule as CVE's, so one vulnerability is not written two ways.

Normalisation forgives how people type: surrounding spaces, lower case, full-width characters (NFKC) and
typographic dashes become the canonical ASCII form. Anything else is refused with a message saying what the
format is. Uniqueness across cases is the cases app's concern (a unique constraint on the normal form).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

__all__ = [
    "CNNVD",
    "CNVD",
    "CVE",
    "EUVD",
    "ID_KINDS",
    "PREFIXES",
    "InvalidReference",
    "classify_identifier",
    "normalise_advisory_url",
    "normalise_cnnvd",
    "normalise_cnvd",
    "normalise_cve",
    "normalise_euvd",
    "validate_advisory_url",
    "validate_cnnvd",
    "validate_cnvd",
    "validate_cve",
    "validate_euvd",
]

CVE = "cve"
CNVD = "cnvd"
CNNVD = "cnnvd"
EUVD = "euvd"

MAX_ID_LENGTH = 40
MAX_URL_LENGTH = 2000
FIRST_CVE_YEAR = 1999
FIRST_CNVD_YEAR = 2009
FIRST_CNNVD_YEAR = 1999
FIRST_EUVD_YEAR = 1999

# re.ASCII: \d must not accept other scripts' digits (NFKC turns full-width digits into ASCII, not these).
_CVE_RE = re.compile(r"CVE-(\d{4})-(\d{4,19})", re.ASCII)
_CNVD_RE = re.compile(r"CNVD-(\d{4})-(\d{5})", re.ASCII)
_CNNVD_RE = re.compile(r"CNNVD-(\d{4})(\d{2})-(\d{3,4})", re.ASCII)
_EUVD_RE = re.compile(r"EUVD-(\d{4})-(\d{4,19})", re.ASCII)
# Hyphen look-alikes people paste from word processors and Chinese input methods.
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")


class InvalidReference(ValueError):
    """An identifier or link that does not have the expected format; the message says which format."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


def _clean(value: object, kind: str, example: str) -> str:
    if not isinstance(value, str):
        raise InvalidReference(gettext("Enter an identifier such as %(example)s.") % {"example": example}, kind=kind)
    if len(value) > MAX_ID_LENGTH * 4:
        raise InvalidReference(gettext("This is too long to be an identifier."), kind=kind)
    text = unicodedata.normalize("NFKC", value).translate(_DASHES).strip().upper()
    if len(text) > MAX_ID_LENGTH:
        raise InvalidReference(gettext("This is too long to be an identifier."), kind=kind)
    return text


def _max_year(today: dt.date | None) -> int:
    return (today or dt.date.today()).year + 1


def normalise_cve(value: str, *, today: dt.date | None = None) -> str:
    """The canonical CVE ID ("CVE-2024-12345") for `value`; InvalidReference when it is not one."""
    text = _clean(value, CVE, "CVE-2024-12345")
    match = _CVE_RE.fullmatch(text)
    if not match:
        raise InvalidReference(
            gettext("A CVE ID looks like CVE-2024-12345: CVE, the year, then at least four digits."), kind=CVE
        )
    year, sequence = int(match.group(1)), match.group(2)
    if not FIRST_CVE_YEAR <= year <= _max_year(today):
        raise InvalidReference(
            gettext("The year of a CVE ID is between %(first)d and %(last)d.")
            % {"first": FIRST_CVE_YEAR, "last": _max_year(today)},
            kind=CVE,
        )
    if len(sequence) > 4 and sequence.startswith("0"):
        raise InvalidReference(
            gettext("A CVE number longer than four digits has no leading zero (CVE-%(year)d-%(number)s).")
            % {"year": year, "number": sequence.lstrip("0").rjust(4, "0")},
            kind=CVE,
        )
    return text


def normalise_cnvd(value: str, *, today: dt.date | None = None) -> str:
    """The canonical CNVD ID ("CNVD-2024-01234"); InvalidReference when it is not one."""
    text = _clean(value, CNVD, "CNVD-2024-01234")
    match = _CNVD_RE.fullmatch(text)
    if not match:
        raise InvalidReference(
            gettext("A CNVD ID looks like CNVD-2024-01234: CNVD, the year, then five digits."), kind=CNVD
        )
    year = int(match.group(1))
    if not FIRST_CNVD_YEAR <= year <= _max_year(today):
        raise InvalidReference(
            gettext("The year of a CNVD ID is between %(first)d and %(last)d.")
            % {"first": FIRST_CNVD_YEAR, "last": _max_year(today)},
            kind=CNVD,
        )
    return text


def normalise_cnnvd(value: str, *, today: dt.date | None = None) -> str:
    """The canonical CNNVD ID ("CNNVD-202401-1234"); InvalidReference when it is not one."""
    text = _clean(value, CNNVD, "CNNVD-202401-1234")
    match = _CNNVD_RE.fullmatch(text)
    if not match:
        raise InvalidReference(
            gettext("A CNNVD ID looks like CNNVD-202401-1234: CNNVD, year and month, then four digits."),
            kind=CNNVD,
        )
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise InvalidReference(
            gettext("%(month)02d is not a month: a CNNVD ID has the year and month (01–12) after CNNVD-.")
            % {"month": month},
            kind=CNNVD,
        )
    if not FIRST_CNNVD_YEAR <= year <= _max_year(today):
        raise InvalidReference(
            gettext("The year of a CNNVD ID is between %(first)d and %(last)d.")
            % {"first": FIRST_CNNVD_YEAR, "last": _max_year(today)},
            kind=CNNVD,
        )
    return text


def normalise_euvd(value: str, *, today: dt.date | None = None) -> str:
    """The canonical EUVD ID ("EUVD-2025-12345"); InvalidReference when it is not one."""
    text = _clean(value, EUVD, "EUVD-2025-12345")
    match = _EUVD_RE.fullmatch(text)
    if not match:
        raise InvalidReference(
            gettext("An EUVD ID looks like EUVD-2025-12345: EUVD, the year, then at least four digits."), kind=EUVD
        )
    year, sequence = int(match.group(1)), match.group(2)
    if not FIRST_EUVD_YEAR <= year <= _max_year(today):
        raise InvalidReference(
            gettext("The year of an EUVD ID is between %(first)d and %(last)d.")
            % {"first": FIRST_EUVD_YEAR, "last": _max_year(today)},
            kind=EUVD,
        )
    if len(sequence) > 4 and sequence.startswith("0"):
        raise InvalidReference(
            gettext("An EUVD number longer than four digits has no leading zero (EUVD-%(year)d-%(number)s).")
            % {"year": year, "number": sequence.lstrip("0").rjust(4, "0")},
            kind=EUVD,
        )
    return text


_NORMALISERS = {CVE: normalise_cve, CNVD: normalise_cnvd, CNNVD: normalise_cnnvd, EUVD: normalise_euvd}
# The prefix of each kind, longest first ("CNNVD-" is checked before "CNVD-").
PREFIXES = ((CNNVD, "CNNVD-"), (CNVD, "CNVD-"), (EUVD, "EUVD-"), (CVE, "CVE-"))
# The kinds of vulnerability identifier (a case's other references are links).
ID_KINDS = (CVE, CNVD, CNNVD, EUVD)


def classify_identifier(value: str, *, today: dt.date | None = None) -> tuple[str, str]:
    """(kind, canonical form) of a CVE, CNVD, CNNVD or EUVD ID, recognised by its prefix; InvalidReference
    otherwise."""
    text = _clean(value, "", "CVE-2024-12345")
    for kind, prefix in PREFIXES:
        if text.startswith(prefix):
            return kind, _NORMALISERS[kind](text, today=today)
    raise InvalidReference(
        gettext(
            "Enter a CVE (CVE-2024-12345), CNVD (CNVD-2024-01234), CNNVD (CNNVD-202401-1234) "
            "or EUVD (EUVD-2025-12345) ID."
        ),
        kind="",
    )


def normalise_advisory_url(value: str) -> str:
    """A third-party advisory link: an absolute http(s) URL with a host, no credentials; InvalidReference else."""
    if not isinstance(value, str):
        raise InvalidReference(gettext("Enter a web address starting with https://."), kind="url")
    text = value.strip()
    if not text or len(text) > MAX_URL_LENGTH:
        raise InvalidReference(
            gettext("Enter a web address of at most %(max)d characters.") % {"max": MAX_URL_LENGTH}, kind="url"
        )
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidReference(gettext("A web address has no spaces or control characters."), kind="url")
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a bad port
    except ValueError:
        raise InvalidReference(gettext("This is not a valid web address."), kind="url") from None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise InvalidReference(gettext("Enter a web address starting with https:// or http://."), kind="url")
    if parts.username or parts.password:
        raise InvalidReference(gettext("A link to an advisory must not contain a user name or password."), kind="url")
    if port == 0:
        raise InvalidReference(gettext("This is not a valid web address."), kind="url")
    return text


def validate_cve(value: str) -> None:
    """Django field/form validator for CVE IDs."""
    _to_validation_error(normalise_cve, value)


def validate_cnvd(value: str) -> None:
    """Django field/form validator for CNVD IDs."""
    _to_validation_error(normalise_cnvd, value)


def validate_cnnvd(value: str) -> None:
    """Django field/form validator for CNNVD IDs."""
    _to_validation_error(normalise_cnnvd, value)


def validate_euvd(value: str) -> None:
    """Django field/form validator for EUVD IDs."""
    _to_validation_error(normalise_euvd, value)


def validate_advisory_url(value: str) -> None:
    """Django field/form validator for third-party advisory links."""
    try:
        normalise_advisory_url(value)
    except InvalidReference as exc:
        raise ValidationError(exc.message, code="invalid") from exc


def _to_validation_error(normaliser: Callable[[str], str], value: str) -> None:
    try:
        normaliser(value)
    except InvalidReference as exc:
        raise ValidationError(exc.message, code="invalid") from exc
