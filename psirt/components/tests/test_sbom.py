"""SBOM import: CycloneDX 1.4–1.6 and SPDX 2.3, shared component versions, clear refusals, nothing half-stored,
retention."""

from __future__ import annotations

import datetime
import json
import zlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from psirt.accounts.models import User
from psirt.audit.models import AuditEvent
from psirt.catalog.models import FirmwareRelease
from psirt.components.exceptions import InvalidSbom, NotAllowed, RetentionNotOver, SbomTooLarge
from psirt.components.models import Component, ComponentVersion, ReleaseComponent, SbomDocument
from psirt.components.sbom import MAX_SBOM_BYTES, parse_sbom
from psirt.components.services import delete_sbom, import_sbom, retention_ends, sbom_bytes
from psirt.components.tests.conftest import SAMPLES, sample


def purls(release: FirmwareRelease) -> set[str]:
    return {
        f"{link.component_version.component.purl}@{link.component_version.version}"
        for link in ReleaseComponent.objects.filter(release=release).select_related("component_version__component")
    }


def test_cyclonedx_16_with_nested_components_and_no_purl(releases: list[FirmwareRelease], lead: User) -> None:
    data = sample("cyclonedx-1.6.json")
    document = import_sbom(release=releases[1], data=data, actor=lead, filename="x5.cdx.json")
    assert (document.format, document.spec_version, document.component_count) == ("cyclonedx", "1.6", 6)
    assert sbom_bytes(document) == data  # stored as uploaded
    assert purls(releases[1]) == {
        "pkg:generic/openssl@3.0.13",
        "pkg:generic/busybox@1.36.1",
        "pkg:generic/linux@5.10.201",
        "pkg:generic/zlib@1.3.1",
        "pkg:pypi/requests@2.31.0",
        "pkg:generic/lighttpd@1.4.73",
    }
    event = AuditEvent.objects.get(action="components.sbom_imported")
    assert event.data["components"] == 6 and event.data["sha256"] == document.sha256


def test_spdx_23_purl_from_external_ref_and_name_lowercased(releases: list[FirmwareRelease], lead: User) -> None:
    import_sbom(release=releases[0], data=sample("spdx-2.3.json"), actor=lead)
    assert purls(releases[0]) == {"pkg:generic/openssl@1.1.1w", "pkg:generic/busybox@1.36.10"}


def test_component_versions_are_stored_once(releases: list[FirmwareRelease], lead: User) -> None:
    import_sbom(release=releases[1], data=sample("cyclonedx-1.6.json"), actor=lead)
    import_sbom(release=releases[2], data=sample("cyclonedx-1.4.json"), actor=lead)
    busybox = ComponentVersion.objects.get(component__name="busybox", version="1.36.1")
    assert busybox.release_links.count() == 2
    assert Component.objects.filter(name="openssl").count() == 1
    assert ComponentVersion.objects.filter(component__name="openssl").count() == 2


def test_new_sbom_replaces_the_links_and_keeps_the_old_document(releases: list[FirmwareRelease], lead: User) -> None:
    import_sbom(release=releases[1], data=sample("cyclonedx-1.6.json"), actor=lead)
    import_sbom(release=releases[1], data=sample("cyclonedx-1.4.json"), actor=lead)
    assert purls(releases[1]) == {"pkg:generic/openssl@3.0.14", "pkg:generic/busybox@1.36.1"}
    assert SbomDocument.objects.filter(release=releases[1]).count() == 2


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("malformed-json.json", "line 3, column 35"),
        ("cyclonedx-bad-schema.json", "/components/0/type"),
        ("cyclonedx-bad-purl.json", "/components/0: the package URL is invalid"),
        ("spdx-bad.json", "SPDX"),
    ],
)
def test_bad_files_are_refused_with_the_place_and_store_nothing(
    releases: list[FirmwareRelease], lead: User, name: str, expected: str
) -> None:
    with pytest.raises(InvalidSbom) as refused:
        import_sbom(release=releases[0], data=sample(name), actor=lead)
    assert expected in str(refused.value.message)
    assert not SbomDocument.objects.exists() and not Component.objects.exists()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "top level is not an object"),
        (b'{"hello": "world"}', "neither CycloneDX"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.2", "version": 1}', "1.2 is not supported"),
        (b'{"spdxVersion": "SPDX-2.2"}', "SPDX-2.2 is not supported"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_hostile_input_gets_a_clear_error(data: bytes, expected: str) -> None:
    with pytest.raises(InvalidSbom) as refused:
        parse_sbom(data)
    assert expected in str(refused.value.message)


def test_too_large_is_refused_before_parsing() -> None:
    with pytest.raises(SbomTooLarge):
        parse_sbom(b" " * (MAX_SBOM_BYTES + 1))


def test_a_10_mb_cyclonedx_document_is_imported(releases: list[FirmwareRelease], lead: User) -> None:
    components = [
        {
            "type": "library",
            "name": f"lib{i}",
            "version": f"1.{i % 50}.{i % 7}",
            "purl": f"pkg:generic/lib{i}@1.{i % 50}.{i % 7}",
            "description": "x" * 300,
        }
        for i in range(26_000)
    ]
    data = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components}).encode()
    assert len(data) > 10 * 1024 * 1024
    document = import_sbom(release=releases[0], data=data, actor=lead)
    assert document.component_count == 26_000
    assert ReleaseComponent.objects.filter(release=releases[0]).count() == 26_000
    assert len(bytes(document.content)) < len(data) // 10
    assert zlib.decompress(bytes(document.content)) == data


