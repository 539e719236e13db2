"""The leads' inbox, the staff report page and attachment downloads: need-to-know, audited, safe."""

from __future__ import annotations

import pytest
from django.http import Http404

from conftest import record_decryptions
from psirt.audit.models import AuditEvent
from psirt.intake import services
from psirt.intake.access import can_view_report, get_report_for, register_access_rule
from psirt.intake.models import Report
from psirt.intake.services import IncomingFile
from psirt.tests.factories import make_report

pytestmark = pytest.mark.django_db

EXE_AS_PCAP = b"MZ\x90\x00" + b"\0" * 60 + b"<script>alert(1)</script>"


def report_with_disguised_exe() -> Report:
    """A report whose attachment claims to be a capture but is an executable."""
    return make_report(description="Overflow.", files=[IncomingFile(name="capture.pcap", source=EXE_AS_PCAP)])


def test_lead_sees_new_reports_in_the_inbox(as_lead):
    report = report_with_disguised_exe()
    html = as_lead.get("/en/desk/inbox/").content.decode()
    assert report.tracking_id in html and f"/en/desk/inbox/{report.public_id}/" in html


def test_the_inbox_decrypts_only_what_it_shows(as_lead, monkeypatch):
    reports = [make_report(description=f"Overflow {i}.", product_other=f"Camera {i}") for i in range(3)]
    decrypted = record_decryptions(monkeypatch)
    html = as_lead.get("/en/desk/inbox/").content.decode()
    assert all(r.tracking_id in html for r in reports)
    # One field per row: what the reporter typed as product, shown when it is not in the catalog.
    assert sorted(decrypted) == [f"Camera {i}" for i in range(3)]


def test_inbox_does_not_exist_for_handlers_and_engineers(as_handler, as_engineer):
    report_with_disguised_exe()
    assert as_handler.get("/en/desk/inbox/").status_code == 404
    assert as_engineer.get("/en/desk/inbox/").status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in(anonymous):
    report = report_with_disguised_exe()
    for url in ["/en/desk/inbox/", f"/en/desk/inbox/{report.public_id}/"]:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_new_report_is_404_for_handler_even_with_its_id(as_handler, as_other_handler, as_engineer):
    report = report_with_disguised_exe()
    attachment = report.attachments.get()
    for client in (as_handler, as_other_handler, as_engineer):
        assert client.get(f"/en/desk/inbox/{report.public_id}/").status_code == 404
        assert client.get(f"/en/desk/inbox/{report.public_id}/files/{attachment.public_id}/").status_code == 404


def test_taken_report_is_visible_to_whom_the_registered_rule_allows(handler, other_handler, lead):
    report = report_with_disguised_exe()
    services.mark_taken(report=report, actor=lead)
    assert not can_view_report(handler, report)

    def assigned_to_handler(user, r):
        return user.pk == handler.pk and r.pk == report.pk

    register_access_rule(assigned_to_handler)
    try:
        assert get_report_for(handler, report.public_id) == report
        with pytest.raises(Http404):
            get_report_for(other_handler, report.public_id)
    finally:
        from psirt.intake import access

        access._rules.remove(assigned_to_handler)


def test_report_page_view_is_audited(as_lead, lead):
    report = report_with_disguised_exe()
    response = as_lead.get(f"/en/desk/inbox/{report.public_id}/")
    assert response.status_code == 200
    assert "Overflow." in response.content.decode() and "ada@research.test" in response.content.decode()
    event = AuditEvent.objects.get(action="report.viewed")
    assert event.actor == lead and event.target_id == str(report.public_id)


