"""The reporter portal /r/<token>/ and the "lost my link" page."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re

import pytest
from django.core import mail
from django.utils import timezone

from psirt.audit.models import AuditEvent
from psirt.intake import services
from psirt.intake.models import Message, Report, ReportEvent, Stage
from psirt.intake.services import IncomingFile
from psirt.intake.tests.conftest import pcap_file
from psirt.tests.factories import make_report_and_token

pytestmark = pytest.mark.django_db


def portal_url(token: str) -> str:
    return f"/en/r/{token}/"


def test_token_has_at_least_128_bits_and_only_its_hash_is_stored(db):
    tokens = {make_report_and_token(email=f"r{i}@x.test")[1] for i in range(5)}
    assert len(tokens) == 5
    for token in tokens:
        # url-safe base64 of 32 random bytes: 43 characters of 6 bits = 258 bits ≥ 128.
        assert len(token) * 6 >= 256 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
        assert not Report.objects.filter(token_hash=token).exists()
        assert Report.objects.filter(token_hash=services.hash_token(token)).count() == 1


def test_shannon_entropy_of_tokens_is_that_of_random_bytes(db):
    chars = "".join(services.new_token() for _ in range(300))
    counts = {c: chars.count(c) for c in set(chars)}
    entropy = -sum(n / len(chars) * math.log2(n / len(chars)) for n in counts.values())
    assert entropy > 5.9  # 64-symbol alphabet: at most 6 bits per character


@pytest.mark.parametrize("token", ["x", "A" * 43, "A" * 200, "m.forged:sig", "../../etc", "%00", "m." + "a" * 500])
def test_wrong_or_malformed_token_gets_404(anonymous, db, token):
    make_report_and_token()
    response = anonymous.get(f"/en/r/{token}/")
    assert response.status_code == 404
    assert "Ada" not in response.content.decode()


def test_portal_sets_no_referrer_and_no_store(anonymous, db):
    _report, token = make_report_and_token()
    response = anonymous.get(portal_url(token))
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]


def test_portal_never_shows_internal_notes_or_files(anonymous, db, lead):
    report, token = make_report_and_token()
    services.post_team_message(report=report, author=lead, body="Thanks, we are looking into it.")
    services.post_team_message(
        report=report,
        author=lead,
        body="INTERNAL: reporter seems legit, CVSS 9.8",
        is_internal=True,
        files=[IncomingFile(name="internal-analysis.txt", source=b"INTERNAL-FILE")],
    )
    html = anonymous.get(portal_url(token)).content.decode()
    assert "Thanks, we are looking into it." in html
    assert "INTERNAL" not in html and "internal-analysis" not in html and "CVSS 9.8" not in html
    assert lead.email not in html  # staff identities stay inside


def test_portal_shows_timeline_and_deadlines(anonymous, db, lead):
    report, token = make_report_and_token()
    services.set_stage(report=report, stage=Stage.ACKNOWLEDGED, actor=lead, notify=False)
    html = anonymous.get(portal_url(token)).content.decode()
    for label in ["Received", "Acknowledged", "Being validated", "Fix in progress", "Advisory published", "Closed"]:
        assert label in html
    assert 'aria-current="step"' in html
    assert report.acknowledged_at is not None


def test_exit_stage_is_worded_kindly(anonymous, db, lead):
    report, token = make_report_and_token()
    services.set_stage(report=report, stage=Stage.DUPLICATE, actor=lead, notify=False)
    html = anonymous.get(portal_url(token)).content.decode()
    assert "Already known to us" in html and "Thank you all the same" in html
    assert "Fix in progress" not in html  # stages not reached are not promised


def test_reporter_sends_message_with_file(anonymous, db, django_capture_on_commit_callbacks):
    report, token = make_report_and_token()
    with django_capture_on_commit_callbacks(execute=True):
        response = anonymous.post(
            portal_url(token), {"action": "message", "body": "Here is a second PoC.", "attachments": [pcap_file()]}
        )
    assert response.status_code == 302
    message = Message.objects.get(report=report)
    assert message.body == "Here is a second PoC." and message.author_kind == "reporter"
    assert message.attachments.get().name == "capture.pcap"
    assert AuditEvent.objects.filter(action="report.reporter_message").exists()
    # The team is told, without the content.
    notice = mail.outbox[-1]
    assert report.tracking_id in notice.subject and "second PoC" not in notice.body
    page = anonymous.get(portal_url(token)).content.decode()
    assert "Here is a second PoC." in page and "capture.pcap" in page


def test_empty_message_is_refused(anonymous, db):
    _report, token = make_report_and_token()
    response = anonymous.post(portal_url(token), {"action": "message", "body": "  "})
    assert response.status_code == 422
    assert "Write a message or choose a file." in response.content.decode()
    assert Message.objects.count() == 0


def test_reporter_proposes_a_disclosure_date(anonymous, db):
    report, token = make_report_and_token()
    date = timezone.localdate() + dt.timedelta(days=60)
    response = anonymous.post(portal_url(token), {"action": "date", "date": date.isoformat()})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.proposed_disclosure_date == date
    assert ReportEvent.objects.filter(report=report, kind="date_proposed", date=date).exists()


@pytest.mark.parametrize("value", ["2000-01-01", "not-a-date", "", "9999-01-01"])
def test_bad_disclosure_date_is_refused_with_a_message(anonymous, db, value):
    report, token = make_report_and_token()
    response = anonymous.post(portal_url(token), {"action": "date", "date": value})
    assert response.status_code == 422
    assert response.context["date_form"].errors
    report.refresh_from_db()
    assert report.proposed_disclosure_date is None


def test_reporter_edits_credit_line(anonymous, db):
    report, token = make_report_and_token()
    anonymous.post(portal_url(token), {"action": "credit", "credit": "Ada of Lab 7"})
    report.refresh_from_db()
    assert report.credit == "Ada of Lab 7" and not report.credit_anonymous
    anonymous.post(portal_url(token), {"action": "credit", "credit": "", "credit_anonymous": "on"})
    report.refresh_from_db()
    assert report.credit_anonymous and report.credit == ""
    response = anonymous.post(portal_url(token), {"action": "credit", "credit": ""})
    assert response.status_code == 422


def test_unknown_action_changes_nothing(anonymous, db):
    report, token = make_report_and_token()
    response = anonymous.post(portal_url(token), {"action": "delete_everything"})
    assert response.status_code == 302
    assert Report.objects.filter(pk=report.pk).exists()


def test_portal_post_without_csrf_token_is_refused(csrf_client, db):
    _report, token = make_report_and_token()
    response = csrf_client.post(portal_url(token), {"action": "message", "body": "hi"})
    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_token_never_appears_in_log_records(anonymous, csrf_client, db, caplog):
    _report, token = make_report_and_token()
    with caplog.at_level(logging.DEBUG):
        anonymous.get(portal_url(token))
        anonymous.get(portal_url(token[:-2] + "xx"))  # a 404
        anonymous.post(portal_url(token), {"action": "message", "body": ""})  # a 422
        assert csrf_client.post(portal_url(token), {"action": "message", "body": "x"}).status_code == 403
    assert token not in caplog.text and token[:-2] not in caplog.text


def test_lost_link_answers_the_same_for_known_and_unknown_addresses(anonymous, db, django_capture_on_commit_callbacks):
    _report, old_token = make_report_and_token()
    with django_capture_on_commit_callbacks(execute=True):
        known = anonymous.post("/en/report/lost-link/", {"email": "ADA@research.test "})
        unknown = anonymous.post("/en/report/lost-link/", {"email": "nobody@research.test"})
    assert known.status_code == unknown.status_code == 200

    def strip(html: str) -> str:
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert strip(known.content.decode()) == strip(unknown.content.decode())
    # Only the known address got mail, with a working new link.
    assert [m.to for m in mail.outbox] == [["ada@research.test"]]
    found = re.search(r"/en/r/([A-Za-z0-9_-]{43})/", str(mail.outbox[0].body))
    assert found is not None
    new_token = found.group(1)
    assert new_token != old_token


def _lost_link(anonymous, django_capture_on_commit_callbacks, email="ada@research.test"):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert anonymous.post("/en/report/lost-link/", {"email": email}).status_code == 200
    found = re.search(r"/r/([A-Za-z0-9_-]{43})/", str(mail.outbox[-1].body))
    assert found is not None
    return found.group(1)


def test_lost_link_keeps_the_old_link_until_the_new_one_is_used(anonymous, db, django_capture_on_commit_callbacks):
    """Someone who only knows the reporter's address can make a mail arrive, but cannot lock them out."""
    report, old_token = make_report_and_token()
    new_token = _lost_link(anonymous, django_capture_on_commit_callbacks)
    # Asked for, not used: the old link still opens the portal, as often as the reporter likes.
    assert anonymous.get(portal_url(old_token)).status_code == 200
    assert anonymous.get(portal_url(old_token)).status_code == 200
    # The first use of the new link makes it the private link; only now does the old one die.
    assert anonymous.get(portal_url(new_token)).status_code == 200
    assert anonymous.get(portal_url(old_token)).status_code == 404
    assert anonymous.get(portal_url(new_token)).status_code == 200
    assert AuditEvent.objects.filter(action="report.link_activated", target_id=str(report.public_id)).exists()


