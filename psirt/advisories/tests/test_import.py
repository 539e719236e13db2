"""CSAF import (`psirt import-csaf`): the official examples, idempotence, new versions, translations,
refusals (invalid documents, profiles psirt does not map, hostile files) and advisory numbering."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from psirt import cli
from psirt.advisories.csaf.documents import imported_document
from psirt.advisories.csaf.importer import MAX_BYTES, import_csaf, import_paths, read_document
from psirt.advisories.models import SEQUENCE_SCOPE, Advisory, AdvisoryState, AffectedProduct, Revision
from psirt.audit.models import AuditEvent
from psirt.catalog.models import FirmwareRelease, Product, ProductLine
from psirt.counters.models import Sequence
from psirt.counters.services.sequences import next_in_year
from psirt.organization.models import OrganizationProfile
from psirt.tests.conformance import CSAF_20

CSAF = CSAF_20
# The official examples and validator files are the test data (as in the other conformance tests).
EXAMPLES = CSAF / "examples" / "csaf"
ALL_EXAMPLES = sorted(EXAMPLES.rglob("*.json"))
BSI = EXAMPLES / "bsi-2022-0001.json"
# What happens to each official example: the security advisories and VEX documents are imported; the informational
# advisory (no vulnerabilities) and Cisco's csaf_base document are refused for their profile; one VEX example fails
# the validator's test 6.1.27 (its `recommended` product status is not allowed in a VEX document).
EXPECTED = {
    "bsi-2022-0001.json": "imported",
    "rhsa-2021_5186.json": "imported",
    "rhsa-2021_5217.json": "imported",
    "rhsa-2022_0011.json": "imported",
    "rhsa-2019_1862.json": "refused",
    "cisco-sa-20180328-smi2.json": "refused",
    "2022-evd-uc-08-001.json": "refused",
}


@pytest.fixture(autouse=True)
def _own_var_dir(settings: Any, tmp_path: Path) -> Path:
    """The CSAF provider tree an import writes goes to this test's folder, not the shared test var/."""
    settings.PSIRT_VAR_DIR = tmp_path / "var"
    return tmp_path / "var"


def load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def counts() -> tuple[int, ...]:
    return (
        Advisory.objects.count(),
        Revision.objects.count(),
        AffectedProduct.objects.count(),
        ProductLine.objects.count(),
        Product.objects.count(),
        FirmwareRelease.objects.count(),
        Sequence.objects.filter(scope=SEQUENCE_SCOPE).count(),
        AuditEvent.objects.count(),
    )


def bsi_v2() -> dict[str, Any]:
    """The BSI example as its publisher would revise it: a second revision, version 2, a CVSS v4.0 vector note."""
    doc = load(BSI)
    tracking = doc["document"]["tracking"]
    tracking["revision_history"].append(
        {"date": "2022-04-01T10:00:00.000Z", "number": "2", "summary": "Added the CVSS v4.0 vector."}
    )
    tracking["version"] = "2"
    tracking["current_release_date"] = "2022-04-01T10:00:00.000Z"
    doc["vulnerabilities"][0]["notes"].append(
        {
            "category": "other",
            "title": "CVSS v4.0",
            "text": "CVSS v4.0 vector CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:P/VC:H/VI:N/VA:L/SC:N/SI:N/SA:N, score 6.8.",
        }
    )
    return doc


def test_the_official_examples_are_all_listed() -> None:
    names = [p.name for p in ALL_EXAMPLES]
    assert len(names) == 19  # 6 in csaf/, 13 in csaf/csaf_vex/
    assert set(EXPECTED) <= set(names)
    categories = {p.name: load(p)["document"]["category"] for p in ALL_EXAMPLES}
    assert sorted(n for n, c in categories.items() if c == "csaf_security_advisory") == [
        "bsi-2022-0001.json",
        "rhsa-2021_5186.json",
        "rhsa-2021_5217.json",
        "rhsa-2022_0011.json",
    ]
    assert sum(c == "csaf_vex" for c in categories.values()) == 13


