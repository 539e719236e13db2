"""A file whose name is not UTF-8 (sent by a GB18030 or Latin-1 client) is kept, through the form and the API,
under a safe name: never dropped while the report is accepted as if no file had been sent."""

from __future__ import annotations

from typing import Any

import pytest

from psirt.intake.models import Report
from psirt.intake.tests.conftest import valid_post
from psirt.lib.crypto import file_store

pytestmark = pytest.mark.django_db
BOUNDARY = "----psirt-test-boundary"
CONTENT = b"MARKER-CONTENT \xff\x00 binary"


def _multipart(fields: dict[str, Any], file_field: str, raw_name: bytes) -> bytes:
    out = bytearray()
    for key, value in fields.items():
        if value is None or isinstance(value, list):
            continue
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
    out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; filename="'.encode()
    out += raw_name + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + CONTENT + b"\r\n"
    out += f"--{BOUNDARY}--\r\n".encode()
    return bytes(out)


NAMES = [
    ("报告.bin".encode("gb18030"), "报告.bin"),
    ("résumé.bin".encode("latin-1"), None),
    (b"\xff\xfe\xfdpoc.bin", None),
]


def _check_kept(expected: str | None) -> None:
    report = Report.objects.get()
    attachments = list(report.attachments.all())
    assert len(attachments) == 1, "the file was dropped"
    name = attachments[0].name
    assert name.isprintable() and "/" not in name and name.endswith(".bin")
    if expected is not None:
        assert name == expected
    assert b"".join(file_store().open(attachments[0].storage_name)) == CONTENT


@pytest.mark.parametrize(("raw_name", "expected"), NAMES)
def test_the_api_keeps_a_file_with_a_non_utf8_name(public, catalog, raw_name, expected):
    fields = {k: ("true" if v is True else v) for k, v in valid_post().items()}
    fields.pop("attachments", None)
    fields = {k: v for k, v in fields.items() if k not in {"product_other", "release", "website"}}
    fields["accept_guidelines"] = "true"
    response = public.post(
        "/api/v1/reports",
        _multipart(fields, "attachments", raw_name),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 201, response.content
    _check_kept(expected)


@pytest.mark.parametrize(("raw_name", "expected"), NAMES)
def test_the_web_form_keeps_a_file_with_a_non_utf8_name(public, catalog, report_url, raw_name, expected):
    response = public.post(
        report_url,
        _multipart(valid_post(), "attachments", raw_name),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    _check_kept(expected)
