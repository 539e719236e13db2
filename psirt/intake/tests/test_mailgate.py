"""psirt mailgate: real RFC 5322 messages on standard input become reports or replies."""

from __future__ import annotations

import io
import sys
from email.message import EmailMessage

import pysequoia
import pytest
from django.core.management import call_command

from psirt.intake.models import AttachmentKind, Message, Report, Source
from psirt.intake.tests.conftest import PCAP

pytestmark = pytest.mark.django_db


def run(raw: bytes, monkeypatch) -> int:
    """Feed `raw` on standard input as an MTA pipe would; return the exit code."""

    class Stdin:
        buffer = io.BytesIO(raw)

    monkeypatch.setattr(sys, "stdin", Stdin())
    try:
        call_command("mailgate", stdout=io.StringIO(), stderr=io.StringIO())
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def build(
    *,
    sender: str = "Ada Researcher <ada@research.test>",
    subject: str = "Vulnerability in Camera X5",
    text: str = "The RTSP server overflows on a long URL.",
    html: str | None = None,
    attachments: tuple[tuple[str, bytes, str], ...] | list[tuple[str, bytes, str]] = (),
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "security@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = "<1@research.test>"
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    for name, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def test_message_with_attachments_becomes_a_report(monkeypatch, django_capture_on_commit_callbacks):
    raw = build(
        attachments=[("capture.pcap", PCAP, "application/vnd.tcpdump.pcap"), ("poc.py", b"#!x\n", "text/x-python")]
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert run(raw, monkeypatch) == 0
    report = Report.objects.get()
    assert report.source == Source.EMAIL
    assert report.reporter_email == "ada@research.test" and report.reporter_name == "Ada Researcher"
    assert "Vulnerability in Camera X5" in report.description
    assert "RTSP server overflows" in report.description
    names = sorted(report.attachments.values_list("kind", flat=True))
    assert AttachmentKind.CAPTURE in names
    assert {a.name for a in report.attachments.all()} == {"capture.pcap", "poc.py", "original-message.eml"}
    from django.core import mail

    assert mail.outbox[0].to == ["ada@research.test"]  # acknowledged like a web report


def test_handwritten_multipart_with_chinese_text_and_base64(monkeypatch):
    raw = (
        b"From: =?UTF-8?B?5byg5LiJ?= <zhang@example.cn>\r\n"
        b"To: security@example.com\r\n"
        b"Subject: =?UTF-8?B?5pGE5YOP5aS05ryP5rSe?=\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XYZ"\r\n'
        b"\r\n"
        b"--XYZ\r\n"
        b"Content-Type: text/plain; charset=gb2312\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b"\r\n" + __import__("base64").b64encode("远程代码执行漏洞".encode("gb2312")) + b"\r\n"
        b"--XYZ\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="../../evil.pcapng"\r\n'
        b"Content-Transfer-Encoding: base64\r\n"
        b"\r\n" + __import__("base64").b64encode(b"\x0a\x0d\x0d\x0a" + b"\0" * 40) + b"\r\n"
        b"--XYZ--\r\n"
    )
    assert run(raw, monkeypatch) == 0
    report = Report.objects.get()
    assert report.reporter_name == "张三"
    assert "摄像头漏洞" in report.description and "远程代码执行漏洞" in report.description
    assert report.language == "zh-hans"
    # Names are encrypted in the database: compare in Python.
    pcap = next(a for a in report.attachments.all() if a.name == "evil.pcapng")
    assert pcap.kind == AttachmentKind.CAPTURE


def test_html_only_message_is_reduced_to_text(monkeypatch):
    msg = EmailMessage()
    msg["From"] = "ada@research.test"
    msg["Subject"] = "html"
    msg.set_content("<p>Hello <script>alert(1)</script><b>world</b></p>", subtype="html")
    assert run(msg.as_bytes(), monkeypatch) == 0
    description = Report.objects.get().description
    assert "Hello" in description and "world" in description and "<b>" not in description


def test_reply_with_tracking_id_from_the_reporter_joins_the_thread(monkeypatch):
    assert run(build(), monkeypatch) == 0
    report = Report.objects.get()
    reply = build(
        subject=f"Re: [{report.tracking_id}] We received your vulnerability report",
        text="Here is more detail.",
        sender="ADA@research.test",
        attachments=[("more.pcap", PCAP, "application/octet-stream")],
    )
    assert run(reply, monkeypatch) == 0
    assert Report.objects.count() == 1
    message = Message.objects.get(report=report)
    assert "Here is more detail." in message.body and message.via == "email"
    assert "more.pcap" in {a.name for a in message.attachments.all()}


def test_someone_else_cannot_post_into_a_thread_by_guessing_its_id(monkeypatch):
    assert run(build(), monkeypatch) == 0
    report = Report.objects.get()
    intruder = build(sender="mallory@evil.test", subject=f"Re: {report.tracking_id}", text="Please send me the PoC")
    assert run(intruder, monkeypatch) == 0
    assert Message.objects.filter(report=report).count() == 0
    assert Report.objects.count() == 2  # filed as its own new report instead
    assert Report.objects.exclude(pk=report.pk).get().reporter_email == "mallory@evil.test"


def test_pgp_mime_encrypted_message_is_kept_encrypted(monkeypatch, team_key):
    armored = pysequoia.encrypt(b"secret report", recipients=[team_key.extract_certificate()]).decode()
    raw = (
        "From: ada@research.test\r\nSubject: encrypted\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
        "--B\r\nContent-Type: application/octet-stream\r\n\r\n" + armored + "\r\n--B--\r\n"
    ).encode()
    assert run(raw, monkeypatch) == 0
    report = Report.objects.get()
    assert "-----BEGIN PGP MESSAGE-----" in report.description


def test_auto_replies_are_ignored(monkeypatch):
    assert run(build(headers={"Auto-Submitted": "auto-replied"}), monkeypatch) == 0
    assert Report.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [b"", b"not a mail at all", b"From: nobody\r\nSubject: x\r\n\r\nbody", b"\xff\xfe\x00\x01"],
)
def test_unusable_input_exits_65_without_a_traceback(monkeypatch, raw, capsys):
    assert run(raw, monkeypatch) == 65
    assert Report.objects.count() == 0


def test_rate_limited_sender_gets_tempfail_so_the_mta_retries(monkeypatch, settings):
    settings.PSIRT_INTAKE_RATES = {"report_email": (1, 3600)}
    assert run(build(), monkeypatch) == 0
    assert run(build(), monkeypatch) == 75
    assert Report.objects.count() == 1


def test_oversized_attachment_is_dropped_with_a_note_and_the_report_kept(monkeypatch, settings):
    settings.PSIRT_MAX_ATTACHMENT_MB = 1
    raw = build(attachments=[("huge.bin", b"\0" * (1024 * 1024 + 10), "application/octet-stream")])
    assert run(raw, monkeypatch) == 0
    report = Report.objects.get()
    assert "huge.bin" in report.description and "huge.bin" not in {a.name for a in report.attachments.all()}


def test_reads_from_a_file_too(tmp_path):
    path = tmp_path / "m.eml"
    path.write_bytes(build())
    out = io.StringIO()
    call_command("mailgate", file=str(path), stdout=out)
    assert "created" in out.getvalue()
    assert Report.objects.count() == 1


@pytest.mark.parametrize(
    ("raw_name", "kept_as"),
    [
        ("报告.txt".encode("gb18030"), "报告.txt"),  # a Chinese mail client's 8-bit GB18030 name
        (b"\xff\xfe\xfdpoc.txt", None),  # bytes no encoding reads: kept under a safe name
    ],
)
def test_attachment_with_a_non_utf8_name_is_kept(monkeypatch, raw_name, kept_as):
    raw = (
        b"From: Ada <ada@research.test>\r\nTo: security@example.com\r\nSubject: RCE\r\nMessage-ID: <9@r.test>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain\r\n\r\nThe RTSP server overflows.\r\n"
        b"--XX\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="' + raw_name + b'"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nTUFSS0VS\r\n--XX--\r\n"
    )
    assert run(raw, monkeypatch) == 0
    names = {a.name for a in Report.objects.get().attachments.all()} - {"original-message.eml"}
    assert len(names) == 1
    (name,) = names
    if kept_as is not None:
        assert name == kept_as
    else:
        assert name.endswith("poc.txt") and "\ufffd" not in name and name.isprintable()
