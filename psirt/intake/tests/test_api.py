"""POST /api/v1/reports: same validation, same service, same limits as the form."""

from __future__ import annotations

import json
import warnings

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from psirt.intake.models import Report, Source
from psirt.intake.services import hash_token
from psirt.intake.tests.conftest import PCAP

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports"


def payload(**overrides):
    data = {
        "reporter_name": "Ada Researcher",
        "reporter_email": "ada@research.test",
        "organization": "Lab 7",
        "phone": "+86 592 555 0100",
        "references": "CVE-2026-0001",
        "product": "cam-x5",
        "version": "V5.6.1",
        "description": "Unauthenticated RCE.",
        "technical_details": "Details.",
        "public_exploit": "none known",
        "disclosure_plans": "Blog post after the fix.",
        "proposed_disclosure_date": None,
        "credit": "Ada R.",
        "pgp_key": "",
        "accept_guidelines": True,
    }
    data.update(overrides)
    return data


def post_json(client, data, **extra):
    return client.post(URL, json.dumps(data), content_type="application/json", **extra)


def test_json_report_is_created_with_tracking_id_and_portal_url(anonymous, catalog):
    response = post_json(anonymous, payload())
    assert response.status_code == 201, response.content
    body = response.json()
    report = Report.objects.get()
    assert body["tracking_id"] == report.tracking_id
    assert body["portal_url"].startswith("https://psirt.test/")
    token = body["portal_url"].rstrip("/").rsplit("/", 1)[1]
    assert report.token_hash == hash_token(token)
    assert report.source == Source.API
    assert report.product == catalog["cam"] and report.release == catalog["r2"]
    assert report.accepted_guidelines_at is not None