@pytest.mark.django_db
@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=lambda p: p.name)
def test_every_official_example(path: Path) -> None:
    doc = load(path)
    before = counts()
    result = import_csaf(document=doc, source=path.name)
    assert result.outcome == EXPECTED.get(path.name, "imported"), result.line
    if result.outcome == "refused":
        assert counts() == before  # nothing written, not even an audit record
        return
    advisory = Advisory.objects.get(advisory_id=doc["document"]["tracking"]["id"])
    assert advisory.state == AdvisoryState.PUBLISHED
    assert advisory.source_csaf == doc
    assert advisory.title_en == doc["document"]["title"]
    tracking = doc["document"]["tracking"]
    assert advisory.published_at == dt.datetime.fromisoformat(tracking["initial_release_date"].replace("Z", "+00:00"))
    assert advisory.revisions.count() == len(tracking["revision_history"])
    assert AuditEvent.objects.filter(action="advisory.imported", target_id=str(advisory.public_id)).count() == 1
    cves = {v["cve"] for v in doc["vulnerabilities"] if "cve" in v}
    assert cves <= set(advisory.cve_ids)
    # Importing it again is a no-op.
    after = counts()
    again = import_csaf(document=copy.deepcopy(doc), source=path.name)
    assert again.outcome == "unchanged", again.line
    assert counts() == after


@pytest.mark.django_db
def test_informational_and_base_profiles_are_refused_with_the_reason() -> None:
    info = import_csaf(document=load(EXAMPLES / "rhsa-2019_1862.json"), source="info")
    assert "informational advisory names no vulnerabilities" in info.line
    base = import_csaf(document=load(EXAMPLES / "cisco-sa-20180328-smi2.json"), source="cisco")
    assert "Cisco Security Advisory" in base.line and "csaf_security_advisory" in base.line
    assert Advisory.objects.count() == 0


@pytest.mark.django_db
def test_bsi_example_in_detail() -> None:
    result = import_csaf(document=load(BSI), source="bsi")
    assert result.outcome == "imported"
    advisory = Advisory.objects.get(advisory_id="BSI-2022-0001")
    assert advisory.cvss31_vector == "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:L/E:F/RL:O/RC:C"
    assert advisory.cvss31_base == Decimal("6.1")
    # The severity rule: the v3.1 temporal score (E:F/RL:O/RC:C lower the 6.1 base to 5.7), not the base score.
    assert (advisory.severity, advisory.score) == ("Medium", Decimal("5.7"))
    assert advisory.cwe_id == 611
    assert advisory.identifiers == "CVE-2022-27193"  # the GitHub issue ID stays in the stored document only
    assert advisory.credit_lines == ["Damian Pfammatter, Cyber-Defense Campus"]
    # No document-level description: the vulnerability's description is the advisory's.
    assert advisory.description_en.startswith("CSAF Tools CVRF-CSAF-Converter 1.0.0-rc1 resolves XML External")
    assert (advisory.summary_en, advisory.reference_urls, advisory.exploitation) == ("", "", "none")
    assert advisory.year == 2022
    # Catalog: one line for the vendor, the product, its releases in the tree's order.
    line = ProductLine.objects.get()
    assert line.name_en == "CSAF Tools"
    product = Product.objects.get()
    assert (product.line, product.name) == (line, "CVRF-CSAF-Converter")
    versions = list(product.releases.order_by("position").values_list("version", flat=True))
    assert versions == ["1.0.0-alpha", "1.0.0-dev1", "1.0.0-dev2", "1.0.0-dev3", "1.0.0-rc1", "1.0.0-rc2"]
    row = AffectedProduct.objects.get(advisory=advisory)
    assert row.introduced is not None and row.fixed is not None
    assert (row.product, row.introduced.version, row.fixed.version) == (product, "1.0.0-alpha", "1.0.0-rc2")
    # The vendor fix's URL and date are the fixed release's download link and date.
    assert row.fixed.download_url == "https://github.com/csaf-tools/CVRF-CSAF-Converter/releases/tag/1.0.0-rc2"
    assert row.fixed.release_date == dt.date(2022, 3, 14)
    revision = advisory.revisions.get()
    assert (revision.number, revision.summary_en) == (1, "Initial revision")
    # Served as the advisory's CSAF only when its publisher is this organization (CSAF requirement 7).
    assert imported_document(advisory) is None
    OrganizationProfile.objects.update_or_create(
        id=1,
        defaults={
            "name_en": "Bundesamt für Sicherheit in der Informationstechnik",
            "website": "https://www.bsi.bund.de",
        },
    )
    advisory.refresh_from_db()
    assert imported_document(advisory) == load(BSI)


