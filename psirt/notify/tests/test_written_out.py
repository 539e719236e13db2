"""An advisory mail written out once per revision and language, with each recipient's values put in, is the
very mail Django builds for that recipient: byte for byte, in English and in Chinese, every header."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.message import sanitize_address

from psirt.mail import services as outbox
from psirt.mail import writing
from psirt.mail.services import claim_batch, drain, prepare
from psirt.notify.models import CustomerContact, CustomerOrganization
from psirt.notify.services import email_hash, notify_advisory
from psirt.notify.services.fanout import addressee, compose, mail_context, written_out

from .conftest import make_notice

pytestmark = pytest.mark.django_db

DATE = "Sun, 06 Dec 2026 08:00:00 -0000"
MESSAGE_ID = "<176500000000.1.2@psirt.example>"
BOUNDARY = "0123456789abcdef0123456789abcdef"
LONG = "a-very-long-local-part-of-an-address-that-goes-past-the-fold" + "x" * 30 + "@example.test"


def queued(subscriber: Any, catalog: Any, django_capture_on_commit_callbacks: Any) -> list[Any]:
    subscriber("en@example.test", products=("cam-1",), language="en")
    subscriber("zh@example.test", products=("cam-1",), language="zh-hans")
    subscriber(LONG, products=("cam-1",), language="en")
    organization = CustomerOrganization.objects.create(name="深圳某某科技 Ltd")
    organization.products.set([catalog["cam-1"]])
    CustomerContact.objects.create(
        organization=organization, email="ops@customer.test", email_hash=email_hash("ops@customer.test"), language="zh"
    )
    with django_capture_on_commit_callbacks(execute=False):
        notify_advisory(advisory=make_notice(), revision=1, significant=True, actor=None, customers=True)
    batch = [row for row in claim_batch(limit=20) if row.kind != "webhook"]
    prepare(batch)
    assert len(batch) == 4
    return batch


def built(row: Any) -> bytes:
    """The mail as Django builds and the outbox writes it, with the given date, Message-ID and boundary."""
    to = addressee(row)
    message = compose(mail_context(row, to), to, headers={"Date": DATE, "Message-ID": MESSAGE_ID}).message()
    for part in message.walk():
        if part.is_multipart():
            part.set_boundary(writing.BOUNDARY_PREFIX + BOUNDARY)
    return bytes(message.as_bytes(linesep="\r\n"))


def test_the_written_out_mail_is_the_built_mail(subscriber, catalog, django_capture_on_commit_callbacks):
    for row in queued(subscriber, catalog, django_capture_on_commit_callbacks):
        to = addressee(row)
        ready = written_out(row, to, date=DATE, message_id=MESSAGE_ID, boundary=BOUNDARY)
        assert ready is not None
        sender, recipient, data = ready
        assert data == built(row)
        assert recipient == to.address and sender == sanitize_address(settings.DEFAULT_FROM_EMAIL, "utf-8")
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        assert parsed["To"] == to.address
        text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
        if row.kind == "subscriber":
            # Folded onto its own line, as Django writes it.
            assert parsed["List-Unsubscribe"].strip() == f"<{to.unsubscribe}>"
            assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert to.manage in text and to.manage in html and to.unsubscribe in text
        else:
            assert parsed["List-Unsubscribe"] is None and "深圳某某科技 Ltd" in text
        # In the reader's language, text and HTML alike.
        own, other = ("网页服务器缓冲区溢出", "Buffer overflow") if to.language == "zh-hans" else ("Buffer", "网页")
        assert own in text and own in html and other not in text


def test_each_mail_has_its_own_date_message_id_and_boundary(subscriber, catalog, django_capture_on_commit_callbacks):
    row = queued(subscriber, catalog, django_capture_on_commit_callbacks)[0]
    to = addressee(row)
    first, second = (written_out(row, to) for _ in range(2))
    assert first is not None and second is not None
    one, two = (email.message_from_bytes(ready[2]) for ready in (first, second))
    assert one["Message-ID"] != two["Message-ID"] and one.get_boundary() != two.get_boundary()
    assert one["Date"] and one.get_boundary().startswith(writing.BOUNDARY_PREFIX)  # type: ignore[union-attr]
    # Without fixed values, Django puts Date and Message-ID where the written-out mail has them.
    headers = list(compose(mail_context(row, to), to).message().keys())
    assert list(one.keys()) == headers


def test_a_link_too_long_to_put_in_as_is_builds_the_mail_in_full(
    subscriber, catalog, django_capture_on_commit_callbacks, settings
):
    settings.PSIRT_BASE_URL = "https://psirt.example/" + "x" * 500
    row = queued(subscriber, catalog, django_capture_on_commit_callbacks)[0]
    to = addressee(row)
    assert written_out(row, to) is None
    # It is still sent, built in full.
    mail.outbox.clear()
    outbox.OutboxMessage.objects.filter(pk=row.pk).update(status="queued", claim_token="")
    assert drain() >= 1
    assert any(to.unsubscribe in m.body for m in mail.outbox)