def test_lost_link_asked_twice_keeps_the_old_link_and_the_latest(anonymous, db, django_capture_on_commit_callbacks):
    _report, old_token = make_report_and_token()
    first = _lost_link(anonymous, django_capture_on_commit_callbacks)
    second = _lost_link(anonymous, django_capture_on_commit_callbacks)
    assert first != second
    assert anonymous.get(portal_url(old_token)).status_code == 200
    # Only the latest pending link is live: a stranger's repeated requests replace it, never the current one.
    assert anonymous.get(portal_url(first)).status_code == 404
    assert anonymous.get(portal_url(old_token)).status_code == 200
    assert anonymous.get(portal_url(second)).status_code == 200
    assert anonymous.get(portal_url(old_token)).status_code == 404


def test_lost_link_mail_says_the_old_link_still_works(anonymous, db, django_capture_on_commit_callbacks):
    make_report_and_token()
    _lost_link(anonymous, django_capture_on_commit_callbacks)
    body = str(mail.outbox[-1].body)
    assert "keeps working until you open this one" in body
    assert "no longer works" not in body


def test_a_wrong_or_malformed_token_does_not_open_or_promote(anonymous, db, django_capture_on_commit_callbacks):
    report, old_token = make_report_and_token()
    new_token = _lost_link(anonymous, django_capture_on_commit_callbacks)
    for bad in (new_token[:-1] + ("A" if new_token[-1] != "A" else "B"), "x" * 31, "../" + new_token, ""):
        assert anonymous.get(f"/en/r/{bad}/").status_code in {404, 301}
    report.refresh_from_db()
    assert report.next_token_hash  # still pending: nothing was promoted by a wrong token
    assert anonymous.get(portal_url(old_token)).status_code == 200


