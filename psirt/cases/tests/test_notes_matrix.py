"""Need-to-know for the team's internal notes: a product engineer invited to a case reads its technical content
and the conversation with the reporter, but not the team's internal notes nor their files — on the case page,
the report page and file downloads — unless a lead shared the notes for that case. Leads and the case's handlers
read them. The decision is the second flag of the case's one share row (next to the reporters' contacts)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from conftest import _make_user, client_for
from psirt.accounts.models import Role
from psirt.audit.models import AuditEvent
from psirt.cases.access import can_see_case_notes, contacts_shared, notes_shared
from psirt.cases.exceptions import NotAllowed
from psirt.cases.models import ReporterContactShare
from psirt.cases.services import cases as case_services
from psirt.intake.access import can_see_internal_notes, can_see_reporter_contacts
from psirt.intake.services import IncomingFile, post_team_message
from psirt.tests.factories import make_line, make_product, submit_test_report

pytestmark = pytest.mark.django_db

NOTE = "Internal: the vendor of the RTSP library is Lumen Media; do not tell the reporter yet."
NOTE_FILE = b"lab bench trace 0xdeadbeef internal only"
PUBLIC = "Thank you, we reproduced it."
PERSONAS = ("anonymous", "engineer", "invited", "shared", "handler", "lead")
READS_NOTES = {"shared", "handler", "lead"}
STATUS = {"anonymous": 302, "engineer": 404, "invited": 200, "shared": 200, "handler": 200, "lead": 200}


@pytest.fixture
def world() -> dict[str, Any]:
    product = make_product(make_line(name_en="Cameras", position=1))
    users = {
        "lead": _make_user("lead@n.test", Role.LEAD),
        "handler": _make_user("handler@n.test", Role.HANDLER),
        "invited": _make_user("invited@n.test", Role.ENGINEER),
        "engineer": _make_user("engineer@n.test", Role.ENGINEER),
    }
    report = submit_test_report(product, description="Overflow in the RTSP server.").report
    lead = users["lead"]
    case = case_services.open_case(report=report, actor=lead, title="RTSP overflow", assignees=[users["handler"]])
    case_services.invite_engineer(case=case, engineer=users["invited"], actor=lead)
    report.refresh_from_db()
    post_team_message(report=report, author=lead, body=PUBLIC)
    note = post_team_message(
        report=report,
        author=users["handler"],
        body=NOTE,
        is_internal=True,
        files=(IncomingFile(name="trace.txt", source=NOTE_FILE),),
    )
    return {"users": users, "report": report, "case": case, "note_file": note.attachments.get()}


def client(world: dict[str, Any], persona: str) -> Client:
    if persona == "anonymous":
        return Client()
    if persona == "shared":
        case_services.share_internal_notes(case=world["case"], actor=world["users"]["lead"])
        return client_for(world["users"]["invited"])
    return client_for(world["users"][persona])


def text_of(response: Any) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode()


@pytest.mark.parametrize("persona", PERSONAS)
def test_case_page(world, persona):
    response = client(world, persona).get(f"/en/desk/cases/{world['case'].public_id}/")
    assert response.status_code == {**STATUS, "engineer": 404}[persona]
    text = text_of(response)
    assert (NOTE in text) == (persona in READS_NOTES)
    assert ("trace.txt" in text) == (persona in READS_NOTES)
    if response.status_code == 200:
        assert PUBLIC in text  # the conversation with the reporter stays
        assert ('data-notes="hidden"' in text) == (persona not in READS_NOTES)


@pytest.mark.parametrize("persona", PERSONAS)
def test_report_page(world, persona):
    response = client(world, persona).get(f"/en/desk/inbox/{world['report'].public_id}/")
    assert response.status_code == STATUS[persona]
    text = text_of(response)
    assert (NOTE in text) == (persona in READS_NOTES)
    assert ("trace.txt" in text) == (persona in READS_NOTES)
    if response.status_code == 200:
        assert PUBLIC in text


@pytest.mark.parametrize("persona", PERSONAS)
def test_note_file_download(world, persona):
    url = f"/en/desk/inbox/{world['report'].public_id}/files/{world['note_file'].public_id}/"
    response = client(world, persona).get(url)
    expected = STATUS[persona] if persona in READS_NOTES or STATUS[persona] != 200 else 404
    assert response.status_code == expected
    assert (NOTE_FILE.decode() in text_of(response)) == (expected == 200)


def test_only_a_lead_shares_and_revokes_notes_and_both_are_audited(world):
    case, users, report = world["case"], world["users"], world["report"]
    for who in ("handler", "invited"):
        with pytest.raises(NotAllowed):
            case_services.share_internal_notes(case=case, actor=users[who])
    assert not notes_shared(case) and not can_see_case_notes(users["invited"], case)
    case_services.share_internal_notes(case=case, actor=users["lead"])
    case_services.share_internal_notes(case=case, actor=users["lead"])  # again: nothing new
    assert AuditEvent.objects.filter(action="case.notes_shared").count() == 1
    assert can_see_case_notes(users["invited"], case) and can_see_internal_notes(users["invited"], report)
    assert not can_see_internal_notes(users["engineer"], report)  # not invited: still nothing
    # Sharing the notes does not share the reporters' contacts, and the reverse.
    assert not contacts_shared(case) and not can_see_reporter_contacts(users["invited"], report)
    case_services.share_reporter_contacts(case=case, actor=users["lead"])
    assert ReporterContactShare.objects.filter(case=case).count() == 1  # one row holds both decisions
    case_services.revoke_reporter_contacts(case=case, actor=users["lead"])
    assert notes_shared(case) and not contacts_shared(case)
    with pytest.raises(NotAllowed):
        case_services.revoke_internal_notes(case=case, actor=users["handler"])
    case_services.revoke_internal_notes(case=case, actor=users["lead"])
    assert AuditEvent.objects.filter(action="case.notes_unshared").count() == 1
    assert not can_see_case_notes(users["invited"], case)
    assert not ReporterContactShare.objects.filter(case=case).exists()  # nothing shared: no row


def test_share_and_revoke_notes_through_the_case_page(world):
    lead = client_for(world["users"]["lead"])
    url = f"/en/desk/cases/{world['case'].public_id}/contacts/"
    assert lead.post(url, {"action": "share_notes"}).status_code == 302
    assert notes_shared(world["case"]) and not contacts_shared(world["case"])
    page = text_of(lead.get(f"/zh-hans/desk/cases/{world['case'].public_id}/"))
    assert "已共享：此工单的产品工程师可阅读团队的内部备注" in page
    assert lead.post(url, {"action": "revoke_notes"}).status_code == 302
    assert not notes_shared(world["case"])
    assert lead.post(url, {"action": "share_notes<script>"}).status_code == 404
    for persona in ("handler", "invited"):
        assert client_for(world["users"][persona]).post(url, {"action": "share_notes"}).status_code in (403, 404)
    assert not notes_shared(world["case"])
