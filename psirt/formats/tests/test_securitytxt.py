"""security.txt (RFC 9116): field order and format, and no value can add a field."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from psirt.formats.securitytxt import SecurityTxt, parse_security_txt, render_security_txt

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
SITE = "https://security.visiontek.example"


def config(**kw: Any) -> SecurityTxt:
    base = SecurityTxt(
        contact=("mailto:security@visiontek.example", f"{SITE}/en/report/"),
        expires=NOW + timedelta(days=180),
        encryption=(f"{SITE}/pgp-key.txt",),
        acknowledgments=(f"{SITE}/en/acknowledgments/",),
        preferred_languages=("en", "zh"),
        canonical=(f"{SITE}/.well-known/security.txt",),
        policy=(f"{SITE}/en/policy/",),
        hiring=(f"{SITE}/en/jobs/",),
        csaf=(f"{SITE}/.well-known/csaf/provider-metadata.json",),
    )
    return replace(base, **kw)


def test_fields_in_order_one_per_line() -> None:
    assert render_security_txt(config(), now=NOW) == (
        "Contact: mailto:security@visiontek.example\n"
        f"Contact: {SITE}/en/report/\n"
        "Expires: 2027-05-21T10:30:00Z\n"
        f"Encryption: {SITE}/pgp-key.txt\n"
        f"Acknowledgments: {SITE}/en/acknowledgments/\n"
        "Preferred-Languages: en, zh\n"
        f"Canonical: {SITE}/.well-known/security.txt\n"
        f"Policy: {SITE}/en/policy/\n"
        f"Hiring: {SITE}/en/jobs/\n"
        f"CSAF: {SITE}/.well-known/csaf/provider-metadata.json\n"
    )


def test_optional_fields_are_left_out() -> None:
    text = render_security_txt(SecurityTxt(contact=("mailto:s@x.example",), expires=NOW + timedelta(days=1)), now=NOW)
    assert list(parse_security_txt(text)) == ["Contact", "Expires", "Preferred-Languages"]


def test_round_trip_through_the_parser() -> None:
    parsed = parse_security_txt(render_security_txt(config(), now=NOW))
    assert parsed["Contact"] == ["mailto:security@visiontek.example", f"{SITE}/en/report/"]
    assert parsed["CSAF"] == [f"{SITE}/.well-known/csaf/provider-metadata.json"]
    assert parsed["Expires"] == ["2027-05-21T10:30:00Z"]


@pytest.mark.parametrize("days", [0, -1, 366])
def test_expires_must_be_in_the_coming_year(days: int) -> None:
    with pytest.raises(ValueError, match="Expires"):
        render_security_txt(config(expires=NOW + timedelta(days=days)), now=NOW)


def test_expires_of_exactly_a_year_is_accepted() -> None:
    assert "Expires: 2027-11-22T10:30:00Z" in render_security_txt(config(expires=NOW + timedelta(days=365)), now=NOW)


def _with(field: str, value: str) -> SecurityTxt:
    changes: dict[str, Any] = {field: (value,)}
    return replace(config(), **changes)


URI_FIELDS = [f.name for f in fields(SecurityTxt) if f.name not in {"expires", "preferred_languages"}]


@pytest.mark.parametrize("field", URI_FIELDS)
@pytest.mark.parametrize("injection", ["\n", "\r\n", "\r", "\x85", "\u2028", " ", "\x00"])
def test_a_line_break_in_any_value_cannot_add_a_field(field: str, injection: str) -> None:
    value = getattr(config(), field)[0] + injection + "Contact: mailto:attacker@evil.example"
    with pytest.raises(ValueError, match=r"security\.txt"):
        render_security_txt(_with(field, value), now=NOW)


@pytest.mark.parametrize("injection", ["en\nContact: mailto:a@evil.example", "en, zh", "e n", ""])
def test_preferred_languages_are_language_tags(injection: str) -> None:
    with pytest.raises(ValueError, match="Preferred-Languages"):
        render_security_txt(config(preferred_languages=(injection,)), now=NOW)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contact", "security@visiontek.example"),  # needs mailto:
        ("contact", "javascript:alert(1)"),
        ("policy", "http://security.visiontek.example/policy"),  # web URIs must be https
        ("csaf", "ftp://x.example/provider-metadata.json"),
        ("encryption", "openpgp4fpr:5f2de5521c63a801ab59ccb603d49de44b29100f"),  # allowed
    ],
)
def test_schemes(field: str, value: str) -> None:
    cfg = _with(field, value)
    if value.startswith("openpgp4fpr:"):
        assert f"Encryption: {value}" in render_security_txt(cfg, now=NOW)
    else:
        with pytest.raises(ValueError, match=r"security\.txt"):
            render_security_txt(cfg, now=NOW)


def test_contact_is_required() -> None:
    with pytest.raises(ValueError, match="Contact"):
        render_security_txt(config(contact=()), now=NOW)


def test_signing_function_receives_the_text_and_its_output_is_parseable() -> None:
    seen: list[str] = []

    def sign(text: str) -> str:
        seen.append(text)
        body = "".join(f"- {line}\n" if line.startswith("-") else f"{line}\n" for line in text.splitlines())
        return (
            "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"
            + body
            + "-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----"
        )

    signed = render_security_txt(config(), now=NOW, sign=sign)
    assert seen == [render_security_txt(config(), now=NOW)]
    assert signed.endswith("-----END PGP SIGNATURE-----\n")
    assert parse_security_txt(signed) == parse_security_txt(seen[0])


def test_parser_skips_comments_and_refuses_garbage() -> None:
    assert parse_security_txt("# comment\n\nContact: mailto:a@b.example\n") == {"Contact": ["mailto:a@b.example"]}
    with pytest.raises(ValueError, match="not a field"):
        parse_security_txt("just words\n")