@pytest.mark.django_db
def test_red_hat_example_in_detail() -> None:
    doc = load(EXAMPLES / "rhsa-2022_0011.json")
    assert import_csaf(document=doc, source="rhsa").outcome == "imported"
    advisory = Advisory.objects.get(advisory_id="RHSA-2022:0011")
    assert advisory.summary_en and advisory.severity == "High"
    assert "https://access.redhat.com/security/cve/CVE-2020-10188" in advisory.reference_list
    # A "self" reference is the old document's own address (psirt writes its own): kept in the document only.
    assert "https://access.redhat.com/errata/RHSA-2022:0011" not in advisory.reference_list
    # Packages are components of the platforms: releases of the three RHEL products, which are fixed in them.
    line = ProductLine.objects.get()
    assert line.name_en == "Red Hat Enterprise Linux"
    assert sorted(Product.objects.values_list("name", flat=True)) == [
        "Red Hat Enterprise Linux Server AUS (v. 7.6)",
        "Red Hat Enterprise Linux Server E4S (v. 7.6)",
        "Red Hat Enterprise Linux Server TUS (v. 7.6)",
    ]
    rows = AffectedProduct.objects.filter(advisory=advisory)
    assert rows.count() == 3
    assert all(row.introduced is None and row.fixed is not None for row in rows)
    assert FirmwareRelease.objects.filter(version="telnet-1:0.17-65.el7_6.src").count() == 3


def _range_doc() -> dict[str, Any]:
    """The BSI example with a product tree of another shape: a family, a `vers` range, a variant branch, an
    architecture branch psirt does not model, and a product without versions."""
    doc = load(BSI)

    def version(name: str, pid: str, category: str = "product_version") -> dict[str, Any]:
        return {"category": category, "name": name, "product": {"name": f"Acme Router {name}", "product_id": pid}}

    doc["product_tree"] = {
        "branches": [
            {
                "category": "vendor",
                "name": "Acme",
                "branches": [
                    {
                        "category": "product_family",
                        "name": "Acme routers",
                        "branches": [
                            {
                                "category": "product_name",
                                "name": "Acme Router",
                                "branches": [
                                    version("vers:generic/>=2.0|<2.4", "R-RANGE", "product_version_range"),
                                    version("2.4", "R-24"),
                                    {
                                        "category": "specification",
                                        "name": "JP",
                                        "branches": [version("2.1", "R-JP-21"), version("2.5", "R-JP-25")],
                                    },
                                    {"category": "architecture", "name": "arm64", "branches": [version("2.6", "R-26")]},
                                ],
                            },
                            {
                                "category": "product_name",
                                "name": "Acme Cloud Console",
                                "product": {"name": "Acme Cloud Console", "product_id": "CONSOLE"},
                            },
                        ],
                    }
                ],
            }
        ]
    }
    vuln = doc["vulnerabilities"][0]
    vuln["product_status"] = {
        "known_affected": ["R-RANGE", "R-JP-21", "CONSOLE"],
        "first_fixed": ["R-24", "R-JP-25"],
        "fixed": ["R-24", "R-JP-25", "R-26"],
    }
    vuln["scores"][0]["products"] = ["R-RANGE", "R-JP-21", "CONSOLE"]
    vuln["remediations"][0]["product_ids"] = ["R-RANGE", "R-JP-21"]
    vuln["threats"] = [{"category": "exploit_status", "details": "Exploited in the wild since May."}]
    return doc


@pytest.mark.django_db
def test_ranges_variants_and_families_map_to_the_catalog() -> None:
    result = import_csaf(document=_range_doc(), source="acme")
    assert result.outcome == "imported", result.line
    advisory = Advisory.objects.get()
    assert advisory.exploitation == "active"
    assert ProductLine.objects.get().name_en == "Acme routers"  # the family, not the vendor
    router = Product.objects.get(name="Acme Router")
    releases = list(router.releases.order_by("position").values_list("variant", "version"))
    # Tree order; the architecture branch is not a variant; the range's lower bound becomes a release just before
    # its upper bound.
    assert releases == [("", "2.0"), ("", "2.4"), ("JP", "2.1"), ("JP", "2.5"), ("", "2.6")]
    rows = {(r.product.name, r.variant): r for r in AffectedProduct.objects.filter(advisory=advisory)}
    standard, japan = rows[("Acme Router", "")], rows[("Acme Router", "JP")]
    assert standard.introduced is not None and standard.fixed is not None
    assert (standard.introduced.version, standard.fixed.version) == ("2.0", "2.4")
    assert japan.introduced is not None and japan.fixed is not None
    assert (japan.introduced.version, japan.fixed.version) == ("2.1", "2.5")
    console = rows[("Acme Cloud Console", "")]
    assert (console.introduced, console.fixed) == (None, None)  # the whole product, no fixed version named


