"""Customer organizations: CSV import (all or nothing, errors per line), direct notices tracked per contact."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from psirt.mail.models import OutboxStatus as DeliveryStatus
from psirt.notify.models import CustomerContact, CustomerOrganization, Delivery, DeliveryKind
from psirt.notify.services import notify_advisory, notify_customers

from .conftest import make_notice

pytestmark = pytest.mark.django_db

GOOD = (
    "organization,name,email,language,products\n"
    "Acme Water,Li Lei,li@acme.test,zh,cam-1 rt-1\n"
    "Acme Water,Ann,ann@acme.test,en,cam-1\n"
    "Bolt Grid,Bo,bo@bolt.test,,rt-1\n"
)


def upload(client, content: bytes, name: str = "customers.csv"):
    return client.post("/en/desk/notify/customers/import/", {"file": SimpleUploadedFile(name, content, "text/csv")})


def test_lead_imports_customers_from_csv(as_lead, catalog):
    response = upload(as_lead, ("\ufeff" + GOOD).encode("utf-8"))  # Excel's UTF-8 BOM is fine
    assert response.status_code == 302
    acme = CustomerOrganization.objects.get(name="Acme Water")
    assert sorted(acme.products.values_list("slug", flat=True)) == ["cam-1", "rt-1"]
    assert sorted(c.email for c in acme.contacts.all()) == ["ann@acme.test", "li@acme.test"]
    assert CustomerContact.objects.get(email_hash__isnull=False, name="Li Lei").language == "zh-hans"
    # Importing again updates, it does not duplicate.
    assert upload(as_lead, GOOD.encode()).status_code == 302
    assert CustomerContact.objects.count() == 3 and CustomerOrganization.objects.count() == 2
    page = as_lead.get("/en/desk/notify/customers/").content.decode()
    assert "Acme Water" in page and "Bolt Grid" in page


def test_bad_lines_are_named_and_nothing_is_imported(as_lead, catalog):
    content = (
        "organization,name,email,language,products\n"
        "Acme,Li,li@acme.test,en,cam-1\n"
        ",No Org,x@acme.test,en,cam-1\n"
        "Acme,Bad,not-an-address,en,cam-1\n"
        "Acme,Lang,l@acme.test,fr,cam-1\n"
        "Acme,Prod,p@acme.test,en,no-such-thing\n"
        "Acme,Extra,e@acme.test,en,cam-1,surplus\n"
        "Acme,<script>alert(1)</script>,s@acme.test,en,<b>x</b>\n"
    )
    response = upload(as_lead, content.encode())
    assert response.status_code == 400
    text = response.content.decode()
    for line in (3, 4, 5, 6, 7, 8):
        assert f"Line {line}:" in text
    assert "Line 2:" not in text and "<script>alert(1)</script>" not in text and "<b>x</b>" not in text
    assert not CustomerOrganization.objects.exists() and not CustomerContact.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("organization,email\nMüller GmbH,m@x.test\n".encode("latin-1"), "UTF-8"),
        ("organization,name,email\nＡ公司,张,z@x.test\n".encode("gb18030"), "UTF-8"),
        (b"name,email\nA,a@x.test\n", "organization"),
        (b"", "organization"),
        (b"organization,email\n\x00\x00\x00", "text"),
        (b'organization,email\n"unterminated,a@x.test\n' + b"x" * 10, "CSV"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(as_lead, catalog, content, message):
    response = upload(as_lead, content)
    assert response.status_code == 400 and message in response.content.decode()
    assert not CustomerOrganization.objects.exists()


def test_huge_file_is_refused(as_lead, catalog):
    row = "Acme,Li,li@acme.test,en,cam-1\n"
    content = ("organization,name,email,language,products\n" + row * 40_000).encode()
    response = upload(as_lead, content)
    assert response.status_code == 400 and "1 MB" in response.content.decode()
    assert not CustomerOrganization.objects.exists()


def test_customer_pages_are_for_leads_only(as_handler, as_engineer, catalog):
    for client in (as_handler, as_engineer):
        assert client.get("/en/desk/notify/customers/").status_code == 404
        assert upload(client, GOOD.encode()).status_code == 404
    assert not CustomerOrganization.objects.exists()


def test_customers_running_affected_products_are_notified_once_per_contact(
    as_lead, lead, catalog, django_capture_on_commit_callbacks
):
    upload(as_lead, GOOD.encode())
    notice = make_notice(product_slugs=("cam-1",))  # Acme runs cam-1; Bolt does not
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_customers(advisory=notice, revision=1, actor=lead) == 2
        assert notify_customers(advisory=notice, revision=1, actor=lead) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@acme.test", "li@acme.test"]
    rows = Delivery.objects.filter(kind=DeliveryKind.CUSTOMER)
    assert rows.count() == 2 and set(rows.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert {d.contact.organization.name for d in rows} == {"Acme Water"}  # type: ignore[union-attr]
    li = next(m for m in mail.outbox if m.to == ["li@acme.test"])
    assert "网页服务器缓冲区溢出" in li.subject and "List-Unsubscribe" not in li.extra_headers


def test_publishing_with_customers_notifies_subscribers_and_customers(
    as_lead, lead, catalog, subscriber, django_capture_on_commit_callbacks
):
    upload(as_lead, GOOD.encode())
    subscriber("sub@example.test", products=("rt-1",))
    with django_capture_on_commit_callbacks(execute=True):
        notify_advisory(
            advisory=make_notice(product_slugs=("rt-1",), product_line_slugs=("routers",)),
            revision=1,
            significant=True,
            actor=lead,
            customers=True,
        )
    # Products belong to the organization: every Acme contact hears about rt-1.
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@acme.test", "bo@bolt.test", "li@acme.test", "sub@example.test"]


def test_desk_offers_to_notify_customers_of_a_published_advisory(as_lead, catalog, django_capture_on_commit_callbacks):
    from psirt.advisories.models import Advisory, AffectedProduct

    upload(as_lead, GOOD.encode())
    advisory = Advisory.objects.create(
        advisory_id="VT-SA-2026-050", year=2026, number=50, state="published", title_en="T", severity="High"
    )
    AffectedProduct.objects.create(advisory=advisory, product=catalog["rt-1"])
    draft = Advisory.objects.create(advisory_id="VT-SA-2026-051", year=2026, number=51, title_en="D")
    response = as_lead.post("/en/desk/notify/customers/notify/", {"advisory_id": draft.advisory_id})
    assert response.status_code == 400 and not Delivery.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = as_lead.post("/en/desk/notify/customers/notify/", {"advisory_id": "vt-sa-2026-050"})
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@acme.test", "bo@bolt.test", "li@acme.test"]
    page = as_lead.get(response["Location"]).content.decode()
    assert "VT-SA-2026-050" in page and "bo@bolt.test" not in page


def test_notifying_one_customer_contact_says_so_in_the_singular(as_lead, catalog, django_capture_on_commit_callbacks):
    from psirt.advisories.models import Advisory, AffectedProduct

    upload(as_lead, b"organization,name,email,language,products\nBolt Grid,Bo,bo@bolt.test,,rt-1\n")
    advisory = Advisory.objects.create(
        advisory_id="VT-SA-2026-052", year=2026, number=52, state="published", title_en="T", severity="High"
    )
    AffectedProduct.objects.create(advisory=advisory, product=catalog["rt-1"])
    with django_capture_on_commit_callbacks(execute=True):
        response = as_lead.post("/en/desk/notify/customers/notify/", {"advisory_id": advisory.advisory_id}, follow=True)
    assert [m.to[0] for m in mail.outbox] == ["bo@bolt.test"]
    assert "1 customer contact is being notified." in response.content.decode()
