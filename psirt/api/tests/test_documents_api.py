"""GET /api/v1/advisories/{id}/csaf and /cve/{cve}: the machine-readable documents of a public advisory, the
same ones the provider tree and the page's downloads carry; valid by the official checks; drafts are 404."""

from __future__ import annotations

import pytest
from django.test import Client

from psirt.advisories.csaf.documents import csaf_documents, cve_records
from psirt.advisories.models import Advisory
from psirt.formats.csaf_validate import validate_csaf
from psirt.formats.cve import validate_cve_record

pytestmark = pytest.mark.django_db

BASE = "/api/v1/advisories"


def test_csaf_document_is_the_rendered_one_and_valid(client: Client, demo: dict[str, Advisory]) -> None:
    a = demo["published"]
    response = client.get(f"{BASE}/{a.advisory_id}/csaf")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=60, must-revalidate"
    document = response.json()
    english, _translation = csaf_documents(a)
    assert document == english
    assert document["document"]["tracking"]["id"] == a.advisory_id and document["document"]["lang"] == "en"
    assert [p for p in validate_csaf(document) if p.severity == "error"] == []
    assert client.get(f"{BASE}/{a.advisory_id}/csaf", headers={"If-None-Match": response["ETag"]}).status_code == 304


def test_csaf_translation_with_lang_and_404_without_one(client: Client, demo: dict[str, Advisory]) -> None:
    a = demo["published"]
    assert a.title_zh
    zh = client.get(f"{BASE}/{a.advisory_id}/csaf?lang=zh-Hans")
    assert zh.status_code == 200
    assert zh.json()["document"]["lang"] == "zh-Hans" and zh.json()["document"]["source_lang"] == "en"
    assert zh.json() == csaf_documents(a)[1]
    Advisory.objects.filter(pk=a.pk).update(title_zh="")
    none = client.get(f"{BASE}/{a.advisory_id}/csaf?lang=zh-Hans")
    assert none.status_code == 404
    assert none.json() == {"detail": "This advisory has no Chinese translation.", "errors": {}}
    bad = client.get(f"{BASE}/{a.advisory_id}/csaf?lang=fr")
    assert bad.status_code == 422 and list(bad.json()["errors"]) == ["lang"]


def test_a_withdrawn_advisory_keeps_its_csaf_document(client: Client, demo: dict[str, Advisory]) -> None:
    response = client.get(f"{BASE}/{demo['withdrawn'].advisory_id}/csaf")
    assert response.status_code == 200
    assert response.json()["document"]["tracking"]["id"] == demo["withdrawn"].advisory_id


def test_cve_record_of_a_named_cve(client: Client, demo: dict[str, Advisory]) -> None:
    a = Advisory.objects.filter(state="published").exclude(identifiers="").order_by("advisory_id").first()
    assert a is not None and a.cve_ids
    cve = a.cve_ids[0]
    detail = client.get(f"{BASE}/{a.advisory_id}").json()
    assert detail["links"]["cve"][cve] == f"https://psirt.test{BASE}/{a.advisory_id}/cve/{cve}"
    response = client.get(f"{BASE}/{a.advisory_id}/cve/{cve}")
    assert response.status_code == 200
    record = response.json()
    assert record == cve_records(a)[cve]
    assert record["cveMetadata"]["cveId"] == cve and record["dataType"] == "CVE_RECORD"
    assert validate_cve_record(record) == []
    assert client.get(f"{BASE}/{a.advisory_id.lower()}/cve/{cve.lower()}").json() == record


def test_cve_records_of_unnamed_cves_and_withdrawn_advisories_are_404(
    client: Client, demo: dict[str, Advisory]
) -> None:
    a = Advisory.objects.filter(state="published").exclude(identifiers="").order_by("advisory_id").first()
    assert a is not None
    for path in (
        f"{BASE}/{a.advisory_id}/cve/CVE-1999-0001",
        f"{BASE}/{a.advisory_id}/cve/not-a-cve",
        f"{BASE}/{demo['withdrawn'].advisory_id}/cve/{(demo['withdrawn'].cve_ids or ['CVE-2026-0001'])[0]}",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "No published advisory with this ID names this CVE.", "errors": {}}
    assert demo["withdrawn"].advisory_id in client.get(f"{BASE}/{demo['withdrawn'].advisory_id}").content.decode()
    assert client.get(f"{BASE}/{demo['withdrawn'].advisory_id}").json()["links"]["cve"] == {}


def test_a_draft_has_no_documents_and_says_nothing(client: Client, demo: dict[str, Advisory]) -> None:
    draft = demo["draft"]
    Advisory.objects.filter(pk=draft.pk).update(identifiers="CVE-2026-31337")
    unknown_csaf = client.get(f"{BASE}/VT-SA-2099-999/csaf")
    csaf = client.get(f"{BASE}/{draft.advisory_id}/csaf")
    assert csaf.status_code == unknown_csaf.status_code == 404 and csaf.content == unknown_csaf.content
    unknown_cve = client.get(f"{BASE}/VT-SA-2099-999/cve/CVE-2026-31337")
    cve = client.get(f"{BASE}/{draft.advisory_id}/cve/CVE-2026-31337")
    assert cve.status_code == unknown_cve.status_code == 404 and cve.content == unknown_cve.content
    assert draft.title_en not in csaf.content.decode() + cve.content.decode()