@pytest.mark.django_db
def test_a_second_document_of_the_same_vendor_reuses_its_line_and_products() -> None:
    import_csaf(document=load(BSI), source="bsi")
    other = load(BSI)
    other["document"]["tracking"]["id"] = "BSI-2022-0002"
    other["product_tree"]["branches"][0]["branches"][0]["branches"].append(
        {
            "category": "product_version",
            "name": "1.0.0",
            "product": {"name": "CSAF Tools CVRF-CSAF-Converter 1.0.0", "product_id": "CSAFPID-0007"},
        }
    )
    other["vulnerabilities"][0]["product_status"]["fixed"].append("CSAFPID-0007")
    assert import_csaf(document=other, source="second").outcome == "imported"
    assert ProductLine.objects.count() == 1
    product = Product.objects.get()
    # The new version comes after the releases the product had.
    assert list(product.releases.order_by("position").values_list("version", flat=True))[-2:] == ["1.0.0-rc2", "1.0.0"]


@pytest.mark.django_db
def test_a_newer_version_updates_the_advisory_and_adds_its_revisions() -> None:
    import_csaf(document=load(BSI), source="bsi")
    advisory = Advisory.objects.get()
    result = import_csaf(document=bsi_v2(), source="bsi v2")
    assert result.outcome == "updated", result.line
    assert "1 revisions added" in result.line
    advisory.refresh_from_db()
    assert list(advisory.revisions.values_list("number", "summary_en")) == [
        (1, "Initial revision"),
        (2, "Added the CVSS v4.0 vector."),
    ]
    assert advisory.revised_at == dt.datetime(2022, 4, 1, 10, tzinfo=dt.UTC)
    # The v4.0 vector found in a note goes back to its field; the list sorts by the higher score.
    assert advisory.cvss40_vector == "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:P/VC:H/VI:N/VA:L/SC:N/SI:N/SA:N"
    assert advisory.cvss31_base is not None and advisory.cvss40_base is not None
    assert advisory.score == max(advisory.cvss31_base, advisory.cvss40_base)
    assert advisory.source_csaf == bsi_v2()
    assert AuditEvent.objects.filter(action="advisory.import_updated").count() == 1
    assert AffectedProduct.objects.count() == 1
    # The same version again: unchanged; the older version now: refused, nothing written.
    assert import_csaf(document=bsi_v2(), source="again").outcome == "unchanged"
    before = counts()
    older = import_csaf(document=load(BSI), source="old")
    assert older.outcome == "refused" and "not newer" in older.line
    assert counts() == before


@pytest.mark.django_db
def test_a_changed_document_under_the_same_version_is_refused() -> None:
    import_csaf(document=load(BSI), source="bsi")
    changed = load(BSI)
    changed["document"]["title"] = "Something else"
    before = counts()
    result = import_csaf(document=changed, source="changed")
    assert result.outcome == "refused" and "needs a new version" in result.line
    assert counts() == before
    assert Advisory.objects.get().title_en != "Something else"


@pytest.mark.django_db
def test_an_advisory_revised_in_psirt_is_not_overwritten_by_an_import() -> None:
    import_csaf(document=load(BSI), source="bsi")
    advisory = Advisory.objects.get()
    Revision.objects.create(advisory=advisory, number=2, summary_en="Revised in psirt.")
    assert imported_document(advisory) is None  # psirt renders its own document from now on
    result = import_csaf(document=bsi_v2(), source="v2")
    assert result.outcome == "refused" and "revised (or withdrawn) in psirt" in result.line


@pytest.mark.django_db
def test_an_advisory_written_in_psirt_is_never_overwritten() -> None:
    doc = load(BSI)
    Advisory.objects.create(advisory_id="BSI-2022-0001", year=2022, number=1, title_en="Ours", state="published")
    result = import_csaf(document=doc, source="bsi")
    assert result.outcome == "refused" and "written in psirt" in result.line
    assert Advisory.objects.get().title_en == "Ours"


