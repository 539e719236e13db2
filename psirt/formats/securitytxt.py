"""security.txt (RFC 9116): render, with every value checked so that no value can add a line (a field) of its own,
and a small parser for tests and for reading other sites' files.

Signing is a function passed in (`sign(text) -> clear-signed text`), so this module stays free of keys."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from psirt.formats.text import rfc3339

MAX_VALIDITY = timedelta(days=365)  # RFC 9116 section 2.5.5: "less than a year into the future" is recommended
CONTENT_TYPE = "text/plain; charset=utf-8"

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[\x21-\x7e]+$")  # no spaces, no controls, ASCII (percent-encode the rest)
_LANG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_SCHEMES = {
    "Contact": ("mailto:", "https://", "tel:"),
    "Encryption": ("https://", "dns:", "openpgp4fpr:"),
    "Acknowledgments": ("https://",),
    "Canonical": ("https://",),
    "Policy": ("https://",),
    "Hiring": ("https://",),
    "CSAF": ("https://",),
}


@dataclass(frozen=True)
class SecurityTxt:
    """The fields of /.well-known/security.txt. Every URI field may repeat; Contact is required."""

    contact: tuple[str, ...]
    expires: datetime
    encryption: tuple[str, ...] = ()
    acknowledgments: tuple[str, ...] = ()
    preferred_languages: tuple[str, ...] = ("en", "zh")
    canonical: tuple[str, ...] = ()
    policy: tuple[str, ...] = ()
    hiring: tuple[str, ...] = ()
    csaf: tuple[str, ...] = ()


def _uri(field: str, value: str) -> str:
    if not _URI.match(value):
        raise ValueError(
            f"security.txt {field}: {value!r} is not a URI on one line (no spaces, no line breaks, ASCII only)"
        )
    if not value.lower().startswith(_SCHEMES[field]):
        raise ValueError(f"security.txt {field}: {value!r} must start with one of {', '.join(_SCHEMES[field])}")
    return value


def render_security_txt(fields: SecurityTxt, *, now: datetime, sign: Callable[[str], str] | None = None) -> str:
    """The file: Contact, Expires, Encryption, Acknowledgments, Preferred-Languages, Canonical, Policy, Hiring, CSAF,
    one field per line. Raises ValueError for a value that is not a single-line URI of an allowed scheme, and for an
    Expires in the past or more than a year ahead of `now`."""
    if not fields.contact:
        raise ValueError("security.txt needs at least one Contact")
    if fields.expires.tzinfo is None or now.tzinfo is None:
        raise ValueError("security.txt Expires and now must be timezone-aware")
    if not now < fields.expires <= now + MAX_VALIDITY:
        raise ValueError(f"security.txt Expires must be after now and at most {MAX_VALIDITY.days} days ahead")
    for lang in fields.preferred_languages:
        if not _LANG.match(lang):
            raise ValueError(f"security.txt Preferred-Languages: {lang!r} is not a language tag")
    lines = [f"Contact: {_uri('Contact', v)}" for v in fields.contact]
    lines.append(f"Expires: {rfc3339(fields.expires)}")
    lines += [f"Encryption: {_uri('Encryption', v)}" for v in fields.encryption]
    lines += [f"Acknowledgments: {_uri('Acknowledgments', v)}" for v in fields.acknowledgments]
    if fields.preferred_languages:
        lines.append(f"Preferred-Languages: {', '.join(fields.preferred_languages)}")
    lines += [f"Canonical: {_uri('Canonical', v)}" for v in fields.canonical]
    lines += [f"Policy: {_uri('Policy', v)}" for v in fields.policy]
    lines += [f"Hiring: {_uri('Hiring', v)}" for v in fields.hiring]
    lines += [f"CSAF: {_uri('CSAF', v)}" for v in fields.csaf]
    text = "\n".join(lines) + "\n"
    if sign is not None:
        text = sign(text)
        if not text.endswith("\n"):
            text += "\n"
    return text


def parse_security_txt(text: str) -> dict[str, list[str]]:
    """Field name (as written) → values, in file order. Comments and blank lines are skipped; of an OpenPGP
    clear-signed file only the signed part is read (dash-escaping undone)."""
    lines = text.splitlines()
    if lines and lines[0].strip() == "-----BEGIN PGP SIGNED MESSAGE-----":
        start = next((i for i, line in enumerate(lines) if not line.strip()), len(lines)) + 1
        end = next((i for i, line in enumerate(lines) if line.strip() == "-----BEGIN PGP SIGNATURE-----"), len(lines))
        lines = [line[2:] if line.startswith("- ") else line for line in lines[start:end]]
    out: dict[str, list[str]] = {}
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"not a field line: {line!r}")
        out.setdefault(name.strip(), []).append(value.strip())
    return out
