"""Part headers that are not UTF-8 are re-encoded, everything else passes through byte for byte."""

from __future__ import annotations

import io
import os

import pytest

from psirt.lib.multipart import MAX_HEADER_BLOCK, READ_SIZE, RecodingStream, recode_header_line

BOUNDARY = b"----b0undary"


def _body(name: bytes, content: bytes) -> bytes:
    return (
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="text"\r\n\r\nhello\r\n'
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="f"; filename="' + name + b'"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n--" + BOUNDARY + b"--\r\n"
    )


def _through(data: bytes, read: int = 1000) -> bytes:
    stream = RecodingStream(io.BytesIO(data), BOUNDARY)
    out = bytearray()
    while chunk := stream.read(read):
        out += chunk
    return bytes(out)


@pytest.mark.parametrize("read", [1, 7, 1000, READ_SIZE * 3])
def test_utf8_bodies_pass_unchanged_whatever_the_read_size(read: int) -> None:
    content = os.urandom(3 * READ_SIZE + 17)  # binary content, not UTF-8, spanning several source reads
    body = _body("报告.txt".encode(), content)
    assert _through(body, read) == body


def test_a_gb18030_file_name_becomes_utf8_and_the_content_is_untouched() -> None:
    content = b"\xff\xfe binary \xb1\xa8\r\n\r\n\xb8\xe6"
    out = _through(_body("报告.txt".encode("gb18030"), content))
    assert out == _body("报告.txt".encode(), content)


def test_bytes_no_encoding_reads_are_replaced_not_dropped() -> None:
    out = _through(_body(b"\xff\xfepoc.bin", b"x"))
    assert 'filename="\ufffd\ufffdpoc.bin"'.encode() in out


def test_an_overlong_header_block_is_passed_on_unchanged() -> None:
    body = b"--" + BOUNDARY + b"\r\nX-Pad: " + b"\xff" * (MAX_HEADER_BLOCK + 10) + b"\r\n\r\nx\r\n--" + BOUNDARY + b"--"
    assert _through(body) == body


def test_read_all_at_once() -> None:
    body = _body("文件.txt".encode("gb18030"), b"data")
    assert RecodingStream(io.BytesIO(body), BOUNDARY).read() == _body("文件.txt".encode(), b"data")


@pytest.mark.parametrize(
    ("line", "text"),
    [(b"plain", "plain"), ("文件".encode("gb18030"), "文件"), ("文件".encode(), "文件"), (b"\xff", "\ufffd")],
)
def test_recode_header_line(line: bytes, text: str) -> None:
    assert recode_header_line(line).decode("utf-8") == text


def test_readline_hands_out_lines() -> None:
    body = _body("报告.txt".encode(), b"one\ntwo")
    stream = RecodingStream(io.BytesIO(body), BOUNDARY)
    lines = []
    while line := stream.readline():
        lines.append(line)
    assert b"".join(lines) == body
    assert all(line.endswith(b"\n") for line in lines[:-1])