def test_lost_link_queues_the_same_work_either_way(anonymous, db, monkeypatch):
    """Timing: the request does the same steps for known and unknown addresses (the mail goes out in a
    background task), so response time does not reveal whether an address reported something."""
    from psirt.intake import tasks

    queued = []

    class FakeTask:
        def enqueue(self, **kwargs):
            queued.append(kwargs)

    monkeypatch.setattr(tasks, "send_fresh_links", FakeTask())
    make_report_and_token()
    anonymous.post("/en/report/lost-link/", {"email": "ada@research.test"})
    anonymous.post("/en/report/lost-link/", {"email": "nobody@research.test"})
    assert len(queued) == 2
    assert set(queued[0]) == set(queued[1]) == {"email_hash"}
    assert "ada@research.test" not in str(queued)


def test_lost_link_is_rate_limited_per_email(anonymous, db):
    for _ in range(3):
        assert anonymous.post("/en/report/lost-link/", {"email": "x@research.test"}).status_code == 200
    response = anonymous.post("/en/report/lost-link/", {"email": "x@research.test"})
    assert response.status_code == 429
    assert "try again in" in response.content.decode()
    assert int(response["Retry-After"]) > 0


def test_magic_link_from_a_team_mail_opens_the_portal_until_a_reissued_link_is_used(
    anonymous, db, lead, django_capture_on_commit_callbacks
):
    report, _token = make_report_and_token()
    magic = services.magic_token(report)
    assert anonymous.get(portal_url(magic)).status_code == 200
    new_token = _lost_link(anonymous, django_capture_on_commit_callbacks)
    assert anonymous.get(portal_url(magic)).status_code == 200  # only asked for: nothing dies yet
    assert anonymous.get(portal_url(new_token)).status_code == 200
    assert anonymous.get(portal_url(magic)).status_code == 404


def test_team_message_mail_has_a_magic_link_and_no_body_without_a_key(db, lead, django_capture_on_commit_callbacks):
    report, _token = make_report_and_token()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_team_message(report=report, author=lead, body="Can you share the firmware build?")
    sent = mail.outbox[-1]
    assert sent.to == ["ada@research.test"]
    assert "/en/r/m." in sent.body
    assert "firmware build" not in sent.body  # never in clear text mail
