"""The advisory fan-out: exactly the matching confirmed subscribers, one mail each, in their language."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from psirt.audit.models import AuditEvent
from psirt.notify.models import Delivery
from psirt.notify.services import notice_from_advisory, notify_advisory

from .conftest import make_notice

pytestmark = pytest.mark.django_db


def publish(notice: Any, capture: Any, *, revision: int = 1, significant: bool = True) -> list[str]:
    with capture(execute=True):
        notify_advisory(advisory=notice, revision=revision, significant=significant, actor=None)
    return sorted(m.to[0] for m in mail.outbox)


def test_exactly_the_matching_subscribers_get_one_mail(subscriber, django_capture_on_commit_callbacks):
    subscriber("product@example.test", products=("cam-1",))
    subscriber("line@example.test", lines=("cameras",))
    subscriber("everything@example.test", everything=True)
    subscriber("high@example.test", products=("cam-1",), min_severity="High")
    subscriber("critical-only@example.test", products=("cam-1",), min_severity="Critical")
    subscriber("other-product@example.test", products=("cam-2",))
    subscriber("other-line@example.test", lines=("routers",))
    subscriber("unconfirmed@example.test", products=("cam-1",), confirmed=False)
    subscriber("both@example.test", products=("cam-1",), lines=("cameras",))
    notice = make_notice(severity="High", product_slugs=("cam-1",), product_line_slugs=("cameras",))
    assert publish(notice, django_capture_on_commit_callbacks) == [
        "both@example.test",
        "everything@example.test",
        "high@example.test",
        "line@example.test",
        "product@example.test",
    ]


def test_unscored_advisory_reaches_only_those_who_want_everything(subscriber, django_capture_on_commit_callbacks):
    subscriber("all@example.test", products=("cam-1",))
    subscriber("low@example.test", products=("cam-1",), min_severity="Low")
    assert publish(make_notice(severity=""), django_capture_on_commit_callbacks) == ["all@example.test"]


def test_each_subscriber_reads_the_mail_in_their_language(subscriber, notice, django_capture_on_commit_callbacks):
    subscriber("zh@example.test", products=("cam-1",), language="zh-hans")
    subscriber("en@example.test", products=("cam-1",), language="en")
    publish(notice, django_capture_on_commit_callbacks)
    by_address: dict[str, Any] = {m.to[0]: m for m in mail.outbox}
    zh, en = by_address["zh@example.test"], by_address["en@example.test"]
    assert notice.title_zh in zh.subject and notice.title_en not in zh.body
    assert "https://psirt.test/zh-hans/advisories/VT-SA-2026-001/" in zh.body
    assert "/zh-hans/subscribe/manage/" in zh.body
    assert notice.title_en in en.subject and notice.title_zh not in en.body
    for message in (zh, en):
        assert notice.csaf_url in message.body and "CVE-2026-0001" in message.body
        html = message.alternatives[0][0]
        assert notice.csaf_url in html and message.alternatives[0][1] == "text/html"


def test_hostile_advisory_text_is_escaped_in_the_html_part(subscriber, django_capture_on_commit_callbacks):
    subscriber("ada@example.test", products=("cam-1",))
    publish(make_notice(title_en="<img src=x onerror=alert(1)>"), django_capture_on_commit_callbacks)
    message: Any = mail.outbox[0]
    html = str(message.alternatives[0][0])
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_minor_revision_notifies_only_when_the_lead_chooses(subscriber, notice, django_capture_on_commit_callbacks):
    subscriber("ada@example.test", products=("cam-1",))
    publish(notice, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    publish(notice, django_capture_on_commit_callbacks, revision=2, significant=False)
    assert len(mail.outbox) == 1
    publish(notice, django_capture_on_commit_callbacks, revision=3, significant=True)
    assert len(mail.outbox) == 2
    assert "revised" in mail.outbox[1].subject.lower() or "updated" in mail.outbox[1].subject.lower()
    assert set(Delivery.objects.values_list("event", flat=True)) == {"advisory.published", "advisory.revised"}
    assert AuditEvent.objects.filter(action="notify.advisory_queued").count() == 2


def test_fan_out_rolled_back_with_the_publication_sends_nothing(subscriber, notice, django_capture_on_commit_callbacks):
    from django.db import transaction

    subscriber("ada@example.test", products=("cam-1",))
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                notify_advisory(advisory=notice, revision=1, significant=True, actor=None)
                raise RuntimeError("publication failed")
        except RuntimeError:
            pass
    assert Delivery.objects.count() == 0 and mail.outbox == []


def test_notice_from_an_advisory_model(catalog, lead):
    from psirt.advisories.models import Advisory, AffectedProduct

    advisory = Advisory.objects.create(
        advisory_id="VT-SA-2026-042",
        year=2026,
        number=42,
        state="published",
        title_en="Weak default password",
        title_zh="默认密码过弱",
        summary_en="Change it.",
        severity="Critical",
        identifiers="CVE-2026-1234\nCNVD-2026-12345",
    )
    AffectedProduct.objects.create(advisory=advisory, product=catalog["cam-2"])
    AffectedProduct.objects.create(advisory=advisory, product=catalog["rt-1"])
    notice = notice_from_advisory(advisory)
    assert notice.id == "VT-SA-2026-042" and notice.severity == "Critical"
    assert notice.product_slugs == ("cam-2", "rt-1") and notice.product_line_slugs == ("cameras", "routers")
    assert notice.url == "https://psirt.test/en/advisories/VT-SA-2026-042/"
    assert notice.csaf_url == "https://psirt.test/advisories/VT-SA-2026-042/csaf.json"
    assert notice.cves == ("CVE-2026-1234",)


def test_notify_accepts_the_advisory_model_itself(catalog, subscriber, django_capture_on_commit_callbacks):
    from psirt.advisories.models import Advisory, AffectedProduct

    subscriber("ada@example.test", lines=("routers",))
    advisory = Advisory.objects.create(
        advisory_id="VT-SA-2026-043", year=2026, number=43, state="published", title_en="T", severity="Low"
    )
    AffectedProduct.objects.create(advisory=advisory, product=catalog["rt-1"])
    publish(advisory, django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["ada@example.test"]]
    assert Delivery.objects.get().reference == "VT-SA-2026-043"


def sent_content(message: Any) -> tuple[Any, ...]:
    """What a mail says and to whom (the Message-ID, date and MIME boundaries differ on every write)."""
    return (message.subject, message.body, message.alternatives, message.to, message.from_email, message.extra_headers)


def test_a_batch_loads_its_subscribers_in_one_query_and_builds_the_same_mails(
    subscriber, notice, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from psirt.mail.services import claim_batch, prepare
    from psirt.notify.models import Subscription
    from psirt.notify.services.fanout import build

    for i in range(3):
        subscriber(f"en{i}@example.test", products=("cam-1",), language="en")
        subscriber(f"zh{i}@example.test", products=("cam-1",), language="zh-hans")
    gone = subscriber("gone@example.test", products=("cam-1",))
    with django_capture_on_commit_callbacks(execute=False):
        notify_advisory(advisory=notice, revision=1, significant=True, actor=None)
    gone.delete()
    batch = claim_batch(limit=20)
    assert len(batch) == 7
    # Each mail as it is built without the batch's loading: one query per mail.
    expected: dict[int, tuple[Any, ...] | str] = {}
    for row in batch:
        try:
            expected[row.pk] = sent_content(build(row))
        except Exception as exc:  # the deleted subscriber's mail is cancelled either way
            expected[row.pk] = type(exc).__name__
    table = Subscription._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        prepare(batch)
        got: dict[int, tuple[Any, ...] | str] = {}
        for row in batch:
            try:
                got[row.pk] = sent_content(build(row))
            except Exception as exc:
                got[row.pk] = type(exc).__name__
    assert got == expected
    assert sorted(v for v in got.values() if isinstance(v, str)) == ["Cancelled"]
    assert {m[3][0] for m in got.values() if not isinstance(m, str)} == {
        f"{lang}{i}@example.test" for lang in ("en", "zh") for i in range(3)
    }
    # One query for the six found plus one for the gone one (looked up again, then cancelled); not seven.
    assert sum(table in q["sql"] for q in queries.captured_queries) == 2


def test_a_failing_batch_preparer_still_sends_every_mail(
    subscriber, notice, django_capture_on_commit_callbacks, monkeypatch
):
    from psirt.mail import services as outbox

    subscriber("en@example.test", products=("cam-1",), language="en")
    subscriber("zh@example.test", products=("cam-1",), language="zh-hans")

    def broken(rows: object) -> None:
        raise RuntimeError("database gone for a moment")

    monkeypatch.setattr(outbox, "preparers", lambda: {"subscriber": broken})
    assert publish(notice, django_capture_on_commit_callbacks) == ["en@example.test", "zh@example.test"]
    assert Delivery.objects.filter(status="sent").count() == 2