def _failure_files(test: str) -> list[Path]:
    cases = json.loads((CSAF / "validator" / "data" / "testcases.json").read_text())
    entry = next(t for t in cases["tests"] if t["id"] == test)
    return [CSAF / "validator" / "data" / f["name"] for f in entry["failures"]]


@pytest.mark.django_db
@pytest.mark.parametrize("test", ["6.1.1", "6.1.2", "6.1.14", "6.1.21"])
def test_an_invalid_document_is_refused_with_the_test_number_and_path(test: str) -> None:
    path = _failure_files(test)[0]
    before = counts()
    result = import_csaf(document=load(path), source=path.name)
    assert result.outcome == "refused"
    assert "invalid CSAF 2.0" in result.messages[0]
    assert any(m.startswith(f"{test} /") for m in result.messages), result.messages
    assert counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("value", [None, [], "text", 42, {"document": {}}])
def test_values_that_are_not_csaf_documents_are_refused(value: Any) -> None:
    result = import_csaf(document=value, source="x")
    assert result.outcome == "refused" and "invalid CSAF 2.0" in result.line
    assert Advisory.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("/document/title", "XXE\x00"),
        ("/document/title", "XXE \ud800"),
        ("/vulnerabilities/0/scores/0/cvss_v3/baseScore", float("nan")),
    ],
)
def test_values_no_database_can_store_are_refused_on_every_database(where: str, value: Any) -> None:
    """PostgreSQL refuses NUL and lone surrogates in text and jsonb; SQLite would take some of them. The stored
    document must be the original, so both databases refuse the document the same way, before writing."""
    doc = load(BSI)
    if where == "/document/title":
        doc["document"]["title"] = value
    else:
        doc["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"] = value
    result = import_csaf(document=doc, source="x")
    assert result.outcome == "refused" and result.messages[0].startswith(f"{where}: ")
    assert counts() == (0, 0, 0, 0, 0, 0, 0, 0)


def test_nan_and_infinity_are_not_json(tmp_path: Path) -> None:
    from psirt.advisories.csaf.importer import Refused

    path = tmp_path / "nan.json"
    path.write_text('{"score": NaN}', encoding="utf-8")
    with pytest.raises(Refused, match="NaN is not a JSON number"):
        read_document(path)


@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_write_one_advisory_and_one_product_line() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises every writer)")
    docs = [load(BSI)] * 4 + [_with_id(f"BSI-2022-09{n:02d}") for n in range(4)]
    barrier = threading.Barrier(len(docs))
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def run(doc: dict[str, Any]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(import_csaf(document=doc, source="x", write_tree=False).outcome)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(d,)) for d in docs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(outcomes) == ["imported"] * 5 + ["unchanged"] * 3
    assert Advisory.objects.count() == 5
    assert ProductLine.objects.count() == 1 and Product.objects.count() == 1
    assert FirmwareRelease.objects.count() == 6


# --- numbering ---------------------------------------------------------------------------------------------------


def _with_id(tracking_id: str) -> dict[str, Any]:
    doc = load(BSI)
    doc["document"]["tracking"]["id"] = tracking_id
    return doc


@pytest.mark.django_db
def test_an_imported_id_of_psirts_own_shape_moves_the_sequence_past_it() -> None:
    OrganizationProfile.objects.update_or_create(id=1, defaults={"advisory_prefix": "VT"})
    assert next_in_year(SEQUENCE_SCOPE, 2026) == 1
    assert import_csaf(document=_with_id("VT-SA-2026-007"), source="a").outcome == "imported"
    advisory = Advisory.objects.get(advisory_id="VT-SA-2026-007")
    assert (advisory.year, advisory.number) == (2026, 7)
    assert next_in_year(SEQUENCE_SCOPE, 2026) == 8
    # A lower imported number does not move the sequence back; a year never numbered starts past the import.
    assert import_csaf(document=_with_id("VT-SA-2026-003"), source="b").outcome == "imported"
    assert import_csaf(document=_with_id("VT-SA-2025-041"), source="c").outcome == "imported"
    assert next_in_year(SEQUENCE_SCOPE, 2026) == 9
    assert next_in_year(SEQUENCE_SCOPE, 2025) == 42


