"""The bridge from advisory rows to CSAF and CVE JSON: valid documents, the statuses customers rely on, and
documents that do not change when the catalog grows."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.csaf import documents
from psirt.advisories.models import Advisory
from psirt.catalog.models import FirmwareRelease, Product
from psirt.demo import catalog as catalog_demo
from psirt.demo.advisories import load_demo_advisories
from psirt.formats.csaf_validate import is_publishable, validate_csaf
from psirt.formats.cve import validate_cve_record

from .conftest import publish, revise


def _status(doc: dict[str, Any]) -> dict[str, list[str]]:
    return doc["vulnerabilities"][0]["product_status"]


def _names(doc: dict[str, Any]) -> dict[str, str]:
    """product ID → full product name, from every branch of the product tree."""
    out: dict[str, str] = {}

    def walk(branches: list[dict[str, Any]]) -> None:
        for branch in branches:
            if "product" in branch:
                out[branch["product"]["product_id"]] = branch["product"]["name"]
            walk(branch.get("branches", []))

    walk(doc["product_tree"].get("branches", []))
    return out


def test_published_advisory_gives_a_valid_csaf_document_with_the_catalog_statuses(published: Advisory) -> None:
    en, zh = documents.csaf_documents(published)
    assert zh is None  # no Chinese title
    problems = validate_csaf(en)
    assert is_publishable(problems), problems
    assert en["document"]["tracking"]["id"] == published.advisory_id
    assert en["document"]["tracking"]["version"] == "1"
    names = _names(en)
    status = _status(en)
    # V5.4.0 comes before the first affected release, V5.5.0 and V5.5.2 are affected, V5.6.0 fixes it.
    assert sorted(names[p] for p in status["known_affected"]) == [
        "Example Devices Camera X5 V5.5.0",
        "Example Devices Camera X5 V5.5.2",
    ]
    assert [names[p] for p in status["first_fixed"]] == ["Example Devices Camera X5 V5.6.0"]
    assert [names[p] for p in status["known_not_affected"]] == ["Example Devices Camera X5 V5.4.0"]
    # Releases after the fix are not listed: a later catalog release must not change a published document.
    assert "Example Devices Camera X5 V5.10.0" not in names.values()
    fix = next(r for r in en["vulnerabilities"][0]["remediations"] if r["category"] == "vendor_fix")
    assert fix["url"] == "https://downloads.example.com/V5.6.0.bin"
    assert sorted(fix["product_ids"]) == sorted(status["known_affected"])
    workaround = next(r for r in en["vulnerabilities"][0]["remediations"] if r["category"] == "workaround")
    assert workaround["details"] == "Block port 80."
    assert en["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"] == 9.8


def test_document_does_not_change_when_a_release_is_added_after_the_fix(published: Advisory, product: Product) -> None:
    before = documents.csaf_documents(published)
    FirmwareRelease.objects.create(product=product, version="V5.11.0", position=1000)
    assert documents.csaf_documents(Advisory.objects.get(pk=published.pk)) == before


def test_chinese_texts_give_a_translation_and_cves_give_records(published: Advisory, lead: User) -> None:
    advisory = revise(
        advisory=published,
        actor=lead,
        changes={
            "title_zh": "网页界面未经认证的远程代码执行",
            "summary_zh": "特制请求可以 root 身份运行代码。",
            "identifiers": "CVE-2026-10001\nCVE-2026-10002\nCNVD-2026-01234\nEUVD-2026-10001",
        },
        revision_summary_en="Added CVE IDs.",
    )
    en, zh = documents.csaf_documents(advisory)
    assert zh is not None
    assert is_publishable(validate_csaf(zh)), validate_csaf(zh)
    assert zh["document"]["lang"] == "zh-Hans" and zh["document"]["source_lang"] == "en"
    assert zh["document"]["title"] == "网页界面未经认证的远程代码执行"
    assert [v["cve"] for v in en["vulnerabilities"]] == ["CVE-2026-10001", "CVE-2026-10002"]
    assert en["vulnerabilities"][0]["ids"] == [
        {"system_name": "CNVD", "text": "CNVD-2026-01234"},
        {"system_name": "EUVD", "text": "EUVD-2026-10001"},
    ]
    assert en["document"]["tracking"]["version"] == "2"
    records = documents.cve_records(advisory)
    assert sorted(records) == ["CVE-2026-10001", "CVE-2026-10002"]
    for record in records.values():
        assert validate_cve_record(record) == []


def test_unfixed_product_past_end_of_support_says_no_fix_planned(
    draft: Advisory, lead: User, product: Product, releases: dict[str, FirmwareRelease]
) -> None:
    import datetime as dt

    product.end_of_support = dt.date(2025, 1, 31)
    product.save()
    advisory = services.update_advisory(
        advisory=draft,
        actor=lead,
        changes={"mitigation_sufficient": True},
        affected=[services.AffectedInput(product=product, introduced=releases["V5.5.0"], fixed=None)],
    )
    advisory = publish(advisory, lead)
    en, _ = documents.csaf_documents(advisory)
    assert is_publishable(validate_csaf(en))
    categories = {r["category"] for r in en["vulnerabilities"][0]["remediations"]}
    assert categories == {"no_fix_planned", "workaround"}
    assert len(_status(en)["known_affected"]) == 4  # V5.5.0 and every later public release


def test_a_draft_is_not_a_document(draft: Advisory) -> None:
    with pytest.raises(documents.DocumentError, match="not published"):
        documents.csaf_documents(draft)


def test_every_demo_document_is_valid_and_queries_stay_flat(db: None, settings: Any) -> None:
    settings.PSIRT_DEMO_PASSWORD = "demo-password-Quokka-42"
    catalog_demo.load_organization(lambda _: None)
    catalog_demo.load_catalog(lambda _: None)
    catalog_demo.load_accounts(lambda _: None)
    load_demo_advisories(lambda _: None)
    advisories = list(documents.advisory_queryset())
    assert advisories
    for advisory in advisories:
        en, zh = documents.csaf_documents(advisory)
        for doc in (en, zh):
            if doc is not None:
                assert is_publishable(validate_csaf(doc)), (advisory.advisory_id, validate_csaf(doc))
        for record in documents.cve_records(advisory).values():
            assert validate_cve_record(record) == []
    with CaptureQueriesContext(connection) as queries:
        for advisory in documents.advisory_queryset():
            documents.csaf_documents(advisory)
    # The prefetching queryset (4 queries) plus the organization profile per render: never per release.
    assert len(queries) <= 4 + 2 * len(advisories)


def test_each_vendor_fix_names_only_its_own_variant(
    draft: Advisory, lead: User, product: Product, releases: dict[str, FirmwareRelease]
) -> None:
    eu = {
        version: FirmwareRelease.objects.create(product=product, version=version, variant="EU", position=position)
        for position, version in ((10, "V5.5.0-EU"), (20, "V5.6.0-EU"))
    }
    advisory = services.update_advisory(
        advisory=draft,
        actor=lead,
        changes={},
        affected=[
            services.AffectedInput(product=product, introduced=releases["V5.5.0"], fixed=releases["V5.6.0"]),
            services.AffectedInput(product=product, variant="EU", introduced=eu["V5.5.0-EU"], fixed=eu["V5.6.0-EU"]),
        ],
    )
    en, _ = documents.csaf_documents(publish(advisory, lead))
    assert is_publishable(validate_csaf(en)), validate_csaf(en)
    names = _names(en)
    fixes = {
        r.get("url", ""): sorted(names[p] for p in r["product_ids"])
        for r in en["vulnerabilities"][0]["remediations"]
        if r["category"] == "vendor_fix"
    }
    assert fixes == {
        "https://downloads.example.com/V5.6.0.bin": [
            "Example Devices Camera X5 V5.5.0",
            "Example Devices Camera X5 V5.5.2",
        ],
        "": ["Example Devices Camera X5 (EU) V5.5.0-EU"],
    }


def test_advisory_without_a_document_is_a_plain_404_not_an_error(
    published: Advisory, releases: dict[str, FirmwareRelease], client: Any
) -> None:
    # Every release hidden from the public catalog: nothing public is affected, so there is no CSAF document.
    FirmwareRelease.objects.filter(pk__in=[r.pk for r in releases.values()]).update(is_public=False)
    with pytest.raises(documents.DocumentError):
        documents.csaf_documents(published)
    from psirt.advisories.csaf import provider

    # The periodic repair takes it out of the tree without counting a failure; the page's link then says 404.
    assert published.advisory_id not in provider.sync_provider(full=True).failed
    assert client.get(f"/advisories/{published.advisory_id}/csaf.json").status_code == 404
