"""Published VEX: CSAF 2.0 csaf_vex through the project's validator (mandatory tests incl. the VEX profile),
OpenVEX against the conformance schema, CycloneDX VEX against the CycloneDX 1.6 schema."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from jsonschema import Draft202012Validator

from psirt.accounts.models import User
from psirt.catalog.models import FirmwareRelease
from psirt.catalog.tests.factories import make_release
from psirt.components.models import VexDecision, Vulnerability
from psirt.components.publication import csaf_vex_document, cyclonedx_vex_document, openvex_document
from psirt.components.sbom import cyclonedx_validator
from psirt.components.services import decide, import_sbom
from psirt.components.tests.conftest import SAMPLES, sample
from psirt.formats.csaf_validate import is_publishable, run_csaf_test, validate_csaf
from psirt.lib.http import absolute_url
from psirt.tests.conformance import CONFORMANCE

VEX_PROFILE_TESTS = [f"6.1.27.{n}" for n in range(1, 12)]


@pytest.fixture
def decided(releases: list[FirmwareRelease], lead: User) -> Vulnerability:
    for release in releases:
        import_sbom(release=release, data=sample("cyclonedx-1.6.json"), actor=lead)
    call_command("import_vulns", str(SAMPLES / "osv"))
    vuln = Vulnerability.objects.get(vuln_id="OSV-2024-OPENSSL-1")
    decide(
        releases=[releases[0]],
        vulnerability=vuln,
        status="not_affected",
        justification="vulnerable_code_not_in_execute_path",
        impact_statement="NPN is never negotiated.",
        actor=lead,
    )
    decide(
        releases=[releases[1]], vulnerability=vuln, status="affected", action_statement="Update to 5.8.0.", actor=lead
    )
    decide(releases=[releases[2]], vulnerability=vuln, status="fixed", actor=lead)
    return vuln


def test_csaf_vex_passes_every_mandatory_and_profile_test(decided: Vulnerability) -> None:
    doc = csaf_vex_document(decided)
    assert doc is not None
    assert doc["document"]["category"] == "csaf_vex"
    assert [p for p in validate_csaf(doc) if p.severity == "error"] == []
    for test in VEX_PROFILE_TESTS:
        assert run_csaf_test(doc, test) == [], test
    status = doc["vulnerabilities"][0]["product_status"]
    assert status == {
        "fixed": ["cam-x5:5.8.0"],
        "known_affected": ["cam-x5:5.7.1"],
        "known_not_affected": ["cam-x5:5.7.0"],
    }
    assert doc["vulnerabilities"][0]["cve"] == "CVE-2024-5535"


def test_hidden_release_is_not_published(decided: Vulnerability, releases: list[FirmwareRelease]) -> None:
    releases[1].is_public = False
    releases[1].save()
    doc = csaf_vex_document(decided)
    assert doc is not None and "known_affected" not in doc["vulnerabilities"][0]["product_status"]


def test_version_rises_with_each_decision(decided: Vulnerability, releases: list[FirmwareRelease], lead: User) -> None:
    VexDecision.objects.update(decided_at=timezone.now() - datetime.timedelta(hours=1))
    before = csaf_vex_document(decided)
    decide(releases=[releases[1]], vulnerability=decided, status="under_investigation", actor=lead)
    after = csaf_vex_document(decided)
    assert before is not None and after is not None
    assert int(after["document"]["tracking"]["version"]) == int(before["document"]["tracking"]["version"]) + 1


def test_openvex_is_valid_against_the_conformance_schema(decided: Vulnerability) -> None:
    doc = openvex_document(decided)
    assert doc is not None
    schema = json.loads((CONFORMANCE / "openvex" / "openvex_json_schema.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(doc)) == []
    statuses = sorted(s["status"] for s in doc["statements"])
    assert statuses == ["affected", "fixed", "not_affected"]


def test_cyclonedx_vex_is_valid_cyclonedx(decided: Vulnerability) -> None:
    doc = cyclonedx_vex_document(decided)
    assert doc is not None
    assert list(cyclonedx_validator("1.6").iter_errors(doc)) == []
    states = sorted(v["analysis"]["state"] for v in doc["vulnerabilities"])
    assert states == ["exploitable", "not_affected", "resolved"]


def test_oasis_vex_profile_corpus_through_the_validator() -> None:
    """Every 6.1.27.x document of the OASIS corpus: a failure example fails its test, a valid one passes it."""
    folder = CONFORMANCE / "csaf" / "v2.0" / "validator" / "data"
    cases = json.loads((folder / "testcases.json").read_text())["tests"]
    checked = 0
    for case in cases:
        if not case["id"].startswith("6.1.27."):
            continue
        for example in case.get("failures", []) + case.get("valid", []):
            doc = json.loads((folder / example["name"]).read_text())
            problems = run_csaf_test(doc, case["id"])
            assert bool(problems) is not example["valid"], f"{example['name']} under {case['id']}"
            checked += 1
    assert checked >= 22


class TestPublicAddresses:
    """Each vulnerability with a public decision has its three documents at stable addresses, each valid against
    its format's schema, listed on the public release page and in the API answer."""

    def test_three_documents_served_and_valid(self, client: Client, decided: Vulnerability) -> None:
        csaf = client.get(f"/vex/{decided.vuln_id}/csaf.json")
        assert csaf.status_code == 200 and csaf["Content-Type"].startswith("application/json")
        assert is_publishable(validate_csaf(csaf.json()))
        assert csaf.json()["document"]["category"] == "csaf_vex"

        openvex = client.get(f"/vex/{decided.vuln_id}/openvex.json")
        assert openvex.status_code == 200
        schema = json.loads((CONFORMANCE / "openvex" / "openvex_json_schema.json").read_text())
        assert list(Draft202012Validator(schema).iter_errors(openvex.json())) == []
        assert openvex.json()["@id"] == absolute_url(f"/vex/{decided.vuln_id}/openvex.json")

        cdx = client.get(f"/vex/{decided.vuln_id}/cyclonedx.json")
        assert cdx.status_code == 200 and cdx["Content-Type"].startswith("application/vnd.cyclonedx+json")
        assert cdx["X-Content-Type-Options"] == "nosniff"
        assert list(cyclonedx_validator("1.6").iter_errors(cdx.json())) == []

    def test_addresses_are_stable_across_revisions(
        self, client: Client, decided: Vulnerability, releases: list[FirmwareRelease], lead: User
    ) -> None:
        before = client.get(f"/vex/{decided.vuln_id}/cyclonedx.json").json()
        VexDecision.objects.filter(vulnerability=decided).update(
            decided_at=timezone.now() - datetime.timedelta(hours=1)
        )
        decide(releases=[releases[1]], vulnerability=decided, status="fixed", actor=lead)
        after = client.get(f"/vex/{decided.vuln_id}/cyclonedx.json").json()
        assert after["version"] == before["version"] + 1
        assert after["serialNumber"] == before["serialNumber"]
        assert client.get(f"/vex/{decided.vuln_id}/openvex.json").json()["version"] == before["version"] + 1

    @pytest.mark.parametrize("fmt", ["csaf", "openvex", "cyclonedx"])
    def test_undecided_hidden_or_unknown_is_404(
        self, client: Client, decided: Vulnerability, releases: list[FirmwareRelease], fmt: str
    ) -> None:
        assert client.get(f"/vex/OSV-NOT-IMPORTED/{fmt}.json").status_code == 404
        undecided = Vulnerability.objects.get(vuln_id="OSV-2023-BUSYBOX-1")
        assert client.get(f"/vex/{undecided.vuln_id}/{fmt}.json").status_code == 404
        FirmwareRelease.objects.filter(pk__in=[r.pk for r in releases]).update(is_public=False)
        response = client.get(f"/vex/{decided.vuln_id}/{fmt}.json")
        assert response.status_code == 404
        assert b"NPN" not in response.content

    def test_listed_on_the_release_page_and_in_the_api(
        self, client: Client, decided: Vulnerability, releases: list[FirmwareRelease]
    ) -> None:
        release = releases[0]
        page = client.get(f"/en/updates/{release.product.slug}/releases/{release.public_id}/").content.decode()
        for fmt in ("csaf", "openvex", "cyclonedx"):
            assert f'href="/vex/{decided.vuln_id}/{fmt}.json"' in page
        answer = client.get(
            f"/api/v1/vex?cve=CVE-2024-5535&product={release.product.slug}&version={release.version}"
        ).json()
        assert answer["documents"] == {
            fmt: absolute_url(f"/vex/{decided.vuln_id}/{fmt}.json") for fmt in ("csaf", "openvex", "cyclonedx")
        }
        newer = make_release(release.product, "5.9.0", position=9)
        undecided = client.get(f"/api/v1/vex?cve=CVE-2024-5535&product={release.product.slug}&version={newer.version}")
        assert (undecided.json()["decided"], undecided.json()["documents"]) == (False, None)