def test_engineer_cannot_upload(releases: list[FirmwareRelease], engineer: User) -> None:
    engineer.product_lines.add(releases[0].product.line)
    with pytest.raises(NotAllowed):
        import_sbom(release=releases[0], data=sample("cyclonedx-1.4.json"), actor=engineer)


def test_handler_outside_the_line_cannot_upload(releases: list[FirmwareRelease], handler: User) -> None:
    with pytest.raises(NotAllowed):
        import_sbom(release=releases[0], data=sample("cyclonedx-1.4.json"), actor=handler)
    handler.product_lines.add(releases[0].product.line)
    assert import_sbom(release=releases[0], data=sample("cyclonedx-1.4.json"), actor=handler).component_count == 2


class TestRetention:
    def test_kept_while_end_of_support_is_unknown(self, releases: list[FirmwareRelease], lead: User) -> None:
        document = import_sbom(release=releases[0], data=sample("cyclonedx-1.4.json"), actor=lead)
        with pytest.raises(RetentionNotOver, match="not set"):
            delete_sbom(document=document, actor=lead, today=datetime.date(2099, 1, 1))
        assert SbomDocument.objects.filter(pk=document.pk).exists()

    def test_kept_until_ten_years_after_end_of_support(self, releases: list[FirmwareRelease], lead: User) -> None:
        product = releases[0].product
        product.end_of_support = datetime.date(2026, 6, 30)
        product.save()
        document = import_sbom(release=releases[0], data=sample("cyclonedx-1.4.json"), actor=lead)
        assert retention_ends(document.release) == datetime.date(2036, 7, 1)
        with pytest.raises(RetentionNotOver, match="2036-06-30"):
            delete_sbom(document=document, actor=lead, today=datetime.date(2036, 6, 30))
        delete_sbom(document=document, actor=lead, today=datetime.date(2036, 7, 1))
        assert not SbomDocument.objects.filter(pk=document.pk).exists()
        assert AuditEvent.objects.filter(action="components.sbom_deleted").count() == 1

    def test_leap_day_end_of_support(self, releases: list[FirmwareRelease]) -> None:
        product = releases[0].product
        product.end_of_support = datetime.date(2028, 2, 29)
        assert retention_ends(releases[0]) == datetime.date(2038, 3, 1)

    def test_only_a_lead_deletes(self, releases: list[FirmwareRelease], lead: User, handler: User) -> None:
        handler.product_lines.add(releases[0].product.line)
        document = import_sbom(release=releases[0], data=sample("cyclonedx-1.4.json"), actor=lead)
        with pytest.raises(NotAllowed):
            delete_sbom(document=document, actor=handler, today=datetime.date(2099, 1, 1))


def test_command_line(releases: list[FirmwareRelease], capsys: pytest.CaptureFixture[str]) -> None:
    call_command("import_sbom", "--product", "cam-x5", "--version", "5.7.1", str(SAMPLES / "cyclonedx-1.6.json"))
    assert "6 components" in capsys.readouterr().out
    with pytest.raises(CommandError, match=r"no release '9\.9' of product 'cam-x5'"):
        call_command("import_sbom", "--product", "cam-x5", "--version", "9.9", str(SAMPLES / "cyclonedx-1.6.json"))
    with pytest.raises(CommandError, match="line 3, column 35"):
        call_command("import_sbom", "--product", "cam-x5", "--version", "5.7.0", str(SAMPLES / "malformed-json.json"))


def test_repeated_component_is_refused() -> None:
    component = {"type": "library", "name": "zlib", "version": "1.3.1"}
    data = json.dumps(
        {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": [component, component]}
    ).encode()
    with pytest.raises(InvalidSbom, match="/components/1 repeats"):
        parse_sbom(data)


@pytest.mark.parametrize("spec", ["1.4", "1.5", "1.6"])
def test_the_compiled_cyclonedx_check_agrees_with_the_reference_validator(spec: str) -> None:
    """The compiled schema decides, the reference names the problems: both refuse the same documents, the
    referenced schemas (SPDX licence IDs) included."""
    from psirt.components.sbom import cyclonedx_check, cyclonedx_validator

    good = json.loads(sample("cyclonedx-1.6.json"))
    good["specVersion"] = spec
    component = {"type": "library", "name": "zlib", "version": "1.3.1", "purl": "pkg:generic/zlib@1.3.1"}
    bad = [
        {**good, "components": [{**component, "type": "gadget"}]},
        {**good, "components": [{**component, "hashes": [{"alg": "MD5", "content": "zz"}]}]},
        {**good, "components": [{**component, "licenses": [{"license": {"id": "NOT-A-LICENCE"}}]}]},
        {**good, "version": "one"},
    ]
    assert cyclonedx_check(spec).is_valid(good) and cyclonedx_validator(spec).is_valid(good)
    ok = {**good, "components": [{**component, "licenses": [{"license": {"id": "Zlib"}}]}]}
    assert cyclonedx_check(spec).is_valid(ok) and cyclonedx_validator(spec).is_valid(ok)
    for doc in bad:
        assert not cyclonedx_check(spec).is_valid(doc) and not cyclonedx_validator(spec).is_valid(doc)
        with pytest.raises(InvalidSbom, match=f"The CycloneDX {spec} document does not follow its schema: /"):
            parse_sbom(json.dumps(doc).encode())
