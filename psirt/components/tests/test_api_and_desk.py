"""The doors: `POST /api/v1/releases/{id}/sbom`, `GET /api/v1/vex`, the desk pages and "Am I affected?"."""

from __future__ import annotations

import datetime

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
                "impact_statement_zh": "未使用 NPN。",
                "maintainer_notified_at": "2026-01-05",
                "maintainer_notice": "openssl-security@openssl.org",
            },
        )
        assert response.status_code == 302
        decisions = VexDecision.objects.filter(status="not_affected")
        assert [(d.impact_statement, d.impact_statement_zh) for d in decisions] == [
            ("NPN is unused.", "未使用 NPN。")
        ] * 2

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


def test_statements_in_chinese_on_the_page_and_in_the_api(decided: Vulnerability, lead: User) -> None:
    release = FirmwareRelease.objects.get(product__slug="cam-x5", version="5.7.1")
    decide(
        releases=[release],
        vulnerability=decided,
        status="affected",
        action_statement="Install 5.8.0.",
        action_statement_zh="请安装 5.8.0。",
        actor=lead,
    )
    query = "product=cam-x5&version=5.7.1&cve=CVE-2024-5535"
    english = Client().get(f"/en/affected/?{query}").content.decode()
    assert "Install 5.8.0." in english and "请安装" not in english
    chinese = Client().get(f"/zh-hans/affected/?{query}").content.decode()
    assert "请安装 5.8.0。" in chinese and "Install 5.8.0." not in chinese
    body = Client().get(f"/api/v1/vex?{query}").json()
    assert (body["action_statement"], body["action_statement_zh"], body["impact_statement_zh"]) == (
        "Install 5.8.0.",
        "请安装 5.8.0。",
        "",
    )


class TestOpenCaseFromDecision:
    """An affected decision can open the case for the fix: new, linked to every decision, audited, prefilled."""

    def _post(self, user: User, releases: list[FirmwareRelease], **extra: str) -> object:
        return client_for(user).post(
            "/en/desk/components/vulnerabilities/OSV-2024-OPENSSL-1/",
            {
                "releases": [str(releases[0].public_id), str(releases[1].public_id)],
                "status": "affected",
                "action_statement": "Update to 5.8.1.",
                "open_case": "on",
                **extra,
            },
        )

    def test_handler_opens_a_prefilled_case(
        self, decided: Vulnerability, releases: list[FirmwareRelease], handler: User
    ) -> None:
        handler.product_lines.add(releases[0].product.line)
        response = self._post(handler, releases)
        assert response.status_code == 302  # type: ignore[attr-defined]
        current = VexDecision.objects.filter(release__in=releases[:2]).order_by("-pk")[:2]
        case = current[0].case
        assert case is not None and all(d.case_id == case.pk for d in current)
        assert case.title == "OSV-2024-OPENSSL-1 (CVE-2024-5535) in openssl 3.0.13"
        assert case.product == releases[0].product and case.state == "new"
        assert case.ack_due_at is None and case.created_by == handler
        assert [(r.product, r.introduced, r.fixed) for r in case.affected.all()] == [
            (releases[0].product, releases[0], None)
        ]
        assert handler in case.assignees.all()  # the handler keeps need-to-know of the case they opened
        opened = AuditEvent.objects.get(action="case.opened")
        assert opened.data == {"source": "components:OSV-2024-OPENSSL-1"}
        decided_events = AuditEvent.objects.filter(action="components.vex_decided", data__case=case.key)
        assert decided_events.count() == 2
        assert client_for(handler).get(f"/en/desk/cases/{case.public_id}/").status_code == 200

    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            ({"status": "not_affected", "justification": "component_not_present", "impact_statement": "x"}, "only"),
            ({"case_key": "X"}, "No case you may see"),
        ],
    )
    def test_refused_without_a_case_or_decision(
        self, decided: Vulnerability, releases: list[FirmwareRelease], lead: User, extra: dict[str, str], message: str
    ) -> None:
        from psirt.cases.models import Case

        before = VexDecision.objects.count()
        response = self._post(lead, releases, **extra)
        assert response.status_code == 400  # type: ignore[attr-defined]
        assert message in response.content.decode()  # type: ignore[attr-defined]
        assert (VexDecision.objects.count(), Case.objects.count()) == (before, 0)

    def test_linking_and_opening_at_once_is_refused(
        self, decided: Vulnerability, releases: list[FirmwareRelease], lead: User
    ) -> None:
        from psirt.cases.models import Case
        from psirt.cases.services.cases import open_team_case
        from psirt.components.exceptions import InvalidDecision

        case = open_team_case(title="Existing", actor=lead, source="test")
        with pytest.raises(InvalidDecision, match="not both"):
            decide(
                releases=[releases[0]],
                vulnerability=decided,
                status="affected",
                action_statement="Update.",
                case=case,
                open_case=True,
                actor=lead,
            )
        assert Case.objects.count() == 1


