"""The case file: the story of one case from the real services, each entry tied to its audit event, for
leads and the case's handlers only, every download audited."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.test import Client

from conftest import client_for
from psirt.accounts.models import User
from psirt.audit.models import AuditEvent
from psirt.cases.models import Case
from psirt.cases.services import cases as case_services
from psirt.intake.services.attachments import IncomingFile
from psirt.intake.services.desk import post_team_message
from psirt.metrics import casefile
from psirt.tests.factories import make_line, make_product, submit_test_report

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def story(lead: User, handler: User) -> Case:
    product = make_product(make_line(name_zh="网络摄像机"))
    report = submit_test_report(
        product,
        description="登录页面存在缓冲区溢出 <script>alert(1)</script>",
        files=[IncomingFile(name="../../截图.png", source=PNG)],
    ).report
    case = case_services.open_case(report=report, actor=lead, title="Overflow in the login page", assignees=[handler])
    case_services.transition(case=case, to_state="acknowledged", actor=handler)
    case_services.transition(case=case, to_state="triage", actor=handler)
    case_services.set_cvss(case=case, vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", actor=handler)
    post_team_message(report=report, author=handler, body="谢谢，我们正在分析。")
    case_services.transition(case=case, to_state="rejected", actor=handler, reason="Works as designed")
    case_services.transition(case=case, to_state="triage", actor=lead, reason="New evidence from the reporter")
    case.refresh_from_db()
    return case


def _entries(case_file: casefile.CaseFile) -> dict[str, list[casefile.Entry]]:
    return {s.name: s.entries for s in case_file.sections}


def test_the_story_in_order_with_audit_hashes(story: Case, lead: User) -> None:
    f = casefile.build(story, lead)
    entries = _entries(f)
    (report,) = entries["reports"]
    assert "缓冲区溢出" in report.text and "Ada Researcher" in report.details["Reporter"]
    assert [e.title for e in entries["states"]] == [
        "— → New",
        "New → Acknowledged",
        "Acknowledged → Triage",
        "Triage → Rejected",
        "Rejected → Triage",
    ]
    assert entries["states"][-1].text == "New evidence from the reporter"
    assert [e.text for e in entries["conversation"]] == ["谢谢，我们正在分析。"]
    # Every entry of a table is tied to the event recorded with it, and the hashes are the chain's.
    chain = dict(AuditEvent.objects.values_list("seq", "hash"))
    tied = [e for name in ("reports", "states", "conversation") for e in entries[name]]
    assert all(e.audit_hash and chain.get(e.audit_seq or -1) == e.audit_hash for e in tied)
    assert len({e.audit_seq for e in tied}) == len(tied)  # each event once
    trail = [e.title for e in entries["audit"]]
    assert "case.scored" in trail and "case.opened" not in trail and "report.submitted" not in trail
    # Every event of the case appears exactly once in the whole file: on its entry, or else in the trail.
    stamped = [e.audit_seq for entries_ in entries.values() for e in entries_ if e.audit_seq is not None]
    assert len(stamped) == len(set(stamped))
    targets = [str(story.public_id), str(story.case_reports.get().report.public_id)]
    recorded = AuditEvent.objects.filter(target_id__in=targets).exclude(action__endswith=".viewed")
    assert set(stamped) == set(recorded.values_list("seq", flat=True))
    assert [e.audit_seq for e in entries["audit"]] == sorted(e.audit_seq for e in entries["audit"])  # type: ignore[type-var]


def test_the_pdf_and_zip_for_a_lead_are_audited(story: Case, as_lead: Client) -> None:
    pdf = as_lead.get(f"/en/desk/cases/{story.public_id}/file.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    archive = as_lead.get(f"/zh-hans/desk/cases/{story.public_id}/file.zip")
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        names = z.namelist()
        key = story.key
        assert f"{key}/{key}.pdf" in names and f"{key}/entries.json" in names
        (attachment,) = [n for n in names if "/attachments/" in n]
        assert attachment.endswith("-截图.png") and ".." not in attachment
        assert z.read(attachment) == PNG  # decrypted
        (text,) = [n for n in names if "/reports/" in n]
        assert "缓冲区溢出" in z.read(text).decode()
        data = json.loads(z.read(f"{key}/entries.json"))
    hashes = {e["audit_hash"] for s in data["sections"] for e in s["entries"] if e["audit_hash"]}
    assert hashes <= set(AuditEvent.objects.values_list("hash", flat=True))
    downloads = AuditEvent.objects.filter(action="case.file_downloaded", target_id=str(story.public_id))
    assert sorted(d.data["format"] for d in downloads) == ["pdf", "zip"]


def test_the_html_escapes_what_people_typed(story: Case, lead: User) -> None:
    html = casefile.render_html(casefile.build(story, lead))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize("who", ["engineer", "other_handler"])
def test_others_get_404_and_the_attempt_is_audited(story: Case, who: str, request: pytest.FixtureRequest) -> None:
    user: User = request.getfixturevalue(who)
    if who == "engineer":
        assert story.product_line is not None
        user.product_lines.add(story.product_line)  # sees the case, but not its file
    client = client_for(user)
    for kind in ("pdf", "zip"):
        assert client.get(f"/en/desk/cases/{story.public_id}/file.{kind}").status_code == 404
    assert AuditEvent.objects.filter(action="case.access_denied", actor=user).count() == 2
    assert not AuditEvent.objects.filter(action="case.file_downloaded").exists()


def test_an_unknown_case_is_404(as_lead: Client) -> None:
    assert as_lead.get("/en/desk/cases/00000000-0000-0000-0000-000000000000/file.pdf").status_code == 404


def test_a_case_with_200_events_has_every_entry_in_the_pdf(story: Case, lead: User, handler: User) -> None:
    """The timing of a 200-event case file is measured by bench/metrics.py, not here (a shared machine)."""
    for i in range(140):
        case_services.set_cvss(
            case=story, vector=f"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:{'HL'[i % 2]}/A:H", actor=handler
        )
        story.refresh_from_db()
    report = story.case_reports.get().report
    for i in range(50):
        post_team_message(report=report, author=handler, body=f"Update {i}")
    f = casefile.build(story, lead)
    assert f.entry_count >= 200
    entries = _entries(f)
    assert len(entries["conversation"]) == 51 and all(e.audit_hash for e in entries["conversation"])
    assert sum(1 for e in entries["audit"] if e.title == "case.scored") == 141
    stamped = {e.audit_seq for section in entries.values() for e in section if e.audit_seq is not None}
    assert len(stamped) >= 200 and len(stamped) == sum(1 for s in entries.values() for e in s if e.audit_seq)
    assert casefile.render_pdf(f).startswith(b"%PDF")
