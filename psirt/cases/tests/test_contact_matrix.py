"""Need-to-know for people: who sees the reporter's name, e-mail address and phone number.

Personas × surfaces. A product engineer invited to the case sees the technical content but not who reported
it — on the case page, the report page, the conversation (including "Dear <name>" in the team's messages and
the reporter's signature), files and the API — unless a lead shared the contacts for that case. Leads and the
case's handlers see them; an engineer who is not invited and the anonymous visitor see nothing at all.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from conftest import _make_user, client_for
from psirt.accounts.models import Role
from psirt.accounts.services import create_token
from psirt.audit.models import AuditEvent
from psirt.cases.access import can_see_case_contacts, contacts_shared
from psirt.cases.exceptions import NotAllowed
from psirt.cases.models import ReporterContactShare
from psirt.cases.services import cases as case_services
from psirt.intake.access import can_see_reporter_contacts, redact_contacts
from psirt.intake.services import IncomingFile, add_reporter_message, post_team_message
from psirt.tests.factories import make_line, make_product, submit_test_report

pytestmark = pytest.mark.django_db

NAME = "Zora Quillfeather"
EMAIL = "zora.quill@reporter.test"
PHONE = "+86 592 555 7788"
CONTACTS = (NAME, EMAIL, PHONE)

PERSONAS = ("anonymous", "engineer", "invited", "shared", "handler", "lead")
# Who sees the reporter's contact details (the others must not find a trace of them).
SEES = {"shared", "handler", "lead"}


@pytest.fixture
def world() -> dict[str, Any]:
    line = make_line(name_en="Cameras", position=1)
    product = make_product(line)
    users = {
        "lead": _make_user("lead@c.test", Role.LEAD),
        "handler": _make_user("handler@c.test", Role.HANDLER),
        "invited": _make_user("invited@c.test", Role.ENGINEER),
        "engineer": _make_user("engineer@c.test", Role.ENGINEER),
    }
    submission = submit_test_report(
        product,
        reporter_name=NAME,
        email=EMAIL,
        phone=PHONE,
        organization="Quill Labs",
        credit=NAME,
        description=f"Overflow in the RTSP server. Reach me at {EMAIL} or {PHONE}.",
        technical_details=f"Send 5000 bytes. -- {NAME}",
        files=(IncomingFile(name="poc.txt", source=b"proof of concept bytes"),),
    )
    report = submission.report
    lead = users["lead"]
    case = case_services.open_case(report=report, actor=lead, title="RTSP overflow", assignees=[users["handler"]])
    case_services.invite_engineer(case=case, engineer=users["invited"], actor=lead)
    report.refresh_from_db()
    post_team_message(report=report, author=lead, body=f"Dear {NAME}, thank you. Can you share the firmware build?")
    add_reporter_message(report=report, body=f"Build 210318.\n\nRegards,\n{NAME}\n{EMAIL}")
    return {"users": users, "report": report, "case": case, "attachment": report.attachments.get()}


def client(world: dict[str, Any], persona: str) -> Client:
    if persona == "anonymous":
        return Client()
    if persona == "shared":
        case_services.share_reporter_contacts(case=world["case"], actor=world["users"]["lead"])
        return client_for(world["users"]["invited"])
    return client_for(world["users"][persona])


def bearer(world: dict[str, Any], persona: str) -> dict[str, str]:
    if persona == "anonymous":
        return {}
    user = world["users"]["invited" if persona == "shared" else persona]
    if persona == "shared":
        case_services.share_reporter_contacts(case=world["case"], actor=world["users"]["lead"])
    _row, token = create_token(user=user, name="contacts", scopes=["cases:read"])
    return {"Authorization": f"Bearer {token}"}


def text_of(response: Any) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode(errors="replace") + str(response.headers)
    return response.content.decode() + str(response.headers)


def assert_contacts(text: str, persona: str, *, expected_present: bool) -> None:
    for value in CONTACTS:
        if expected_present:
            assert value in text, f"{persona} should see {value!r}"
        else:
            assert value not in text, f"{persona} must not see {value!r}"


# --- the report page (the reporter card, the report's own text, its messages) ----------------------------------

REPORT_STATUS = {"anonymous": 302, "engineer": 404, "invited": 200, "shared": 200, "handler": 200, "lead": 200}


@pytest.mark.parametrize("persona", PERSONAS)
def test_report_page(world, persona):
    response = client(world, persona).get(f"/en/desk/inbox/{world['report'].public_id}/")
    assert response.status_code == REPORT_STATUS[persona]
    text = text_of(response)
    assert_contacts(text, persona, expected_present=persona in SEES)
    if persona == "invited":
        assert "Overflow in the RTSP server" in text and "Send 5000 bytes" in text  # the technical content stays
        assert 'id="contacts-hidden"' in text


# --- the case page (its conversation included) --------------------------------------------------------------

CASE_STATUS = REPORT_STATUS


@pytest.mark.parametrize("persona", PERSONAS)
def test_case_page_and_conversation(world, persona):
    response = client(world, persona).get(f"/en/desk/cases/{world['case'].public_id}/")
    assert response.status_code == CASE_STATUS[persona]
    text = text_of(response)
    if persona in SEES:
        # The conversation carries the name and address the reporter and the team wrote.
        assert f"Dear {NAME}" in text and EMAIL in text
    else:
        assert NAME not in text and EMAIL not in text and PHONE not in text
    if persona == "invited":
        assert "Can you share the firmware build?" in text and "Build 210318." in text


# --- files -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_attachment_download(world, persona):
    url = f"/en/desk/inbox/{world['report'].public_id}/files/{world['attachment'].public_id}/"
    response = client(world, persona).get(url)
    assert response.status_code == REPORT_STATUS[persona]
    text = text_of(response)
    assert ("proof of concept bytes" in text) == (REPORT_STATUS[persona] == 200)
    assert_contacts(text, persona, expected_present=False)  # nothing about the person in a file's answer


# --- the API -----------------------------------------------------------------------------------------------

API_STATUS = {"anonymous": 401, "engineer": 404, "invited": 200, "shared": 200, "handler": 200, "lead": 200}


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_case_and_list(world, persona):
    headers = bearer(world, persona)
    detail = Client().get(f"/api/v1/cases/{world['case'].public_id}", headers=headers)
    assert detail.status_code == API_STATUS[persona]
    listing = Client().get("/api/v1/cases", headers=headers)
    for response in (detail, listing):
        assert_contacts(text_of(response), persona, expected_present=False)
    if API_STATUS[persona] == 200:
        assert world["report"].tracking_id in text_of(detail)


# --- the decision itself -----------------------------------------------------------------------------------


def test_only_a_lead_shares_and_revokes_and_both_are_audited(world):
    case, users = world["case"], world["users"]
    for who in ("handler", "invited"):
        with pytest.raises(NotAllowed):
            case_services.share_reporter_contacts(case=case, actor=users[who])
    assert not contacts_shared(case)
    case_services.share_reporter_contacts(case=case, actor=users["lead"])
    case_services.share_reporter_contacts(case=case, actor=users["lead"])  # again: nothing new
    share = ReporterContactShare.objects.get(case=case)
    assert share.shared_by == users["lead"]
    assert AuditEvent.objects.filter(action="case.contacts_shared").count() == 1
    assert can_see_reporter_contacts(users["invited"], world["report"])
    assert not can_see_reporter_contacts(users["engineer"], world["report"])  # not invited: still nothing
    with pytest.raises(NotAllowed):
        case_services.revoke_reporter_contacts(case=case, actor=users["handler"])
    case_services.revoke_reporter_contacts(case=case, actor=users["lead"])
    assert AuditEvent.objects.filter(action="case.contacts_unshared").count() == 1
    assert not can_see_case_contacts(users["invited"], case)
    assert not can_see_reporter_contacts(users["invited"], world["report"])


def test_revoking_hides_them_again_on_the_pages(world):
    users = world["users"]
    case_services.share_reporter_contacts(case=world["case"], actor=users["lead"])
    engineer = client_for(users["invited"])
    assert EMAIL in text_of(engineer.get(f"/en/desk/inbox/{world['report'].public_id}/"))
    case_services.revoke_reporter_contacts(case=world["case"], actor=users["lead"])
    assert EMAIL not in text_of(engineer.get(f"/en/desk/inbox/{world['report'].public_id}/"))


def test_share_and_revoke_through_the_case_page(world):
    lead = client_for(world["users"]["lead"])
    url = f"/en/desk/cases/{world['case'].public_id}/contacts/"
    assert lead.post(url, {"action": "share"}).status_code == 302
    assert contacts_shared(world["case"])
    assert lead.post(url, {"action": "revoke"}).status_code == 302
    assert not contacts_shared(world["case"])
    assert lead.post(url, {"action": "<script>"}).status_code == 404
    handler = client_for(world["users"]["handler"])
    assert handler.post(url, {"action": "share"}).status_code == 403
    assert not contacts_shared(world["case"])


def test_redaction_is_case_insensitive_and_ignores_too_short_values(world):
    report = world["report"]
    assert redact_contacts(f"hi {NAME.upper()} <{EMAIL.upper()}>", report).count("hidden") == 2
    report.reporter_name = "Al"
    assert redact_contacts("Always", report) == "Always"


def test_a_mailed_reports_original_message_is_part_of_the_contacts(world):
    report, users = world["report"], world["users"]
    add_reporter_message(
        report=report,
        body="see the original",
        files=[IncomingFile(name="original-message.eml", source=f"From: {NAME} <{EMAIL}>\r\n\r\nhi".encode())],
    )
    original = next(a for a in report.attachments.all() if a.name == "original-message.eml")
    url = f"/en/desk/inbox/{report.public_id}/files/{original.public_id}/"
    engineer = client_for(users["invited"])
    assert engineer.get(url).status_code == 404
    assert AuditEvent.objects.filter(action__endswith="access_denied", actor=users["invited"]).exists()
    assert "original-message.eml" not in text_of(engineer.get(f"/en/desk/inbox/{report.public_id}/"))
    response = client_for(users["handler"]).get(url)
    assert response.status_code == 200 and EMAIL in text_of(response)
    case_services.share_reporter_contacts(case=world["case"], actor=users["lead"])
    assert engineer.get(url).status_code == 200