def test_created_answer_is_its_schema_written_once(anonymous, catalog):
    """The answer's exact bytes, written from a ReportCreated without a second validation and without the
    deprecated (status, body) tuple, which warned on every report."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        response = post_json(anonymous, payload())
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json; charset=utf-8"
    report = Report.objects.get()
    token = response.json()["portal_url"].rstrip("/").rsplit("/", 1)[1]
    assert response.content == (
        f'{{"tracking_id": "{report.tracking_id}", "portal_url": "https://psirt.test/en/r/{token}/"}}'.encode()
    )


def test_catalog_product_and_release_are_read_once(anonymous, catalog):
    """The product's slug and the version are looked up once, for the mapping and the form's checks alike."""
    with CaptureQueriesContext(connection) as queries:
        response = post_json(anonymous, payload())
    assert response.status_code == 201
    tables = [q["sql"].split(" FROM ", 1)[1].split()[0] for q in queries if q["sql"].startswith("SELECT")]
    assert tables.count('"catalog_product"') == 1
    assert tables.count('"catalog_firmwarerelease"') == 1
    report = Report.objects.get()
    assert report.product == catalog["cam"] and report.release == catalog["r2"]


def test_a_release_of_another_product_is_still_refused(anonymous, catalog):
    response = post_json(anonymous, payload(product="nvr-8", version="V5.6.1"))
    assert response.status_code == 201  # a version the product does not have is kept as text
    assert Report.objects.get().release is None and Report.objects.get().version == "V5.6.1"


def test_free_text_product_and_version_are_kept(anonymous, catalog):
    response = post_json(anonymous, payload(product="Garage opener GO-1", version="2.0.3"))
    assert response.status_code == 201
    report = Report.objects.get()
    assert report.product is None and report.product_other == "Garage opener GO-1" and report.version == "2.0.3"


def test_multipart_report_with_files(anonymous, catalog):
    data = {k: ("true" if v is True else v) for k, v in payload().items() if v is not None}
    data["attachments"] = [
        SimpleUploadedFile("capture.pcap", PCAP),
        SimpleUploadedFile("poc.py", b"print('hi')\n"),
    ]
    response = anonymous.post(URL, data)
    assert response.status_code == 201, response.content
    names = sorted(Report.objects.get().attachments.values_list("kind", flat=True))
    assert names == ["capture", "text"]


def test_errors_come_back_per_field(anonymous, catalog):
    response = post_json(
        anonymous,
        payload(
            reporter_email="nope",
            description="",
            accept_guidelines=False,
            proposed_disclosure_date="2001-01-01",
            product="",
        ),
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {
        "reporter_email",
        "description",
        "accept_guidelines",
        "proposed_disclosure_date",
        "product",
    }
    assert all(isinstance(m, str) and m for msgs in errors.values() for m in msgs)
    assert Report.objects.count() == 0


def test_wrong_types_and_unknown_fields_are_named(anonymous, catalog):
    response = post_json(anonymous, payload(reporter_name=42, accept_guidelines="perhaps", colour="blue"))
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["reporter_name"] == ["Must be a string."]
    assert errors["accept_guidelines"] == ["Must be true or false."]
    assert errors["colour"] == ["Unknown field."]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2, 3]", b"\xff\xfe\x00", b'"a string"'],
)
def test_malformed_body_is_400(anonymous, catalog, body):
    response = anonymous.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert "message" in response.json()


def test_unsupported_content_type_is_400(anonymous, catalog):
    response = anonymous.post(URL, b"<xml/>", content_type="application/xml")
    assert response.status_code == 400


def test_ten_megabytes_of_text_is_refused_with_413(anonymous, catalog):
    response = post_json(anonymous, payload(technical_details="A" * (10 * 1024 * 1024)))
    assert response.status_code == 413
    assert Report.objects.count() == 0


def test_field_over_its_limit_is_422(anonymous, catalog):
    response = post_json(anonymous, payload(description="d" * 60_000))
    assert response.status_code == 422
    assert "the limit is 50000" in response.json()["errors"]["description"][0]


def test_api_is_rate_limited_per_address_with_retry_after(anonymous, catalog, settings):
    settings.PSIRT_INTAKE_RATES = {"report_ip": (2, 3600)}
    for n in range(2):
        assert post_json(anonymous, payload(reporter_email=f"r{n}@x.test")).status_code == 201
    response = post_json(anonymous, payload(reporter_email="r9@x.test"))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "try again in" in response.json()["message"]
    assert Report.objects.count() == 2


def test_api_is_rate_limited_per_email_across_addresses(catalog, settings):
    from django.test import Client

    settings.PSIRT_INTAKE_RATES = {"report_email": (1, 3600)}
    assert post_json(Client(REMOTE_ADDR="192.0.2.1"), payload()).status_code == 201
    assert post_json(Client(REMOTE_ADDR="192.0.2.2"), payload(reporter_email="ADA@research.test")).status_code == 429


def test_openapi_describes_the_endpoint(anonymous):
    schema = anonymous.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/v1/reports"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert {"201", "422", "429"} <= set(operation["responses"])


def test_behind_the_trusted_proxy_each_reporter_has_a_rate_limit_of_their_own(catalog, settings, trusted_proxy):
    """Every request arrives from the proxy: counting its address would make all reporters share one limit."""
    from django.test import Client

    from psirt.audit.models import AuditEvent

    settings.PSIRT_INTAKE_RATES = {"report_ip": (1, 3600)}
    proxy = Client(REMOTE_ADDR=trusted_proxy)
    first = post_json(proxy, payload(reporter_email="a@x.test"), HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert first.status_code == 201
    second = post_json(proxy, payload(reporter_email="b@x.test"), HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert second.status_code == 201
    # The same reporter again is refused, whatever it writes to the left of what the proxy appended.
    again = post_json(proxy, payload(reporter_email="c@x.test"), HTTP_X_FORWARDED_FOR="7.7.7.7, 198.51.100.1")
    assert again.status_code == 429
    # The audit log names the reporters, not the proxy.
    addresses = set(AuditEvent.objects.filter(action="report.submitted").values_list("ip", flat=True))
    assert addresses == {"198.51.100.1", "198.51.100.2"}


def test_a_forged_forwarded_header_from_an_untrusted_address_does_not_escape_the_rate_limit(
    catalog, settings, trusted_proxy
):
    from django.test import Client

    settings.PSIRT_INTAKE_RATES = {"report_ip": (1, 3600)}
    direct = Client(REMOTE_ADDR="203.0.113.5")
    assert post_json(direct, payload(reporter_email="a@x.test"), HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 201
    refused = post_json(direct, payload(reporter_email="b@x.test"), HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert refused.status_code == 429
