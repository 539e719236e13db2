"""Subscriptions: double opt-in, the same answer for every address, expiry, manage, one-click unsubscribe."""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import timezone

from psirt.audit.models import AuditEvent
from psirt.counters.exceptions import RateLimited
from psirt.mail.services import drain
from psirt.notify.models import Delivery, Subscription
from psirt.notify.services import notify_advisory, purge_unconfirmed, request_subscription, tokens

pytestmark = pytest.mark.django_db


def form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "email": "ada@example.test",
        "language": "en",
        "min_severity": "None",
        "products": ["cam-1"],
    }
    data.update(overrides)
    return data


def subscribe(client: Client, capture, **overrides: Any) -> Any:
    with capture(execute=True):
        return client.post("/en/subscribe/", form(**overrides))


def link(body: Any, kind: str) -> str:
    match = re.search(rf"https://psirt\.test(/[a-z-]+/subscribe/{kind}/[^/\s]+/)", str(body))
    assert match, body
    return match.group(1)


def test_double_opt_in_sends_nothing_before_confirmation(catalog, notice, django_capture_on_commit_callbacks):
    client = Client()
    response = subscribe(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"] == "/en/subscribe/?requested=1"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ada@example.test"]
    confirm_path = link(mail.outbox[0].body, "confirm")
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_advisory(advisory=notice, revision=1, significant=True, actor=None) == 0
    # Opening the link (a mail scanner does) does not confirm; pressing the button does.
    assert client.get(confirm_path).status_code == 200
    assert Subscription.objects.get().confirmed_at is None
    assert client.post(confirm_path).status_code == 200
    assert Subscription.objects.get().confirmed_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_advisory(advisory=notice, revision=1, significant=True, actor=None) == 1
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["ada@example.test"]


def test_form_answers_the_same_for_a_known_address(catalog, subscriber, django_capture_on_commit_callbacks):
    subscriber("known@example.test", products=("cam-1",))
    unknown = subscribe(Client(), django_capture_on_commit_callbacks, email="new@example.test")
    known = subscribe(Client(), django_capture_on_commit_callbacks, email="known@example.test")
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    follow_unknown = Client().get(unknown["Location"]).content.decode()
    follow_known = Client().get(known["Location"]).content.decode()
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", follow_unknown) == strip.sub("", follow_known)
    # Both addresses get the same confirmation mail; nothing in the answer says which one existed.
    assert sorted(m.to[0] for m in mail.outbox) == ["known@example.test", "new@example.test"]


def test_confirming_again_replaces_the_choices_of_a_subscriber(catalog, subscriber, django_capture_on_commit_callbacks):
    old = subscriber("ada@example.test", products=("cam-1",))
    client = Client()
    subscribe(client, django_capture_on_commit_callbacks, products=[], product_lines=["routers"], min_severity="High")
    client.post(link(mail.outbox[0].body, "confirm"))
    sub = Subscription.objects.get()
    assert sub.pk == old.pk and sub.min_severity == "High"
    assert list(sub.product_lines.values_list("slug", flat=True)) == ["routers"]
    assert not sub.products.exists()


def test_unconfirmed_subscriptions_expire(catalog, subscriber, django_capture_on_commit_callbacks):
    client = Client()
    subscribe(client, django_capture_on_commit_callbacks)
    kept = subscriber("kept@example.test", products=("cam-1",))
    Subscription.objects.filter(confirmed_at__isnull=True).update(created_at=timezone.now() - dt.timedelta(hours=49))
    # The link of an expired request no longer confirms, even before the purge ran.
    assert client.post(link(mail.outbox[0].body, "confirm")).status_code == 404
    assert purge_unconfirmed() == 1
    assert list(Subscription.objects.all()) == [kept]


def test_bad_input_is_refused_with_a_message(catalog, django_capture_on_commit_callbacks):
    client = Client()
    cases = [
        form(email="not-an-address"),
        form(email="<script>alert(1)</script>@x"),
        form(products=[]),
        form(products=["no-such-product"]),
        form(min_severity="Apocalyptic"),
        form(language="xx"),
        form(email="a" * 300 + "@example.test"),
    ]
    for data in cases:
        response = subscribe(client, django_capture_on_commit_callbacks, **data)
        assert response.status_code == 400, data
        assert "<script>alert(1)</script>" not in response.content.decode()
    assert Subscription.objects.count() == 0 and mail.outbox == []


def test_subscribe_is_rate_limited_per_client_address(catalog, settings, django_capture_on_commit_callbacks):
    settings.PSIRT_NOTIFY_RATES = {"ip": (2, 3600), "email": (10, 3600)}
    client = Client(REMOTE_ADDR="198.51.100.9")
    for i in range(2):
        assert subscribe(client, django_capture_on_commit_callbacks, email=f"a{i}@example.test").status_code == 302
    refused = subscribe(client, django_capture_on_commit_callbacks, email="a9@example.test")
    assert refused.status_code == 429 and refused["Retry-After"]
    other = Client(REMOTE_ADDR="198.51.100.10")
    assert subscribe(other, django_capture_on_commit_callbacks, email="b@example.test").status_code == 302


def test_one_address_is_not_mail_bombed(catalog, settings, django_capture_on_commit_callbacks):
    settings.PSIRT_NOTIFY_RATES = {"ip": (100, 3600), "email": (2, 3600)}
    for i in range(4):
        response = subscribe(Client(REMOTE_ADDR=f"198.51.100.{i + 1}"), django_capture_on_commit_callbacks)
        assert response.status_code == 302  # the same answer
    assert len(mail.outbox) == 2