class TestSbomDeletionOnTheDesk:
    def _document(self, releases: list[FirmwareRelease], lead: User, end_of_support: datetime.date) -> SbomDocument:
        product = releases[0].product
        product.end_of_support = end_of_support
        product.save()
        return import_sbom(release=releases[0], data=sample("cyclonedx-1.4.json"), actor=lead)

    def test_lead_confirms_and_deletes_once_retention_is_over(
        self, releases: list[FirmwareRelease], lead: User
    ) -> None:
        document = self._document(releases, lead, datetime.date(2010, 1, 31))
        client = client_for(lead)
        page = client.get(f"/en/desk/components/releases/{releases[0].public_id}/").content.decode()
        assert f"/en/desk/components/sboms/{document.public_id}/delete/" in page
        confirm = client.get(f"/en/desk/components/sboms/{document.public_id}/delete/")
        assert confirm.status_code == 200 and "Delete this SBOM" in confirm.content.decode()
        assert SbomDocument.objects.filter(pk=document.pk).exists()  # GET deletes nothing
        response = client.post(f"/en/desk/components/sboms/{document.public_id}/delete/")
        assert response.status_code == 302
        assert not SbomDocument.objects.filter(pk=document.pk).exists()
        assert AuditEvent.objects.filter(action="components.sbom_deleted").count() == 1

    def test_retention_refuses_with_the_date(self, releases: list[FirmwareRelease], lead: User) -> None:
        document = self._document(releases, lead, datetime.date(2030, 6, 30))
        client = client_for(lead)
        confirm = client.get(f"/en/desk/components/sboms/{document.public_id}/delete/").content.decode()
        assert "2040-07-01" in confirm and "Delete this SBOM" not in confirm
        response = client.post(f"/en/desk/components/sboms/{document.public_id}/delete/", follow=True)
        assert "2040-06-30" in response.content.decode()
        assert SbomDocument.objects.filter(pk=document.pk).exists()
        assert not AuditEvent.objects.filter(action="components.sbom_deleted").exists()

    def test_only_leads_see_the_button_others_get_404(
        self, releases: list[FirmwareRelease], lead: User, handler: User, engineer: User
    ) -> None:
        document = self._document(releases, lead, datetime.date(2010, 1, 31))
        handler.product_lines.add(releases[0].product.line)
        page = client_for(handler).get(f"/en/desk/components/releases/{releases[0].public_id}/").content.decode()
        assert "/delete/" not in page
        for user in (handler, engineer):
            url = f"/en/desk/components/sboms/{document.public_id}/delete/"
            assert client_for(user).get(url).status_code == 404
            assert client_for(user).post(url).status_code == 404
        assert Client().post(f"/en/desk/components/sboms/{document.public_id}/delete/").status_code == 302  # sign in
        assert SbomDocument.objects.filter(pk=document.pk).exists()
