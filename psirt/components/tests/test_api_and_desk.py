"""The doors: `POST /api/v1/releases/{id}/sbom`, `GET /api/v1/vex`, the desk pages and "Am I affected?"."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from conftest import client_for
from psirt.accounts.models import User
from psirt.accounts.services import create_token
from psirt.audit.models import AuditEvent
from psirt.catalog.models import FirmwareRelease
from psirt.components.models import SbomDocument, VexDecision, Vulnerability
from psirt.components.services import decide, import_sbom
from psirt.components.tests.conftest import SAMPLES, sample


def bearer(user: User) -> dict[str, str]:
    _row, token = create_token(user=user, name="test", scopes=["catalog:write"])
    return {"Authorization": f"Bearer {token}"}


def post_sbom(release: FirmwareRelease, headers: dict[str, str], name: str = "cyclonedx-1.6.json"):  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile(name, sample(name), content_type="application/json")
    return Client().post(f"/api/v1/releases/{release.public_id}/sbom", {"file": upload}, headers=headers)


class TestSbomApi:
    def test_lead_stores_an_sbom(self, releases: list[FirmwareRelease], lead: User) -> None:
        response = post_sbom(releases[1], bearer(lead))
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["format"], body["spec_version"], body["components"]) == ("cyclonedx", "1.6", 6)
        assert SbomDocument.objects.get(public_id=body["id"]).release == releases[1]

    def test_bad_file_is_422_with_the_place(self, releases: list[FirmwareRelease], lead: User) -> None:
        response = post_sbom(releases[1], bearer(lead), "cyclonedx-bad-schema.json")
        assert response.status_code == 422
        assert "/components/0/type" in response.json()["detail"]
        assert not SbomDocument.objects.exists()

    def test_handler_outside_the_line_gets_404(self, releases: list[FirmwareRelease], handler: User) -> None:
        assert post_sbom(releases[1], bearer(handler)).status_code == 404
        assert not SbomDocument.objects.exists()

    def test_engineer_cannot_hold_the_scope(self, engineer: User) -> None:
        with pytest.raises(Exception, match="scope"):
            create_token(user=engineer, name="x", scopes=["catalog:write"])

    def test_unknown_release_is_404(self, lead: User) -> None:
        response = Client().post(
            "/api/v1/releases/not-a-uuid/sbom",
            {"file": SimpleUploadedFile("a.json", b"{}")},
            headers=bearer(lead),
        )
        assert response.status_code == 404


@pytest.fixture
def decided(releases: list[FirmwareRelease], lead: User) -> Vulnerability:
    for release in releases:
        import_sbom(release=release, data=sample("cyclonedx-1.6.json"), actor=lead)
    call_command("import_vulns", str(SAMPLES / "osv"))
    vuln = Vulnerability.objects.get(vuln_id="OSV-2024-OPENSSL-1")
    decide(releases=releases[:2], vulnerability=vuln, status="affected", action_statement="Update.", actor=lead)
    decide(releases=[releases[2]], vulnerability=vuln, status="fixed", actor=lead)
    return vuln


class TestAffectedApiWithCve:
    """`/api/v1/affected` takes a CVE like `/api/v1/vex` and carries the same VEX answer."""

    def test_same_answer_as_the_vex_endpoint(self, decided: Vulnerability) -> None:
        vex = Client().get("/api/v1/vex?cve=CVE-2024-5535&product=cam-x5&version=5.7.0").json()
        response = Client().get("/api/v1/affected?product=cam-x5&version=5.7.0&cve=cve-2024-5535")
        assert response.status_code == 200
        assert response.json()["vex"] == vex
        assert vex["status"] == "affected"

    def test_without_cve_or_unknown_data_no_vex(self, decided: Vulnerability) -> None:
        assert Client().get("/api/v1/affected?product=cam-x5&version=5.7.0").json()["vex"] is None
        unknown = Client().get("/api/v1/affected?product=cam-x5&version=5.7.0&cve=CVE-2099-0001")
        assert unknown.status_code == 200 and unknown.json()["vex"] is None
        not_in_catalog = Client().get("/api/v1/affected?product=cam-x5&version=9.9&cve=CVE-2024-5535")
        assert not_in_catalog.status_code == 200 and not_in_catalog.json()["vex"] is None

    @pytest.mark.parametrize("cve", ["<script>", "x", "CVE-2024-5535' OR 1=1", "A" * 300])
    def test_bad_cve_is_400(self, decided: Vulnerability, cve: str) -> None:
        response = Client().get("/api/v1/affected", {"product": "cam-x5", "version": "5.7.0", "cve": cve})
        assert response.status_code == 400
        assert "cve" in response.json()["errors"]


class TestVexApi:
    def test_answer_with_update_target(self, decided: Vulnerability) -> None:
        response = Client().get("/api/v1/vex?cve=CVE-2024-5535&product=cam-x5&version=5.7.0")
        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["action_statement"], body["update_to"]["version"]) == (
            "affected",
            "Update.",
            "5.8.0",
        )
        assert body["vulnerability"] == "OSV-2024-OPENSSL-1"

    @pytest.mark.parametrize(
        ("query", "status"),
        [
            ("cve=CVE-2099-0001&product=cam-x5&version=5.7.0", 404),
            ("cve=CVE-2024-5535&product=cam-x5&version=9.9", 404),
            ("cve=<script>&product=cam-x5&version=5.7.0", 400),
            ("cve=CVE-2024-5535&product=../etc&version=5.7.0", 400),
            ("cve=CVE-2024-5535&product=cam-x5", 422),
        ],
    )
    def test_bad_questions(self, decided: Vulnerability, query: str, status: int) -> None:
        assert Client().get(f"/api/v1/vex?{query}").status_code == status

    def test_hidden_release_does_not_exist(self, decided: Vulnerability, releases: list[FirmwareRelease]) -> None:
        releases[0].is_public = False
        releases[0].save()
        assert Client().get("/api/v1/vex?cve=CVE-2024-5535&product=cam-x5&version=5.7.0").status_code == 404


class TestDesk:
    def test_pages_for_a_line_member(
        self, decided: Vulnerability, releases: list[FirmwareRelease], engineer: User
    ) -> None:
        engineer.product_lines.add(releases[0].product.line)
        client = client_for(engineer)
        index = client.get("/en/desk/components/")
        assert index.status_code == 200 and b"OSV-2024-OPENSSL-1" in index.content
        page = client.get("/en/desk/components/vulnerabilities/OSV-2024-OPENSSL-1/")
        assert page.status_code == 200 and b"Camera X5 5.7.1" in page.content
        release = client.get(f"/en/desk/components/releases/{releases[1].public_id}/")
        assert release.status_code == 200 and b"pkg:generic/openssl@3.0.13" in release.content
        assert b"Upload SBOM" not in release.content  # engineers read; leads and handlers upload

    def test_outsider_gets_404_and_is_audited(
        self, decided: Vulnerability, releases: list[FirmwareRelease], engineer: User
    ) -> None:
        client = client_for(engineer)
        assert client.get("/en/desk/components/").status_code == 404
        assert client.get(f"/en/desk/components/releases/{releases[1].public_id}/").status_code == 404
        assert AuditEvent.objects.filter(action="firmwarerelease.access_denied").count() == 1

    def test_decide_from_the_page(self, decided: Vulnerability, releases: list[FirmwareRelease], lead: User) -> None:
        response = client_for(lead).post(
            "/en/desk/components/vulnerabilities/OSV-2024-OPENSSL-1/",
            {
                "releases": [str(releases[0].public_id), str(releases[1].public_id)],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "impact_statement": "NPN is unused.",
                "maintainer_notified_at": "2026-01-05",
                "maintainer_notice": "openssl-security@openssl.org",
            },
        )
        assert response.status_code == 302
        assert VexDecision.objects.filter(status="not_affected").count() == 2

    def test_refused_decision_keeps_the_form(
        self, decided: Vulnerability, releases: list[FirmwareRelease], lead: User
    ) -> None:
        response = client_for(lead).post(
            "/en/desk/components/vulnerabilities/OSV-2024-OPENSSL-1/",
            {
                "releases": [str(releases[0].public_id)],
                "status": "not_affected",
                "impact_statement": "<script>x</script>",
            },
        )
        assert response.status_code == 400
        assert b"standard justifications" in response.content and b"<script>x" not in response.content

    def test_upload_on_the_release_page(self, releases: list[FirmwareRelease], lead: User) -> None:
        client = client_for(lead)
        url = f"/en/desk/components/releases/{releases[0].public_id}/"
        bad = client.post(url, {"file": SimpleUploadedFile("x.json", sample("malformed-json.json"))})
        assert bad.status_code == 400 and b"line 3, column 35" in bad.content
        good = client.post(url, {"file": SimpleUploadedFile("x.json", sample("spdx-2.3.json"))})
        assert good.status_code == 302
        document = SbomDocument.objects.get()
        download = client.get(f"/en/desk/components/sboms/{document.public_id}/")
        assert download.content == sample("spdx-2.3.json")

    def test_release_without_sbom_is_a_todo(self, releases: list[FirmwareRelease], lead: User) -> None:
        import_sbom(release=releases[0], data=sample("cyclonedx-1.4.json"), actor=lead)
        content = client_for(lead).get("/en/desk/components/").content.decode()
        todo = content.split("Releases without an SBOM")[1]
        assert "Camera X5 5.7.1" in todo and "Camera X5 5.7.0" not in todo


def test_am_i_affected_answers_a_third_party_cve(decided: Vulnerability) -> None:
    page = Client().get("/en/affected/?product=cam-x5&version=5.7.1&cve=CVE-2024-5535")
    assert page.status_code == 200
    text = page.content.decode()
    assert "CVE-2024-5535 in Camera X5 5.7.1" in text and "Update to firmware <strong>5.8.0</strong>" in text
    zh = Client().get("/zh-hans/affected/?product=cam-x5&version=5.8.0&cve=CVE-2024-5535")
    assert zh.status_code == 200
