"""The public release page: the published third-party vulnerability decisions of a release and, when its product
line publishes SBOMs, its components and its SBOM as uploaded; the page follows every new decision or SBOM."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from psirt.accounts.models import User
from psirt.catalog.models import FirmwareRelease
from psirt.components import publication
from psirt.components.models import Vulnerability
from psirt.components.public_release import release_decisions, sbom_filename
from psirt.components.services import decide, import_sbom
from psirt.components.tests.conftest import SAMPLES, sample
from psirt.pages import generation


def page_url(release: FirmwareRelease, language: str = "en") -> str:
    with translation.override(language):
        return reverse("catalog:release", args=[release.product.slug, release.public_id])


def sbom_url(release: FirmwareRelease) -> str:
    with translation.override("en"):
        return reverse("components_public:sbom", args=[release.product.slug, release.public_id])


def publish_sboms(release: FirmwareRelease, on: bool = True) -> None:
    line = release.product.line
    line.sboms_public = on
    line.save()


@pytest.fixture
def openssl(releases: list[FirmwareRelease], lead: User) -> Vulnerability:
    for release in releases:
        import_sbom(release=release, data=sample("cyclonedx-1.6.json"), actor=lead)
    call_command("import_vulns", str(SAMPLES / "osv"))
    return Vulnerability.objects.get(vuln_id="OSV-2024-OPENSSL-1")


def test_lists_published_decisions_with_statement_and_update_target(
    client: Client, openssl: Vulnerability, releases: list[FirmwareRelease], lead: User
) -> None:
    decide(
        releases=releases[:2],
        vulnerability=openssl,
        status="affected",
        action_statement="Install 5.8.0 <script>alert(1)</script>",
        actor=lead,
    )
    decide(releases=[releases[2]], vulnerability=openssl, status="fixed", actor=lead)
    page = client.get(page_url(releases[0])).content.decode()
    assert "OSV-2024-OPENSSL-1" in page
    assert "Affected" in page
    assert "Install 5.8.0 &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert f'href="{page_url(releases[2])}">5.8.0</a>' in page  # the release to update to
    fixed = client.get(page_url(releases[2])).content.decode()
    assert "Fixed" in fixed and "Install 5.8.0" not in fixed


def test_not_affected_shows_justification_and_impact(
    client: Client, openssl: Vulnerability, releases: list[FirmwareRelease], lead: User
) -> None:
    decide(
        releases=[releases[1]],
        vulnerability=openssl,
        status="not_affected",
        justification="vulnerable_code_not_in_execute_path",
        impact_statement="NPN is never used by the web server.",
        actor=lead,
    )
    page = client.get(page_url(releases[1])).content.decode()
    assert "Vulnerable code not in execute path" in page
    assert "NPN is never used by the web server." in page


def test_an_undecided_match_is_not_revealed(
    client: Client, openssl: Vulnerability, releases: list[FirmwareRelease]
) -> None:
    page = client.get(page_url(releases[0])).content.decode()
    assert "OSV-2024-OPENSSL-1" not in page
    assert "No decision about a third-party vulnerability has been published for this release." in page


def test_same_decisions_as_the_vex_documents(
    openssl: Vulnerability, releases: list[FirmwareRelease], other_release: FirmwareRelease, lead: User
) -> None:
    decide(releases=releases, vulnerability=openssl, status="under_investigation", actor=lead)
    decide(releases=[releases[0]], vulnerability=openssl, status="affected", action_statement="Update.", actor=lead)
    hidden = releases[1]
    hidden.is_public = False
    hidden.save()
    documented = {(d.release_id, d.pk) for d in publication.public_decisions(openssl)}
    on_pages = {(r.pk, row.decision.pk) for r in releases for row in release_decisions(r)}
    assert on_pages == documented
    assert {release for release, _ in on_pages} == {releases[0].pk, releases[2].pk}
    assert [row.decision.status for row in release_decisions(releases[0])] == ["affected"]


def test_unknown_unlisted_or_mismatched_release_is_404(
    client: Client, releases: list[FirmwareRelease], other_release: FirmwareRelease
) -> None:
    hidden = releases[1]
    hidden.is_public = False
    hidden.save()
    assert client.get(page_url(hidden)).status_code == 404
    wrong_product = reverse("catalog:release", args=[other_release.product.slug, releases[0].public_id])
    assert client.get(wrong_product).status_code == 404
    product = releases[0].product
    product.is_public = False
    product.save()
    assert client.get(page_url(releases[0])).status_code == 404
    assert client.get(page_url(other_release)).status_code == 200


def test_without_public_sboms_no_components_and_download_404(
    client: Client, releases: list[FirmwareRelease], lead: User
) -> None:
    import_sbom(release=releases[0], data=sample("cyclonedx-1.6.json"), actor=lead)
    page = client.get(page_url(releases[0])).content.decode()
    assert "pkg:generic/openssl" not in page
    assert sbom_url(releases[0]) not in page
    assert client.get(sbom_url(releases[0])).status_code == 404
    publish_sboms(releases[0])
    assert client.get(sbom_url(releases[0])).status_code == 200


def test_public_sboms_list_components_and_download_as_uploaded(
    client: Client, releases: list[FirmwareRelease], lead: User
) -> None:
    publish_sboms(releases[0])
    uploaded = sample("cyclonedx-1.6.json")
    import_sbom(release=releases[0], data=uploaded, actor=lead)
    page = client.get(page_url(releases[0])).content.decode()
    assert "pkg:generic/openssl@" in page
    assert f'href="{sbom_url(releases[0])}"' in page
    response = client.get(sbom_url(releases[0]))
    assert response.status_code == 200
    assert response.content == uploaded
    assert response["Content-Type"] == "application/vnd.cyclonedx+json"
    assert response["Content-Disposition"] == 'attachment; filename="cam-x5_5.7.0.cdx.json"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_spdx_download_type_and_newest_sbom_wins(client: Client, releases: list[FirmwareRelease], lead: User) -> None:
    publish_sboms(releases[0])
    import_sbom(release=releases[0], data=sample("cyclonedx-1.6.json"), actor=lead)
    spdx = sample("spdx-2.3.json")
    import_sbom(release=releases[0], data=spdx, actor=lead)
    response = client.get(sbom_url(releases[0]))
    assert (response.content, response["Content-Type"]) == (spdx, "application/spdx+json")
    assert response["Content-Disposition"] == 'attachment; filename="cam-x5_5.7.0.spdx.json"'


def test_sbom_download_of_an_unlisted_release_is_404(
    client: Client, releases: list[FirmwareRelease], lead: User
) -> None:
    publish_sboms(releases[0])
    import_sbom(release=releases[0], data=sample("cyclonedx-1.6.json"), actor=lead)
    hidden = releases[0]
    hidden.is_public = False
    hidden.save()
    assert client.get(sbom_url(hidden)).status_code == 404


def test_file_name_is_safe_whatever_the_version(releases: list[FirmwareRelease], lead: User) -> None:
    document = import_sbom(release=releases[0], data=sample("cyclonedx-1.6.json"), actor=lead)
    release = releases[0]
    release.version = '../../etc/passwd"; x=\r\n5'
    release.variant = "EU 中文"
    name = sbom_filename(release, document)
    assert name == "cam-x5_etc-passwd-x-5_EU.cdx.json"
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)


def test_a_new_decision_or_sbom_moves_the_site_generation(
    client: Client, openssl: Vulnerability, releases: list[FirmwareRelease], lead: User, settings: Any
) -> None:
    """Render, decide, render again with the public page cache on: the new decision shows, and the token every
    cached public page is keyed on has moved (so does it with a new SBOM)."""
    settings.PSIRT_PUBLIC_PAGE_CACHE = 600
    publish_sboms(releases[1])
    first = client.get(page_url(releases[0])).content.decode()
    assert "OSV-2024-OPENSSL-1" not in first
    before = generation.current()  # after the first rendering, which may create the organization profile
    decide(releases=[releases[0]], vulnerability=openssl, status="affected", action_statement="Update.", actor=lead)
    after_decision = generation.current()
    assert after_decision[1] != before[1]
    assert "OSV-2024-OPENSSL-1" in client.get(page_url(releases[0])).content.decode()
    assert "pkg:generic/openssl@3.0.14" not in client.get(page_url(releases[1])).content.decode()
    import_sbom(release=releases[1], data=sample("cyclonedx-1.4.json"), actor=lead)
    assert generation.current()[1] != after_decision[1]
    assert "pkg:generic/openssl@3.0.14" in client.get(page_url(releases[1])).content.decode()


def test_both_languages(client: Client, openssl: Vulnerability, releases: list[FirmwareRelease], lead: User) -> None:
    publish_sboms(releases[0])
    decide(releases=[releases[0]], vulnerability=openssl, status="affected", action_statement="Update.", actor=lead)
    english = client.get(page_url(releases[0])).content.decode()
    assert "Third-party vulnerabilities" in english and "Download the bill of materials (CycloneDX 1.6)" in english
    chinese = client.get(page_url(releases[0], "zh-hans")).content.decode()
    assert "第三方组件漏洞" in chinese and "下载软件物料清单（CycloneDX 1.6）" in chinese
    assert "请升级到" in chinese


def test_the_product_page_links_each_release_page(client: Client, releases: list[FirmwareRelease]) -> None:
    with translation.override("en"):
        page = client.get(reverse("catalog:product", args=["cam-x5"])).content.decode()
    for release in releases:
        assert page_url(release) in page


def test_a_large_sbom_lists_the_first_components_and_says_how_many(
    client: Client, releases: list[FirmwareRelease], lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from psirt.components import public_release

    monkeypatch.setattr(public_release, "MAX_LISTED", 2)
    publish_sboms(releases[0])
    import_sbom(release=releases[0], data=sample("cyclonedx-1.6.json"), actor=lead)
    page = client.get(page_url(releases[0])).content.decode()
    assert "The first 2 of 6 components by name; the bill of materials lists them all." in page
    assert "pkg:generic/busybox@1.36.1" in page and "pkg:generic/zlib@" not in page
    chinese = client.get(page_url(releases[0], "zh-hans")).content.decode()
    assert "按名称列出 6 个组件中的前 2 个" in chinese


@pytest.mark.parametrize("count", [1, 6])
def test_release_decisions_take_two_queries_whatever_their_number(
    count: int, releases: list[FirmwareRelease], lead: User
) -> None:
    """The decisions and, for all of them at once, the release to update to: a fixed number of queries."""
    for n in range(count):
        vulnerability = Vulnerability.objects.create(vuln_id=f"OSV-COUNT-{n}", source="osv", content_hash=str(n))
        decide(
            releases=[releases[0]], vulnerability=vulnerability, status="affected", action_statement="Up.", actor=lead
        )
        # every other one is fixed in the newest release: the others have nowhere to go yet
        if n % 2 == 0:
            decide(releases=[releases[2]], vulnerability=vulnerability, status="fixed", actor=lead)
    with CaptureQueriesContext(connection) as ctx:
        rows = release_decisions(releases[0])
    assert len(ctx.captured_queries) == 2
    assert [(row.decision.vulnerability.vuln_id, row.update_to) for row in rows] == [
        (f"OSV-COUNT-{n}", releases[2] if n % 2 == 0 else None) for n in range(count)
    ]


def test_statements_in_both_languages(
    client: Client, openssl: Vulnerability, releases: list[FirmwareRelease], lead: User
) -> None:
    """A Chinese statement is shown on Chinese pages and the English one on English pages; without a Chinese
    one, Chinese pages show the English one."""
    decide(
        releases=[releases[0]],
        vulnerability=openssl,
        status="affected",
        action_statement="Install 5.8.0.",
        action_statement_zh="请安装 5.8.0。",
        actor=lead,
    )
    decide(
        releases=[releases[1]],
        vulnerability=openssl,
        status="not_affected",
        justification="vulnerable_code_not_in_execute_path",
        impact_statement="NPN is never used.",
        actor=lead,
    )
    english = client.get(page_url(releases[0])).content.decode()
    assert "Install 5.8.0." in english and "请安装" not in english
    chinese = client.get(page_url(releases[0], "zh-hans")).content.decode()
    assert "请安装 5.8.0。" in chinese and "Install 5.8.0." not in chinese
    untranslated = client.get(page_url(releases[1], "zh-hans")).content.decode()
    assert "NPN is never used." in untranslated
