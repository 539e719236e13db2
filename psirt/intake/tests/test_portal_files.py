"""The reporter downloads the files of their own report through their private link: decrypted on the fly,
always a download, never cached, audited; a wrong token, another report's file or an internal file is 404."""

from __future__ import annotations

import logging
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from psirt.audit.models import AuditEvent
from psirt.intake import services
from psirt.intake.models import Attachment
from psirt.intake.services import IncomingFile
from psirt.intake.tests.conftest import PCAP
from psirt.tests.factories import make_report_and_token

pytestmark = pytest.mark.django_db


def incoming(name: str, data: bytes) -> IncomingFile:
    upload = SimpleUploadedFile(name, data)
    return IncomingFile(name=name, source=upload, size=len(data))


def file_url(token: str, attachment: Attachment, language: str = "en") -> str:
    return f"/{language}/r/{token}/files/{attachment.public_id}/"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_reporter_downloads_their_own_file_decrypted(anonymous):
    report, token = make_report_and_token(files=[incoming("capture.pcap", PCAP)])
    attachment = report.attachments.get()
    response = anonymous.get(file_url(token, attachment))
    assert response.status_code == 200
    assert body(response) == PCAP
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="capture.pcap"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    event = AuditEvent.objects.get(action="report.attachment_downloaded_by_reporter")
    assert event.target_id == str(report.public_id)
    assert event.data == {"attachment": str(attachment.public_id)}
    assert token not in str(event.data)


def test_portal_lists_files_with_download_links(anonymous):
    report, token = make_report_and_token(files=[incoming("capture.pcap", PCAP)])
    attachment = report.attachments.get()
    html = anonymous.get(f"/en/r/{token}/").content.decode()
    assert f'href="{file_url(token, attachment)}"' in html


def test_magic_link_downloads_too(anonymous):
    report, _token = make_report_and_token(files=[incoming("capture.pcap", PCAP)])
    magic = services.magic_token(report)
    response = anonymous.get(file_url(magic, report.attachments.get()))
    assert response.status_code == 200 and body(response) == PCAP


def test_wrong_token_is_404(anonymous):
    report, token = make_report_and_token(files=[incoming("capture.pcap", PCAP)])
    attachment = report.attachments.get()
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "short", "m.forged-magic-link"):
        response = anonymous.get(file_url(bad, attachment))
        assert response.status_code == 404
        assert not hasattr(response, "streaming_content")
    assert not AuditEvent.objects.filter(action="report.attachment_downloaded_by_reporter").exists()


def test_someone_elses_file_is_404(anonymous):
    _mine, my_token = make_report_and_token(files=[incoming("mine.txt", b"mine")])
    theirs, _their_token = make_report_and_token(email="eve@research.test", files=[incoming("theirs.txt", b"secret")])
    response = anonymous.get(file_url(my_token, theirs.attachments.get()))
    assert response.status_code == 404
    assert b"secret" not in response.content


def test_unknown_or_malformed_file_id_is_404(anonymous):
    _report, token = make_report_and_token(files=[incoming("capture.pcap", PCAP)])
    assert anonymous.get(f"/en/r/{token}/files/{uuid.uuid4()}/").status_code == 404
    assert anonymous.get(f"/en/r/{token}/files/not-a-uuid/").status_code == 404
    assert anonymous.get(f"/en/r/{token}/files/..%2F..%2Fetc%2Fpasswd/").status_code == 404


def test_internal_files_are_never_served_to_the_reporter(anonymous, lead):
    report, token = make_report_and_token()
    services.post_team_message(
        report=report, author=lead, body="lab notes", is_internal=True, files=[incoming("lab.txt", b"internal")]
    )
    internal = report.attachments.get(is_internal=True)
    response = anonymous.get(file_url(token, internal))
    assert response.status_code == 404
    assert b"internal" not in response.content


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "..\\..\\boot.ini", 'evil"\r\nX-Injected: 1.txt', "<script>alert(1)</script>.html"],
)
def test_hostile_file_names_cannot_escape_or_inject_headers(anonymous, name):
    report, token = make_report_and_token(files=[incoming(name, b"data")])
    attachment = report.attachments.get()
    response = anonymous.get(file_url(token, attachment))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "/" not in attachment.name and "\\" not in attachment.name
    assert "\r" not in disposition and "\n" not in disposition
    assert "X-Injected" not in response.headers
    page = anonymous.get(f"/en/r/{token}/").content.decode()
    assert "<script>alert(1)</script>" not in page


def test_post_to_a_file_url_is_refused_without_logging_the_token(anonymous, caplog):
    report, token = make_report_and_token(files=[incoming("capture.pcap", PCAP)])
    with caplog.at_level(logging.DEBUG):
        assert anonymous.post(file_url(token, report.attachments.get())).status_code == 405
        assert anonymous.get(file_url(token[:-2] + "xx", report.attachments.get())).status_code == 404
        assert anonymous.get(file_url(token, report.attachments.get())).status_code == 200
    assert token not in caplog.text and token[:-2] not in caplog.text
