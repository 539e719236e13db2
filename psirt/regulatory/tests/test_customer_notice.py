"""Art. 14(8) by direct notice: an obligation drafts a notice to the known customers of the affected products,
a lead reviews and sends it through the customer notices of `psirt.notify`, and "users informed" is recorded
only once the mails are queued."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from psirt.accounts.models import User
from psirt.audit.models import AuditEvent
from psirt.mail.models import OutboxMessage
from psirt.notify.models import Delivery, DeliveryKind
from psirt.notify.services import import_customers_csv
from psirt.regulatory import services
from psirt.regulatory.exceptions import Conflict, InvalidInput, NotAllowed
from psirt.regulatory.models import Filing, FilingKind, Obligation

pytestmark = pytest.mark.django_db

CUSTOMERS = (
    "organization,name,email,language,products\n"
    "Acme Water,Ann,ann@acme.test,en,cam-x5\n"
    "Acme Water,Li Lei,li@acme.test,zh,cam-x5\n"
    "Bolt Grid,Bo,bo@bolt.test,en,other-product\n"
)


def url(obligation: Obligation) -> str:
    return f"/en/desk/regulatory/{obligation.public_id}/direct-notice/"


@pytest.fixture
def customers(lead: User, obligation: Obligation) -> None:
    from psirt.tests.factories import make_product

    make_product(obligation.case.affected.first().product.line, slug="other-product", name="Other")  # type: ignore[union-attr]
    import_customers_csv(data=CUSTOMERS.encode(), actor=lead)


@pytest.fixture
def reportable(obligation: Obligation, lead: User) -> Obligation:
    return services.decide(obligation=obligation, actor=lead, reportable=True, evidence="Seen in the wild")


def users_informed(obligation: Obligation) -> list[Filing]:
    return list(Filing.objects.filter(obligation=obligation, kind=FilingKind.USERS_INFORMED))


def test_prefill_says_product_versions_cve_and_what_users_can_do_in_both_languages(
    reportable: Obligation, customers: None, handler: User
) -> None:
    text = services.draft_direct_notice(obligation=reportable, actor=handler)
    assert "Camera X5" in text["subject_en"] and "Camera X5" in text["subject_zh"]
    assert "Camera X5: 1.0 up to before 1.1" in text["body_en"]  # the affected range, as the stage forms say it
    assert "Camera X5：1.0 至 1.1 之前" in text["body_zh"]  # and as the MIIT report says it in Chinese
    for body in (text["body_en"], text["body_zh"]):
        assert "CVE-2026-1111" in body
        assert "Disable RTSP on the camera" in body  # the mitigation (no Chinese text: the English one)
    assert "What you can do" in text["body_en"] and "您可以采取的措施" in text["body_zh"]
    assert services.direct_notice_draft(Obligation.objects.get(pk=reportable.pk)) == text
    assert not users_informed(reportable) and not Delivery.objects.exists()  # drafting sends nothing
    assert AuditEvent.objects.filter(action="regulatory.direct_notice.draft").count() == 1


def test_lead_sends_each_contact_the_notice_in_their_language_over_smtp(
    as_lead: Client, reportable: Obligation, customers: None, smtp_server, django_capture_on_commit_callbacks
) -> None:
    assert as_lead.post(url(reportable), {"action": "draft"}).status_code == 302
    page = as_lead.get(f"/en/desk/regulatory/{reportable.public_id}/").content.decode()
    assert "Send to 2 customer contacts" in page and "Actively exploited vulnerability in Camera X5" in page
    text = services.direct_notice_draft(Obligation.objects.get(pk=reportable.pk))
    assert text is not None
    text["body_en"] += "\nCall us at +1 555 0100."
    with django_capture_on_commit_callbacks(execute=True):
        response = as_lead.post(url(reportable), {"action": "send", **text})
    assert response.status_code == 302
    mails = {m["To"]: m for m in smtp_server.wait_for(2)}
    assert sorted(mails) == ["ann@acme.test", "li@acme.test"]  # Bolt Grid does not run the product
    ann, li = mails["ann@acme.test"], mails["li@acme.test"]
    assert ann["Subject"] == "Security notice: Actively exploited vulnerability in Camera X5"
    ann_text = ann.get_body(("plain",)).get_content()
    assert "Call us at +1 555 0100." in ann_text and "Acme Water" in ann_text
    assert "We published advisory" not in ann_text and "Read the advisory" not in ann_text
    assert "Camera X5 漏洞正在被积极利用" in li["Subject"]
    assert "您可以采取的措施" in li.get_body(("plain",)).get_content()
    (filing,) = users_informed(reportable)
    assert filing.reference.startswith("DN-")
    # The note is worded in the reader's language, from the facts stored on the record.
    assert filing.recipients == 2
    with translation.override("en"):
        assert filing.note_text() == f"Direct notice {filing.reference} queued to 2 customer contacts."
    with translation.override("zh-hans"):
        assert filing.note_text() == f"直接通知 {filing.reference} 已排队发送给 2 位客户联系人。"
    zh_page = as_lead.get(f"/zh-hans/desk/regulatory/{reportable.public_id}/").content.decode()
    assert f"直接通知 {filing.reference} 已排队发送给 2 位客户联系人。" in zh_page
    rows = Delivery.objects.filter(kind=DeliveryKind.CUSTOMER, reference=filing.reference)
    assert rows.count() == 2 and set(rows.values_list("event", flat=True)) == {"customer.notice"}
    event = AuditEvent.objects.get(action="regulatory.filing.users_informed")
    assert event.data == {"how": "direct_notice", "notice": filing.reference, "recipients": 2}
    # The draft is gone once sent: the next notice starts from the prefill again.
    assert services.direct_notice_draft(Obligation.objects.get(pk=reportable.pk)) is None


def test_the_record_is_written_only_with_the_queued_mails(
    reportable: Obligation, customers: None, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = services.draft_direct_notice(obligation=reportable, actor=lead)

    def broken(rows: object) -> int:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr("psirt.mail.services.queue_batch", broken)
    with pytest.raises(RuntimeError):
        services.send_direct_notice(obligation=reportable, actor=lead, values=text)
    assert not users_informed(reportable) and not OutboxMessage.objects.exists()
    assert not AuditEvent.objects.filter(action="regulatory.filing.users_informed").exists()


def test_customers_gone_between_check_and_send_record_nothing(
    reportable: Obligation, customers: None, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = services.draft_direct_notice(obligation=reportable, actor=lead)
    monkeypatch.setattr("psirt.notify.services.fanout.affected_contacts", lambda notice: [])
    with pytest.raises(Conflict):
        services.send_direct_notice(obligation=reportable, actor=lead, values=text)
    assert not users_informed(reportable)


def test_without_known_customers_the_refusal_points_to_the_advisory(
    as_lead: Client, reportable: Obligation, lead: User
) -> None:
    page = as_lead.get(f"/en/desk/regulatory/{reportable.public_id}/").content.decode()
    assert "No known customer runs the affected products" in page and "Draft direct notice" not in page
    response = as_lead.post(url(reportable), {"action": "draft"})
    assert response.status_code == 409
    body = response.content.decode()
    assert "No known customer runs the affected products (cam-x5)" in body and "expedited advisory" in body
    with pytest.raises(Conflict):
        services.send_direct_notice(
            obligation=reportable,
            actor=lead,
            values={"subject_en": "s", "subject_zh": "s", "body_en": "b", "body_zh": "b"},
        )
    assert not users_informed(reportable) and not Delivery.objects.exists()


def test_a_pending_obligation_cannot_notify(obligation: Obligation, customers: None, lead: User) -> None:
    with pytest.raises(Conflict):
        services.draft_direct_notice(obligation=obligation, actor=lead)


def test_handler_drafts_and_saves_but_only_a_lead_sends(
    as_handler: Client, handler: User, reportable: Obligation, customers: None
) -> None:
    assert as_handler.post(url(reportable), {"action": "draft"}).status_code == 302
    page = as_handler.get(f"/en/desk/regulatory/{reportable.public_id}/").content.decode()
    assert "A lead reviews and sends it." in page and "Send to 2" not in page
    text = services.direct_notice_draft(Obligation.objects.get(pk=reportable.pk))
    assert text is not None
    text["subject_en"] = "Edited subject"
    assert as_handler.post(url(reportable), {"action": "save", **text}).status_code == 302
    saved = services.direct_notice_draft(Obligation.objects.get(pk=reportable.pk))
    assert saved is not None and saved["subject_en"] == "Edited subject"
    assert as_handler.post(url(reportable), {"action": "send", **text}).status_code == 403
    with pytest.raises(NotAllowed):
        services.send_direct_notice(obligation=reportable, actor=handler, values=text)
    assert not users_informed(reportable) and not Delivery.objects.exists()


def test_engineer_and_outsider_get_404_and_are_audited(
    as_engineer: Client, as_other_handler: Client, reportable: Obligation, customers: None
) -> None:
    for client in (as_engineer, as_other_handler):
        assert client.post(url(reportable), {"action": "draft"}).status_code == 404
        assert client.post(url(reportable), {"action": "send", "subject_en": "x"}).status_code == 404
    assert services.direct_notice_draft(Obligation.objects.get(pk=reportable.pk)) is None
    assert not Delivery.objects.exists()
    assert AuditEvent.objects.filter(action__contains="denied").count() >= 4


def test_hostile_text_is_escaped_in_the_page_and_the_html_mail(
    as_lead: Client, reportable: Obligation, customers: None, smtp_server, django_capture_on_commit_callbacks
) -> None:
    hostile = {
        "subject_en": "<script>alert(1)</script> & co",
        "subject_zh": "注意 <img src=x onerror=alert(1)>",
        "body_en": "Line <b>one</b>\n<script>alert(2)</script>",
        "body_zh": "第一行 <iframe src=//evil>",
    }
    assert as_lead.post(url(reportable), {"action": "save", **hostile}).status_code == 302
    page = as_lead.get(f"/en/desk/regulatory/{reportable.public_id}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<iframe src=//evil>" not in page
    with django_capture_on_commit_callbacks(execute=True):
        assert as_lead.post(url(reportable), {"action": "send", **hostile}).status_code == 302
    mails = {m["To"]: m for m in smtp_server.wait_for(2)}
    ann = mails["ann@acme.test"]
    assert ann["Subject"] == "Security notice: <script>alert(1)</script> & co"  # plain text: as typed
    html = ann.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "<iframe" not in mails["li@acme.test"].get_body(("html",)).get_content()


def test_bad_input_is_refused_and_nothing_is_sent(
    as_lead: Client, lead: User, reportable: Obligation, customers: None
) -> None:
    good = services.draft_direct_notice(obligation=reportable, actor=lead)
    too_long = {**good, "body_en": "x" * 20_001}
    response = as_lead.post(url(reportable), {"action": "send", **too_long})
    assert response.status_code == 422 and "x" * 100 in response.content.decode()  # the typed text is kept
    empty = {**good, "subject_zh": "   "}
    assert as_lead.post(url(reportable), {"action": "send", **empty}).status_code == 422
    assert as_lead.post(url(reportable), {"action": "erase"}).status_code == 400
    with pytest.raises(InvalidInput):
        services.send_direct_notice(obligation=reportable, actor=lead, values={**good, "body_zh": ""})
    assert not users_informed(reportable) and not Delivery.objects.exists()


def test_chinese_page_offers_the_action(as_lead: Client, reportable: Obligation, customers: None) -> None:
    page = as_lead.get(f"/zh-hans/desk/regulatory/{reportable.public_id}/").content.decode()
    assert "直接通知已知客户" in page and "起草直接通知" in page


def test_the_services_refuse_who_may_not_see_the_obligation(
    reportable: Obligation, customers: None, engineer: User, other_handler: User
) -> None:
    # Whatever calls them (a view, the API, a script), the services check the actor themselves.
    for actor in (engineer, other_handler):
        with pytest.raises(NotAllowed):
            services.draft_direct_notice(obligation=reportable, actor=actor)
    assert services.direct_notice_draft(Obligation.objects.get(pk=reportable.pk)) is None
