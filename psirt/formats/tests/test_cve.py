"""CVE JSON 5 records: valid against cvelib's bundled schema (cross-checked with the conformance copies)."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psirt.formats.cve import render_cve_record, schema_version, validate_cna_container, validate_cve_record
from psirt.formats.model import Text
from psirt.formats.tests import factories
from psirt.tests.conformance import CVE

CONFORMANCE = CVE
ORG = "b3476cb9-2e3d-41a6-98d0-0f47421a65b6"


def _records() -> list[dict]:
    out = []
    for factory in factories.ALL_FACTORIES.values():
        advisory = factory()
        for vuln in advisory.vulnerabilities:
            if vuln.cve:
                out.append(render_cve_record(advisory, vuln, cna_org_id=ORG, assigner_short_name="VisionTek"))
    return out


def test_every_factory_record_is_valid() -> None:
    records = _records()
    assert len(records) == 4
    for record in records:
        assert validate_cve_record(record) == [], record["cveMetadata"]["cveId"]
        assert validate_cna_container(record["containers"]["cna"]) == []


def test_records_also_validate_against_the_conformance_copy_of_the_schema() -> None:
    schema = json.loads((CONFORMANCE / "schema-5.1.1" / "CVE_JSON_bundled_5.1.1.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    for record in _records():
        assert list(validator.iter_errors(record)) == []
    assert schema_version() == "5.1.1"


@pytest.mark.parametrize(
    "name",
    [
        "CVEv5_basic-example.json",
        "CVEv5_advanced-example.json",
        "container-basic-example.json",
        "container-advanced-example.json",
    ],
)
def test_the_schema_examples_validate(name: str) -> None:
    doc = json.loads((CONFORMANCE / "examples" / name).read_text())
    if name.startswith("container"):
        assert validate_cna_container(doc) == []
    else:
        assert validate_cve_record(doc) == []


def test_broken_records_are_refused_with_a_pointer() -> None:
    record = _records()[0]
    broken = copy.deepcopy(record)
    del broken["containers"]["cna"]["descriptions"]
    broken["containers"]["cna"]["affected"][0]["versions"][0]["status"] = "vulnerable"
    problems = validate_cve_record(broken)
    assert "/containers/cna: 'descriptions' is a required property" in problems
    assert any(p.startswith("/containers/cna/affected/0/versions/0/status:") for p in problems)
    # The English description is required even when another language is present.
    only_chinese = copy.deepcopy(record)
    only_chinese["containers"]["cna"]["descriptions"] = [{"lang": "zh-Hans", "value": "中文"}]
    assert validate_cve_record(only_chinese)
    assert validate_cve_record([]) == ["/: a CVE record is a JSON object, not list"]
    assert validate_cna_container("x") == ["/: a CNA container is a JSON object, not str"]


def test_a_reference_that_is_not_a_uri_is_refused() -> None:
    # The schema's only format assertion is "uri" on references; jsonschema checks it only when its URI
    # checker is installed, so this fails if the dependency that provides it goes missing.
    record = _records()[0]
    for bad in ("not a uri", "https://exa mple.com/advisory", "//no-scheme.example/a"):
        broken = copy.deepcopy(record)
        broken["containers"]["cna"]["references"][0]["url"] = bad
        problems = validate_cve_record(broken)
        assert any(p.startswith("/containers/cna/references/0/url:") for p in problems), (bad, problems)
        container = validate_cna_container(broken["containers"]["cna"])
        assert any(p.startswith("/references/0/url:") for p in container), (bad, container)


def test_record_content() -> None:
    advisory = factories.advisory()
    record = render_cve_record(advisory, advisory.vulnerabilities[0], cna_org_id=ORG, assigner_short_name="VisionTek")
    meta, cna = record["cveMetadata"], record["containers"]["cna"]
    assert (meta["cveId"], meta["state"], meta["assignerOrgId"]) == ("CVE-2026-21001", "PUBLISHED", ORG)
    assert cna["providerMetadata"] == {"orgId": ORG, "shortName": "VisionTek", "dateUpdated": "2026-04-02T09:00:00Z"}
    assert [d["lang"] for d in cna["descriptions"]] == ["en", "zh-Hans"]
    assert cna["affected"] == [
        {
            "vendor": "VisionTek",
            "product": "IPC-2325 bullet camera",
            "defaultStatus": "unknown",
            "versions": [
                {"version": "5.5.0 build 210318", "status": "affected"},
                {"version": "5.5.2 build 220104", "status": "affected"},
                {"version": "5.5.3 build 230211", "status": "unaffected"},
            ],
        }
    ]
    assert cna["problemTypes"][0]["descriptions"][0]["cweId"] == "CWE-78"
    metrics = {key for m in cna["metrics"] for key in m if key.startswith("cvss")}
    assert metrics == {"cvssV3_1", "cvssV4_0"}
    v4 = next(m["cvssV4_0"] for m in cna["metrics"] if "cvssV4_0" in m)
    assert v4["version"] == "4.0" and v4["baseSeverity"] in {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
    urls = [r["url"] for r in cna["references"]]
    assert urls[:2] == [advisory.page_url, advisory.csaf_url]
    assert "https://www.visiontek.example/support/firmware/ipc-2325" in urls
    assert cna["credits"] == [{"lang": "en", "value": "Li Wei (Example Security Lab)", "type": "finder"}]
    assert [s["lang"] for s in cna["solutions"]] == ["en", "zh-Hans"]
    assert cna["workarounds"][0]["value"].startswith("Restrict access")
    assert cna["exploits"][0]["value"] == "A proof-of-concept exploit is publicly available."


def test_ranges_become_less_than_with_custom_version_type() -> None:
    advisory = factories.advisory_v4_only()
    record = render_cve_record(advisory, advisory.vulnerabilities[0], cna_org_id=ORG, assigner_short_name="BECA")
    affected = record["containers"]["cna"]["affected"]
    assert affected[0]["versions"] == [
        {"version": "0", "status": "affected", "versionType": "custom", "lessThan": "2.14.0"},
        {"version": "2.14.0", "status": "unaffected"},
    ]
    assert affected[1]["product"] == "BAC-2000 smart thermostat (Operator X)"
    assert affected[1]["versions"] == [{"version": "1.9.8", "status": "unaffected"}]
    assert [m for m in record["containers"]["cna"]["metrics"] if "cvssV3_1" in m] == []


def test_hardware_revisions_go_to_platforms() -> None:
    advisory = factories.advisory_many_products()
    record = render_cve_record(advisory, advisory.vulnerabilities[1], cna_org_id=ORG, assigner_short_name="VisionTek")
    affected = record["containers"]["cna"]["affected"]
    b2 = [a for a in affected if a.get("platforms") == ["hardware revision B2"]]
    a1 = [a for a in affected if a.get("platforms") == ["hardware revision A1"]]
    assert {a["product"] for a in b2} == {"NVR-3200", "NVR-3200 (EU)"}
    assert all(v["status"] == "unaffected" for a in a1 for v in a["versions"])
    assert {v["status"] for a in b2 for v in a["versions"]} == {"affected", "unaffected"}


def test_long_texts_are_clipped_to_the_schema_limits() -> None:
    vuln = factories.camera_vulnerability(title=Text("T" * 400), description=Text("D" * 5000, "中" * 5000))
    advisory = factories.advisory(vulnerabilities=(vuln,))
    record = render_cve_record(advisory, vuln, cna_org_id=ORG, assigner_short_name="VisionTek")
    assert validate_cve_record(record) == []
    assert len(record["containers"]["cna"]["title"]) == 256
    assert all(len(d["value"]) == 4096 for d in record["containers"]["cna"]["descriptions"])


def test_no_cve_no_record() -> None:
    advisory = factories.advisory_without_cve()
    with pytest.raises(ValueError, match="no CVE"):
        render_cve_record(advisory, advisory.vulnerabilities[0], cna_org_id=ORG, assigner_short_name="VisionTek")


def test_vulnerability_must_belong_to_the_advisory() -> None:
    other = factories.advisory_v4_only().vulnerabilities[0]
    with pytest.raises(ValueError, match="not a vulnerability"):
        render_cve_record(factories.advisory(), other, cna_org_id=ORG, assigner_short_name="VisionTek")


@settings(max_examples=30, deadline=None)
@given(
    title=st.text(min_size=1, max_size=300).filter(lambda s: s.strip()),
    description=st.text(min_size=1, max_size=80).filter(lambda s: s.strip()),
    zh=st.text(max_size=40),
)
def test_any_text_gives_a_valid_record(title: str, description: str, zh: str) -> None:
    vuln = factories.camera_vulnerability(title=Text(title, zh), description=Text(description, zh))
    advisory = factories.advisory(vulnerabilities=(vuln,))
    record = render_cve_record(advisory, vuln, cna_org_id=ORG, assigner_short_name="VisionTek")
    assert validate_cve_record(record) == []