def test_chinese_statements_give_a_validated_zh_hans_translation(
    decided: Vulnerability, releases: list[FirmwareRelease], lead: User
) -> None:
    from psirt.components.publication import csaf_vex_documents

    [english] = csaf_vex_documents(decided)  # no Chinese statement yet: no translation
    decide(
        releases=[releases[1]],
        vulnerability=decided,
        status="affected",
        action_statement="Update to 5.8.0.",
        action_statement_zh="请升级到 5.8.0。",
        actor=lead,
    )
    english, chinese = csaf_vex_documents(decided)
    assert csaf_vex_document(decided) == english
    assert (english["document"]["lang"], "source_lang" in english["document"]) == ("en", False)
    assert (chinese["document"]["lang"], chinese["document"]["source_lang"]) == ("zh-Hans", "en")
    assert chinese["document"]["tracking"]["id"] == english["document"]["tracking"]["id"]
    assert [p for p in validate_csaf(chinese) if p.severity == "error"] == []
    for test in VEX_PROFILE_TESTS:
        assert run_csaf_test(chinese, test) == [], test
    remediation = {r["details"] for r in chinese["vulnerabilities"][0]["remediations"]}
    threat = {t["details"] for t in chinese["vulnerabilities"][0]["threats"]}
    assert remediation == {"请升级到 5.8.0。"} and threat == {"NPN is never negotiated."}  # untranslated stays English
    assert {r["details"] for r in english["vulnerabilities"][0]["remediations"]} == {"Update to 5.8.0."}
    assert chinese["document"]["notes"][0]["title"] == "我方产品的状态"
    [self_ref, original] = chinese["document"]["references"]
    assert self_ref["url"].endswith("/zh-hans/vex-osv-2024-openssl-1.json")
    assert original["url"] == english["document"]["references"][0]["url"]
