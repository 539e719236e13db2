"""Hypothesis over the intake's parsers of outside input: the mail gate's RFC 5322 / MIME parser (arbitrary bytes
and messages assembled from hostile parts: encoded words, unknown charsets, broken boundaries, file names that
are not UTF-8) and the multipart report bodies of POST /api/v1/reports and the report form. Whatever arrives is
stored or answered with a reason (the mail gate's exit with a message; a 4xx), never an unhandled exception
or a 5xx. Bounded: a fixed number of examples, derandomized, no example database."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psirt.counters.exceptions import RateLimited
from psirt.intake.exceptions import IntakeError
from psirt.intake.management.commands.mailgate import MailgateExit, handle_message

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Pieces that parsers trip over, mixed with arbitrary text and bytes.
HOSTILE = [
    b"=?utf-8?b?w6k=?=",
    b"=?x-unknown?q?caf=E9?=",
    b"=?utf-8?q?=FF=FE?=",
    b"\xff\xfe\x00",
    b"\r\n\t",
    b"<script>alert(1)</script>",
    b'"A, B" <a@b.test>, c@',
    b"@@@",
    b"--",
    b"\x00",
    "\u202e\ufffd\U0001f600".encode(),
]
piece = st.one_of(st.sampled_from(HOSTILE), st.binary(max_size=40), st.text(max_size=40).map(str.encode))
field = st.lists(piece, max_size=4).map(b"".join)


@st.composite
def messages(draw: Any) -> bytes:
    boundary = draw(st.one_of(st.just(b"b1"), field))
    headers = [
        b"From: " + draw(field),
        b"To: security@example.com",
        b"Subject: " + draw(field),
        b"Content-Type: "
        + draw(st.sampled_from([b"multipart/mixed", b"text/plain", b"text/html", b"multipart/alternative"]))
        + b'; boundary="'
        + boundary
        + b'"; charset='
        + draw(st.sampled_from([b"utf-8", b"x-bogus", b"gb2312", b""])),
    ]
    if draw(st.booleans()):
        headers.append(draw(field) + b": " + draw(field))
    parts = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        parts.append(
            b"--"
            + boundary
            + b"\r\nContent-Type: "
            + draw(
                st.sampled_from([b"text/plain", b"text/html", b"application/octet-stream", b"message/rfc822", b"x/y"])
            )
            + b'\r\nContent-Disposition: attachment; filename="'
            + draw(field)
            + b'"\r\nContent-Transfer-Encoding: '
            + draw(st.sampled_from([b"base64", b"quoted-printable", b"8bit", b"x-uue"]))
            + b"\r\n\r\n"
            + draw(field)
            + b"\r\n"
        )
    ending = draw(st.sampled_from([b"--" + boundary + b"--\r\n", b""]))
    return b"\r\n".join(headers) + b"\r\n\r\n" + draw(field) + b"\r\n" + b"".join(parts) + ending


def _mailgate(raw: bytes) -> None:
    try:
        outcome = handle_message(raw)
    except MailgateExit as exc:
        assert exc.message
    except (RateLimited, IntakeError):
        pass
    else:
        assert isinstance(outcome, str) and outcome


@FUZZ
@given(raw=st.binary(max_size=600))
def test_mailgate_answers_any_bytes(raw: bytes) -> None:
    _mailgate(raw)


@FUZZ
@given(raw=messages())
def test_mailgate_answers_hostile_messages(raw: bytes) -> None:
    _mailgate(raw)


@st.composite
def multipart_bodies(draw: Any) -> tuple[bytes, str]:
    boundary = draw(st.sampled_from(["B0und", "x" * 70, "a b", "--"]))
    fields = {
        "reporter_email": draw(st.sampled_from(["ada@research.test", "", "not-an-address"])),
        "description": draw(st.text(max_size=40)),
        "accept_guidelines": draw(st.sampled_from(["true", "on", "", "maybe"])),
        "product": draw(st.text(max_size=10)),
    }
    out = b""
    for name, value in fields.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode("utf-8", "surrogatepass")
            + b"\r\n"
        )
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="'.encode()
            + draw(field).replace(b"\r", b"").replace(b"\n", b"")
            + b'"\r\nContent-Type: '
            + draw(st.sampled_from([b"text/plain", b"application/octet-stream", b"\xff"]))
            + b"\r\n\r\n"
            + draw(st.binary(max_size=60))
            + b"\r\n"
        )
    out += draw(st.sampled_from([f"--{boundary}--\r\n".encode(), b"", b"--" + boundary.encode()]))
    return out, boundary


@FUZZ
@given(body=multipart_bodies(), url=st.sampled_from(["/api/v1/reports", "/en/report/"]))
def test_multipart_report_bodies_are_answered(body: tuple[bytes, str], url: str) -> None:
    raw, boundary = body
    response = Client().generic("POST", url, raw, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code < 500, response.content[:500]
    if url.startswith("/api/"):
        assert response["Content-Type"].split(";")[0] in ("application/json", "application/problem+json")