def test_advisory_mail_has_one_click_unsubscribe_and_manage_link(
    subscriber, notice, django_capture_on_commit_callbacks
):
    sub = subscriber("ada@example.test", products=("cam-1",))
    with django_capture_on_commit_callbacks(execute=True):
        notify_advisory(advisory=notice, revision=1, significant=True, actor=None)
    message: Any = mail.outbox[0]
    token = tokens.make(sub.public_id, tokens.MANAGE)
    assert message.extra_headers["List-Unsubscribe"] == f"<https://psirt.test/subscribe/unsubscribe/{token}/>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"https://psirt.test/en/subscribe/manage/{token}/" in message.body
    html = message.alternatives[0][0]
    assert f"/en/subscribe/manage/{token}/" in html


def test_one_click_post_unsubscribes_without_a_session(subscriber, notice, django_capture_on_commit_callbacks):
    sub = subscriber("ada@example.test", products=("cam-1",))
    token = tokens.make(sub.public_id, tokens.MANAGE)
    mail_client = Client(enforce_csrf_checks=True)
    # A GET (a link scanner) does not unsubscribe.
    assert mail_client.get(f"/subscribe/unsubscribe/{token}/").status_code == 200
    assert Subscription.objects.filter(pk=sub.pk).exists()
    response = mail_client.post(
        f"/subscribe/unsubscribe/{token}/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not Subscription.objects.exists()
    assert AuditEvent.objects.filter(action="notify.unsubscribed").count() == 1
    # Twice is fine; a forged token changes nothing and reveals nothing.
    assert mail_client.post(f"/subscribe/unsubscribe/{token}/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_advisory(advisory=notice, revision=1, significant=True, actor=None) == 0


def test_mail_queued_before_an_unsubscribe_is_cancelled(subscriber, notice, django_capture_on_commit_callbacks):
    sub = subscriber("ada@example.test", products=("cam-1",))
    with django_capture_on_commit_callbacks(execute=False):
        notify_advisory(advisory=notice, revision=1, significant=True, actor=None)
    Client().post(f"/subscribe/unsubscribe/{tokens.make(sub.public_id, tokens.MANAGE)}/")
    drain()
    assert mail.outbox == [] and Delivery.objects.get().status == "cancelled"


def test_manage_page_changes_choices_and_unsubscribes(subscriber, catalog):
    sub = subscriber("ada@example.test", products=("cam-1",))
    token = tokens.make(sub.public_id, tokens.MANAGE)
    client = Client()
    page = client.get(f"/en/subscribe/manage/{token}/")
    assert page.status_code == 200 and "ada@example.test" not in page.content.decode()
    response = client.post(
        f"/en/subscribe/manage/{token}/", {"language": "zh-hans", "min_severity": "Critical", "all_products": "on"}
    )
    assert response.status_code == 200
    sub.refresh_from_db()
    assert (sub.language, sub.min_severity, sub.all_products) == ("zh-hans", "Critical", True)
    assert client.post(f"/en/subscribe/manage/{token}/", {"language": "en", "min_severity": "Low"}).status_code == 400
    client.post(f"/subscribe/unsubscribe/{token}/")
    assert client.get(f"/en/subscribe/manage/{token}/").status_code == 404


@pytest.mark.parametrize(
    "token",
    ["x", "a" * 32 + ".b", "../../etc/passwd", "%00", "0" * 32 + "." + "0" * 40, "Z" * 200],
)
def test_forged_links_get_404(subscriber, token):
    sub = subscriber("ada@example.test", products=("cam-1",))
    confirm = tokens.make(sub.public_id, tokens.CONFIRM)
    client = Client()
    assert client.get(f"/en/subscribe/confirm/{token}/").status_code == 404
    assert client.get(f"/en/subscribe/manage/{token}/").status_code == 404
    # A confirm token is not a manage token.
    assert client.get(f"/en/subscribe/manage/{confirm}/").status_code == 404


def test_subscriber_addresses_are_shown_to_leads_only(subscriber, as_lead, as_handler, as_engineer, anonymous):
    subscriber("ada@example.test", products=("cam-1",))
    page = as_lead.get("/en/desk/notify/subscribers/")
    assert page.status_code == 200 and "ada@example.test" in page.content.decode()
    assert as_handler.get("/en/desk/notify/subscribers/").status_code == 404
    assert as_engineer.get("/en/desk/notify/subscribers/").status_code == 404
    assert anonymous.get("/en/desk/notify/subscribers/").status_code == 302


def test_address_is_encrypted_at_rest(subscriber):
    from django.db import connection

    subscriber("ada@example.test", products=("cam-1",))
    with connection.cursor() as cursor:
        cursor.execute("select email, email_hash from notify_subscription")
        stored, hashed = cursor.fetchone()
    assert "ada" not in stored and "ada" not in hashed


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_subscription_requests_from_one_address_gets_no_more_than_the_limit(settings):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip("threads need a database file or PostgreSQL")
    settings.PSIRT_NOTIFY_RATES = {"ip": (3, 3600), "email": (100, 3600)}
    burst = 12
    start = threading.Barrier(burst)
    accepted: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        request = RequestFactory().post("/en/subscribe/", REMOTE_ADDR="198.51.100.77")
        try:
            start.wait()
            request_subscription(email=f"burst{n}@example.test", language="en", all_products=True, request=request)
            accepted.append(n)
        except RateLimited:
            refused.append(n)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(burst)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(accepted) == 3 and len(refused) == burst - 3