def test_download_is_an_attachment_with_safe_headers_and_audited(as_lead, lead):
    report = report_with_disguised_exe()
    attachment = report.attachments.get()
    response = as_lead.get(f"/en/desk/inbox/{report.public_id}/files/{attachment.public_id}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == EXE_AS_PCAP
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="capture.pcap"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    event = AuditEvent.objects.get(action="report.attachment_downloaded")
    assert event.actor == lead and event.data == {"attachment": str(attachment.public_id)}


def test_non_ascii_file_name_is_encoded_in_the_header(as_lead):
    report = make_report(
        reporter_name="A", email="a@x.test", description="d", files=[IncomingFile(name="抓包 结果.pcap", source=b"x")]
    )
    attachment = report.attachments.get()
    response = as_lead.get(f"/en/desk/inbox/{report.public_id}/files/{attachment.public_id}/")
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")


def test_executable_disguised_as_capture_is_flagged_for_staff(as_lead):
    report = report_with_disguised_exe()
    html = as_lead.get(f"/en/desk/inbox/{report.public_id}/").content.decode()
    assert "name does not match content" in html


def test_unknown_or_malformed_ids_are_404(as_lead):
    report = report_with_disguised_exe()
    assert as_lead.get("/en/desk/inbox/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert (
        as_lead.get(f"/en/desk/inbox/{report.public_id}/files/00000000-0000-0000-0000-000000000000/").status_code == 404
    )
    assert as_lead.get("/en/desk/inbox/1/").status_code == 404  # integer keys are not URLs


def test_encrypted_report_without_team_key_tells_staff(as_lead, team_key):
    import pysequoia

    armored = pysequoia.encrypt(b"the secret", recipients=[team_key.extract_certificate()]).decode()
    report = make_report(reporter_name="A", email="a@x.test", description=armored)
    html = as_lead.get(f"/en/desk/inbox/{report.public_id}/").content.decode()
    assert "no team key is configured" in html and "BEGIN PGP MESSAGE" in html


def test_encrypted_report_is_decrypted_with_the_team_key(as_lead, team_key, tmp_path, settings):
    import pysequoia

    key_file = tmp_path / "team.asc"
    key_file.write_text(str(team_key))
    settings.PSIRT_TEAM_KEY_FILE = key_file
    armored = pysequoia.encrypt(b"the secret <b>bold</b>", recipients=[team_key.extract_certificate()]).decode()
    report = make_report(reporter_name="A", email="a@x.test", description=armored)
    html = as_lead.get(f"/en/desk/inbox/{report.public_id}/").content.decode()
    assert "the secret &lt;b&gt;bold&lt;/b&gt;" in html and "Decrypted with the team key" in html


def test_message_for_another_key_is_shown_as_received(as_lead, team_key, reporter_key, tmp_path, settings):
    import pysequoia

    key_file = tmp_path / "team.asc"
    key_file.write_text(str(team_key))
    settings.PSIRT_TEAM_KEY_FILE = key_file
    armored = pysequoia.encrypt(b"x", recipients=[reporter_key.extract_certificate()]).decode()
    report = make_report(reporter_name="A", email="a@x.test", description=armored)
    html = as_lead.get(f"/en/desk/inbox/{report.public_id}/").content.decode()
    assert "not encrypted to the team key" in html


def test_the_inbox_shows_a_page_at_a_time_newest_first_and_every_report_is_reachable(as_lead):
    import datetime as dt

    from django.utils import timezone

    from psirt.intake.views.desk import INBOX_PAGE_SIZE

    total = INBOX_PAGE_SIZE + 3
    now = timezone.now()
    reports = [make_report(email=f"r{i}@x.test") for i in range(total)]
    for i, report in enumerate(reports):  # report i is i minutes old
        Report.objects.filter(pk=report.pk).update(created_at=now - dt.timedelta(minutes=i))
    first = as_lead.get("/en/desk/inbox/").content.decode()
    second = as_lead.get("/en/desk/inbox/?page=2").content.decode()
    on_first = [r for r in reports if r.tracking_id in first]
    on_second = [r for r in reports if r.tracking_id in second]
    assert on_first == reports[:INBOX_PAGE_SIZE] and on_second == reports[INBOX_PAGE_SIZE:]
    assert first.index(reports[0].tracking_id) < first.index(reports[1].tracking_id)  # newest first
    assert 'href="?page=2" rel="next"' in first and "Page 1 of 2" in first
    assert 'href="?page=1" rel="prev"' in second and 'rel="next"' not in second
    zh = as_lead.get("/zh-hans/desk/inbox/").content.decode()
    assert "第 1 页，共 2 页" in zh and "较早" in zh


@pytest.mark.parametrize("page", ["abc", "-1", "0", "99999999999999", "%00", "1" * 5000])
def test_a_bad_inbox_page_number_shows_a_page_not_an_error(as_lead, page):
    report = make_report()
    response = as_lead.get(f"/en/desk/inbox/?page={page}")
    assert response.status_code == 200 and report.tracking_id in response.content.decode()


def test_the_inbox_page_query_count_does_not_grow_with_the_reports(as_lead, django_assert_max_num_queries):
    make_report()
    as_lead.get("/en/desk/inbox/")
    with django_assert_max_num_queries(20) as few:
        as_lead.get("/en/desk/inbox/")
    for i in range(60):
        make_report(email=f"more{i}@x.test")
    with django_assert_max_num_queries(len(few.captured_queries)):
        as_lead.get("/en/desk/inbox/?page=2")
