"""CVE JSON 5 downloads: /advisories/<ID>/cve/<CVE-ID>.json for a published advisory's CVEs, valid against the CVE
schema bundled with cvelib, linked from the advisory page; everything else is the same 404."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.models import Advisory
from psirt.advisories.tests.conftest import make_case, publish, state_on_cases
from psirt.catalog.models import FirmwareRelease
from psirt.formats.cve import validate_cve_record

pytestmark = pytest.mark.django_db

CVES = ["CVE-2026-10001", "CVE-2026-10002"]


def _url(advisory_id: str, cve_id: str) -> str:
    return f"/advisories/{advisory_id}/cve/{cve_id}.json"


def _with_ids(advisory: Advisory, lead: User) -> Advisory:
    return services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={
            "identifiers": "\n".join([*CVES, "CNVD-2026-12345"]),
            "title_zh": "网页界面远程代码执行",
            "summary_zh": "构造的请求以 root 身份运行代码。",
        },
    )


@pytest.fixture
def with_cves(draft: Advisory, lead: User) -> Advisory:
    return publish(state_on_cases(_with_ids(draft, lead)), lead)


def test_every_cve_of_a_published_advisory_downloads_as_a_valid_record(client: Client, with_cves: Advisory) -> None:
    for cve in CVES:
        response = client.get(_url(with_cves.advisory_id, cve))
        assert response.status_code == 200, cve
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert response["Content-Disposition"] == f'attachment; filename="{cve}.json"'
        record = json.loads(response.content)
        assert validate_cve_record(record) == []
        assert record["cveMetadata"]["cveId"] == cve
        descriptions = {d["lang"]: d["value"] for d in record["containers"]["cna"]["descriptions"]}
        assert set(descriptions) == {"en", "zh-Hans"}
        assert "构造的请求" in response.content.decode("utf-8")  # UTF-8 text, not \\u escapes


def test_the_advisory_page_links_each_record(client: Client, with_cves: Advisory) -> None:
    html = client.get(f"/en/advisories/{with_cves.advisory_id}/").content.decode()
    for cve in CVES:
        href = _url(with_cves.advisory_id, cve)
        assert f'href="{href}"' in html
        assert client.get(href).status_code == 200
    assert "/cve/CNVD-" not in html


def test_conditional_get_and_methods(client: Client, with_cves: Advisory) -> None:
    url = _url(with_cves.advisory_id, CVES[0])
    response = client.get(url)
    assert response["ETag"] and response["Last-Modified"]
    again = client.get(url, headers={"if-none-match": response["ETag"]})
    assert again.status_code == 304
    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405


def test_unpublished_advisories_have_no_records_and_no_links(
    client: Client, draft: Advisory, lead: User, as_lead: Client
) -> None:
    advisory = _with_ids(draft, lead)
    assert client.get(_url(advisory.advisory_id, CVES[0])).status_code == 404
    advisory = services.submit_for_review(advisory=advisory, actor=lead)
    assert client.get(_url(advisory.advisory_id, CVES[0])).status_code == 404
    advisory = services.approve_advisory(advisory=advisory, actor=lead)
    assert client.get(_url(advisory.advisory_id, CVES[0])).status_code == 404
    # Not even the team gets them before publication (the desk preview shows no link).
    assert as_lead.get(_url(advisory.advisory_id, CVES[0])).status_code == 404
    preview = as_lead.get(f"/en/desk/advisories/{advisory.public_id}/preview/")
    assert preview.status_code == 200 and "/cve/" not in preview.content.decode()


def test_a_withdrawn_advisory_offers_no_record(client: Client, with_cves: Advisory, lead: User) -> None:
    services.withdraw_advisory(advisory=with_cves, actor=lead, reason="Duplicate.")
    assert client.get(_url(with_cves.advisory_id, CVES[0])).status_code == 404
    page = client.get(f"/en/advisories/{with_cves.advisory_id}/")
    assert page.status_code == 200 and "/cve/" not in page.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/advisories/{id}/cve/CVE-2026-99999.json",  # a CVE the advisory does not name
        "/advisories/{id}/cve/CNVD-2026-12345.json",  # named, but not a CVE
        "/advisories/{id}/cve/cve-2026-10001.json",
        "/advisories/{id}/cve/CVE-2026-10001.json.json",
        "/advisories/{id}/cve/CVE-2026-10001",
        "/advisories/{id}/cve/..%2FCVE-2026-10001.json",
        "/advisories/{id}/cve/%2E%2E/CVE-2026-10001.json",
        "/advisories/{id}/cve/CVE-2026-10001%00.json",
        "/advisories/{id}%00/cve/CVE-2026-10001.json",
        "/advisories/{id}/../{id}/cve/CVE-2026-10001%0a.json",
        "/advisories/PSIRT-SA-2026-999/cve/CVE-2026-10001.json",
        "/advisories/" + "X" * 300 + "/cve/CVE-2026-10001.json",
        "/advisories/{id}/cve/CVE-2026-" + "1" * 30 + ".json",
    ],
)
def test_everything_else_is_not_found(client: Client, with_cves: Advisory, path: str) -> None:
    response = client.get(path.format(id=with_cves.advisory_id))
    assert response.status_code == 404, path
    assert "Content-Disposition" not in response


def test_a_cve_of_another_advisory_is_not_served_under_this_one(
    client: Client, with_cves: Advisory, lead: User, releases: dict[str, FirmwareRelease], yesterday: dt.date
) -> None:
    case = make_case(product=releases["V5.6.0"].product, disclosure_date=yesterday, title="Second issue")
    other = services.create_advisory(cases=[case], actor=lead)
    other = services.update_advisory(
        advisory=other,
        actor=lead,
        changes={"summary_en": "Another issue.", "identifiers": "CVE-2026-20000"},
        affected=[
            services.AffectedInput(
                product=releases["V5.5.0"].product, introduced=releases["V5.5.0"], fixed=releases["V5.6.0"]
            )
        ],
    )
    other = publish(state_on_cases(other), lead)
    assert client.get(_url(other.advisory_id, "CVE-2026-20000")).status_code == 200
    assert client.get(_url(other.advisory_id, CVES[0])).status_code == 404
    assert client.get(_url(with_cves.advisory_id, "CVE-2026-20000")).status_code == 404