@pytest.mark.django_db
def test_an_imported_id_whose_number_is_taken_gets_a_free_one() -> None:
    Advisory.objects.create(advisory_id="VT-SA-2026-005", year=2026, number=5, title_en="Ours")
    Sequence.objects.create(scope=SEQUENCE_SCOPE, year=2026, last=5)
    assert import_csaf(document=_with_id("OLD-SA-2026-005"), source="a").outcome == "imported"
    imported = Advisory.objects.get(advisory_id="OLD-SA-2026-005")
    assert (imported.year, imported.number) == (2026, 6)
    assert next_in_year(SEQUENCE_SCOPE, 2026) == 7


@pytest.mark.django_db
def test_other_ids_take_the_next_number_of_their_year() -> None:
    assert import_csaf(document=_with_id("ACME:2022/1"), source="slash").outcome == "refused"
    assert import_csaf(document=_with_id("X" * 41), source="long").outcome == "refused"
    assert import_csaf(document=_with_id("ACME-2022:17"), source="a").outcome == "imported"
    advisory = Advisory.objects.get()
    assert (advisory.year, advisory.number) == (2022, 1)
    assert advisory.get_absolute_url().endswith("/advisories/ACME-2022:17/")


# --- translations ------------------------------------------------------------------------------------------------


def _zh(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["document"]["lang"] = "zh-Hans"
    out["document"]["source_lang"] = "en"
    out["document"]["title"] = "CVRF-CSAF-Converter 中的 XML 外部实体漏洞"
    out["document"]["notes"] = [{"category": "summary", "text": "概述文本", "title": "概述"}]
    out["document"]["tracking"]["revision_history"][0]["summary"] = "首次发布"
    return out


@pytest.mark.django_db
def test_a_chinese_translation_fills_the_chinese_texts() -> None:
    doc = load(BSI)
    refused = import_csaf(document=_zh(doc), source="zh first")
    assert refused.outcome == "refused" and "import the original first" in refused.line
    import_csaf(document=doc, source="en")
    result = import_csaf(document=_zh(doc), source="zh")
    assert result.outcome == "updated", result.line
    advisory = Advisory.objects.get()
    assert (advisory.title_zh, advisory.summary_zh) == ("CVRF-CSAF-Converter 中的 XML 外部实体漏洞", "概述文本")
    assert advisory.revisions.get().summary_zh == "首次发布"
    assert advisory.source_csaf == doc  # the stored document stays the original
    assert import_csaf(document=_zh(doc), source="zh again").outcome == "unchanged"
    german = _zh(doc)
    german["document"]["lang"] = "de"
    assert "Simplified Chinese" in import_csaf(document=german, source="de").line


@pytest.mark.django_db
def test_an_import_writes_the_provider_tree_after_it_commits(
    tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    target = tmp_path / "var" / "csaf" / "white" / "2022" / "bsi-2022-0001.json"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        import_csaf(document=load(BSI), source="bsi")
    assert not target.exists() and len(callbacks) == 1
    callbacks[0]()
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written["document"]["tracking"]["id"] == "BSI-2022-0001"
    assert (target.parent / "bsi-2022-0001.json.sha256").is_file()
    # A refused document queues nothing.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        import_csaf(document=load(EXAMPLES / "rhsa-2019_1862.json"), source="info")
    assert callbacks == []


# --- files and directories ---------------------------------------------------------------------------------------


def _write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.django_db
def test_hostile_files_are_refused_with_a_reason(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)  # sparse: no disk used
    (tmp_path / "text.json").write_text("this is not json", encoding="utf-8")
    (tmp_path / "utf16.json").write_bytes(json.dumps(load(BSI)).encode("utf-16"))
    (tmp_path / "latin1.json").write_bytes('{"document": "caf\xe9"}'.encode("latin-1"))
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (tmp_path / "nul.json").write_bytes(b"\x00" * 10)
    os.mkfifo(tmp_path / "fifo.json")
    results = {Path(r.source).name: r for r in import_paths(paths=[tmp_path])}
    assert all(r.outcome == "refused" for r in results.values())
    assert "larger than 64 MB" in results["huge.json"].line
    assert "not JSON" in results["text.json"].line
    assert "not UTF-8" in results["utf16.json"].line
    assert "not UTF-8" in results["latin1.json"].line
    assert "nested too deeply" in results["deep.json"].line or "invalid CSAF" in results["deep.json"].line
    assert "not a regular file" in results["fifo.json"].line
    assert Advisory.objects.count() == 0


@pytest.mark.django_db
def test_directory_walks_follow_no_links_and_read_only_json(tmp_path: Path) -> None:
    outside = _write(tmp_path / "outside" / "bsi.json", load(BSI))
    root = tmp_path / "import"
    _write(root / "2022" / "bsi.json", _with_id("BSI-2022-0100"))
    (root / "2022" / "link.json").symlink_to(outside)  # a link out of the tree
    (root / "linked-dir").symlink_to(outside.parent, target_is_directory=True)
    (root / "loop").mkdir()
    (root / "loop" / "self").symlink_to(root, target_is_directory=True)
    _write(root / ".hidden" / "bsi.json", _with_id("BSI-2022-0101"))
    (root / "notes.txt").write_text("not a document", encoding="utf-8")
    (root / "weird\x1b[31m.json").write_text("{}", encoding="utf-8")
    results = import_paths(paths=[root])
    by_name = {Path(r.source).name: r for r in results}
    assert set(by_name) == {"bsi.json", "link.json", "weird\x1b[31m.json"}
    assert by_name["bsi.json"].outcome == "imported"
    assert by_name["link.json"].outcome == "refused" and "symbolic link" in by_name["link.json"].line
    assert "\x1b" not in by_name["weird\x1b[31m.json"].line  # control characters never reach the terminal
    assert list(Advisory.objects.values_list("advisory_id", flat=True)) == ["BSI-2022-0100"]
    # A link named on the command line is the operator's choice and is followed; a linked directory is not.
    named = import_paths(paths=[root / "2022" / "link.json", root / "linked-dir", tmp_path / "missing.json"])
    assert [r.outcome for r in named] == ["imported", "refused", "refused"]
    assert "no such file" in named[2].line


def test_read_document_caps_what_it_reads(tmp_path: Path) -> None:
    path = _write(tmp_path / "doc.json", {"a": "x" * 2000})
    from psirt.advisories.csaf.importer import Refused

    with pytest.raises(Refused, match="larger than"):
        read_document(path, max_bytes=1000)
    assert read_document(path, max_bytes=10_000) == {"a": "x" * 2000}


# --- the command -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.ALIASES["import-csaf"] == "import_csaf"
    good = _write(tmp_path / "docs" / "bsi.json", load(BSI))
    call_command("import_csaf", str(good))
    out = capsys.readouterr().out
    assert f"{good}: imported BSI-2022-0001" in out and "1 imported" in out
    # The CSAF provider tree has the advisory once the batch is done.
    assert (tmp_path / "var" / "csaf" / "white" / "2022" / "bsi-2022-0001.json").is_file()
    call_command("import_csaf", str(tmp_path / "docs"))
    assert "unchanged BSI-2022-0001" in capsys.readouterr().out
    invalid = _failure_files("6.1.1")[0]
    bad = _write(tmp_path / "docs" / "zz-invalid.json", load(invalid))
    with pytest.raises(CommandError) as caught:
        call_command("import_csaf", str(tmp_path / "docs"))
    assert caught.value.returncode == 1 and "1 of 2 files refused" in str(caught.value)
    out = capsys.readouterr().out
    assert f"{bad}: refused" in out and "6.1.1 /" in out and "1 unchanged, 1 refused" in out
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match="no CSAF files"):
        call_command("import_csaf", str(tmp_path / "empty"))
    assert Advisory.objects.count() == 1


@pytest.mark.django_db
def test_imported_advisories_show_on_the_public_pages(client: Any) -> None:
    """Imported rows have shapes psirt's own authoring never makes (no cases, whole-product rows, components as
    releases, no affected row at all): the public list and each advisory's page still answer."""
    imported = []
    for path in ALL_EXAMPLES:
        result = import_csaf(document=load(path), source=path.name, write_tree=False)
        if result.outcome == "imported":
            imported.append(result.advisory_id)
    listing = client.get("/en/advisories/")
    assert listing.status_code == 200
    assert "RHSA-2022:0011" in listing.content.decode()
    for advisory_id in imported:
        page = client.get(f"/en/advisories/{advisory_id}/")
        assert page.status_code == 200, (advisory_id, page.status_code)
        assert advisory_id in page.content.decode()
