"""Importing vulnerability data (OSV, CVE JSON 5, upstream CSAF): normalised, idempotent, incremental matching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from psirt.accounts.models import User
from psirt.catalog.models import FirmwareRelease
from psirt.components import queries
from psirt.components.exceptions import InvalidVulnerabilityData
from psirt.components.models import AffectedPackage, Vulnerability, VulnerabilityMatch
from psirt.components.services import import_sbom, import_vulnerabilities
from psirt.components.tests.conftest import SAMPLES, sample
from psirt.components.vulndata import parse_records, read_file
from psirt.tests.conformance import CONFORMANCE


@pytest.fixture
def with_sboms(releases: list[FirmwareRelease], other_release: FirmwareRelease, lead: User) -> None:
    import_sbom(release=releases[1], data=sample("cyclonedx-1.6.json"), actor=lead)  # openssl 3.0.13 …
    import_sbom(release=releases[2], data=sample("cyclonedx-1.4.json"), actor=lead)  # openssl 3.0.14
    import_sbom(release=other_release, data=sample("spdx-2.3.json"), actor=lead)  # openssl 1.1.1w, busybox 1.36.10


def matched(vuln_id: str) -> set[str]:
    vulnerability = Vulnerability.objects.get(vuln_id=vuln_id)
    return {str(r) for r in queries.affected_releases(vulnerability, FirmwareRelease.objects.all())}


def test_osv_records_match_the_releases(with_sboms: None) -> None:
    call_command("import_vulns", str(SAMPLES / "osv"))
    assert matched("OSV-2024-OPENSSL-1") == {"Camera X5 5.7.1", "NVR N4 2.1.0"}
    assert matched("OSV-2023-BUSYBOX-1") == {"Camera X5 5.7.1", "Camera X5 5.8.0"}
    assert matched("OSV-2024-LINUX-1") == {"Camera X5 5.7.1"}
    linux = AffectedPackage.objects.get(vulnerability__vuln_id="OSV-2024-LINUX-1")
    assert linux.events == [{"introduced": "5.10.0"}, {"fixed": "5.10.210"}]  # the GIT range is left out
    found = queries.find_vulnerability("cve-2024-5535")
    assert found is not None and found.vuln_id == "OSV-2024-OPENSSL-1"


def test_cve5_record_ranges(with_sboms: None) -> None:
    call_command("import_vulns", str(SAMPLES / "cve5-zlib.json"))
    assert matched("CVE-2026-90001") == {"Camera X5 5.7.1"}


def test_upstream_csaf_product_status(with_sboms: None, tmp_path: Path) -> None:
    doc = {
        "document": {"category": "csaf_security_advisory", "csaf_version": "2.0", "title": "BusyBox"},
        "product_tree": {
            "branches": [
                {
                    "category": "vendor",
                    "name": "busybox",
                    "branches": [
                        {
                            "category": "product_version",
                            "name": "1.36.10",
                            "product": {
                                "product_id": "BB-13610",
                                "name": "BusyBox 1.36.10",
                                "product_identification_helper": {"purl": "pkg:generic/busybox@1.36.10"},
                            },
                        }
                    ],
                }
            ]
        },
        "vulnerabilities": [{"cve": "CVE-2026-90002", "product_status": {"known_affected": ["BB-13610"]}}],
    }
    (tmp_path / "upstream.json").write_text(json.dumps(doc))
    call_command("import_vulns", str(tmp_path))
    assert matched("CVE-2026-90002") == {"NVR N4 2.1.0"}


def test_reimport_changes_nothing(with_sboms: None, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("import_vulns", str(SAMPLES / "osv"))
    before = list(VulnerabilityMatch.objects.values_list("pk", flat=True))
    capsys.readouterr()
    call_command("import_vulns", str(SAMPLES / "osv"))
    assert "0 new, 0 updated, 3 unchanged" in capsys.readouterr().out
    assert list(VulnerabilityMatch.objects.values_list("pk", flat=True)) == before


def test_changed_record_is_rematched(with_sboms: None) -> None:
    records = read_file(SAMPLES / "osv" / "openssl.json")
    import_vulnerabilities(records=records)
    doc = json.loads((SAMPLES / "osv" / "openssl.json").read_text())
    doc["affected"][0]["ranges"] = [{"type": "ECOSYSTEM", "events": [{"introduced": "3.0.0"}, {"fixed": "3.0.15"}]}]
    stats = import_vulnerabilities(records=parse_records(doc, origin="changed"))
    assert (stats.updated, stats.created) == (1, 0)
    assert matched("OSV-2024-OPENSSL-1") == {"Camera X5 5.7.1", "Camera X5 5.8.0"}


def test_new_record_matches_only_its_own_packages(with_sboms: None) -> None:
    """The work of one new record depends on the versions of its package, not on the size of the catalog."""
    call_command("import_vulns", str(SAMPLES / "osv"))
    record = parse_records(
        {
            "id": "OSV-NEW",
            "modified": "2026-01-01T00:00:00Z",
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "requests"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                }
            ],
        },
        origin="new",
    )
    with CaptureQueriesContext(connection) as ctx:
        import_vulnerabilities(records=record)
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "components_releasecomponent" not in sql  # releases are never walked
    assert matched("OSV-NEW") == {"Camera X5 5.7.1"}


def test_new_sbom_matches_only_new_component_versions(
    with_sboms: None, releases: list[FirmwareRelease], lead: User
) -> None:
    call_command("import_vulns", str(SAMPLES / "osv"))
    count = VulnerabilityMatch.objects.count()
    with CaptureQueriesContext(connection) as ctx:
        import_sbom(release=releases[0], data=sample("cyclonedx-1.4.json"), actor=lead)  # nothing new
    assert "components_affectedpackage" not in " ".join(q["sql"] for q in ctx.captured_queries)
    assert VulnerabilityMatch.objects.count() == count
    assert "Camera X5 5.7.0" in matched("OSV-2023-BUSYBOX-1")


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"id": "OSV-BAD", "modified": "yesterday", "affected": "everything"}, "not a valid OSV record"),
        ({"hello": 1}, "neither an OSV record"),
        ("text", "not a JSON object"),
        ({"dataType": "CVE_RECORD", "cveMetadata": {}}, "no cveMetadata.cveId"),
    ],
)
def test_bad_records_are_refused(doc: object, expected: str) -> None:
    with pytest.raises(InvalidVulnerabilityData, match=expected):
        parse_records(doc, origin="x.json")


def test_command_refuses_bad_files_and_keeps_good_ones(with_sboms: None, tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes((SAMPLES / "osv" / "openssl.json").read_bytes())
    (tmp_path / "b.json").write_bytes(b"{ nope")
    with pytest.raises(CommandError, match="1 of 2 files refused"):
        call_command("import_vulns", str(tmp_path))
    assert Vulnerability.objects.filter(vuln_id="OSV-2024-OPENSSL-1").exists()


def test_package_schemas_are_the_conformance_copies() -> None:
    """The application reads its own copies of the OSV and OpenVEX schemas; they equal the upstream files."""
    data = Path(__file__).resolve().parents[1] / "data"
    assert (data / "osv.json").read_bytes() == (CONFORMANCE / "osv" / "schema.json").read_bytes()
    assert (data / "openvex.json").read_bytes() == (CONFORMANCE / "openvex" / "openvex_json_schema.json").read_bytes()


def _osv_about(n: int, name: str) -> dict[str, object]:
    return {
        "id": f"OSV-BATCH-{n}",
        "modified": "2026-01-01T00:00:00Z",
        "aliases": [f"CVE-2026-{70000 + n}"],
        "affected": [
            {
                "package": {"ecosystem": "OSS-Fuzz", "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99"}]}],
            }
        ],
    }


def test_queries_do_not_grow_with_the_number_of_records(with_sboms: None) -> None:
    """Records are stored in batches: ten records and a hundred cost the same queries, and so does importing them
    again (one query finds the stored hashes)."""

    def queries_for(records: list[object], *, start: int) -> int:
        docs = [_osv_about(start + i, "busybox" if i % 2 else "openssl") for i in range(len(records))]
        with CaptureQueriesContext(connection) as ctx:
            import_vulnerabilities(records=[r for d in docs for r in parse_records(d, origin="batch")])
        return len(ctx.captured_queries)

    few, many = queries_for([None] * 10, start=0), queries_for([None] * 100, start=1000)
    assert few == many
    assert Vulnerability.objects.filter(vuln_id__startswith="OSV-BATCH-").count() == 110
    assert matched("OSV-BATCH-1001") == {"Camera X5 5.7.1", "Camera X5 5.8.0", "NVR N4 2.1.0"}  # every busybox
    assert queries.find_vulnerability("CVE-2026-71001") == Vulnerability.objects.get(vuln_id="OSV-BATCH-1001")
    docs = [_osv_about(1000 + i, "busybox" if i % 2 else "openssl") for i in range(100)]
    with CaptureQueriesContext(connection) as ctx:
        stats = import_vulnerabilities(records=[r for d in docs for r in parse_records(d, origin="again")])
    assert (stats.created, stats.updated, stats.unchanged) == (0, 0, 100)
    assert sum("SELECT" in q["sql"] for q in ctx.captured_queries) == 1
    assert not any(q["sql"].startswith(("INSERT", "UPDATE", "DELETE")) for q in ctx.captured_queries)


def test_a_record_repeated_in_one_input_is_stored_in_input_order(with_sboms: None) -> None:
    first = parse_records(_osv_about(1, "openssl"), origin="first")
    changed = _osv_about(1, "busybox")
    changed["aliases"] = ["CVE-2026-79999"]
    stats = import_vulnerabilities(records=[*first, *parse_records(changed, origin="second")])
    assert (stats.created, stats.updated) == (1, 1)
    assert matched("OSV-BATCH-1") == {"Camera X5 5.7.1", "Camera X5 5.8.0", "NVR N4 2.1.0"}  # busybox, not openssl
    assert queries.find_vulnerability("CVE-2026-70001") is None
    assert queries.find_vulnerability("CVE-2026-79999") is not None
    package = AffectedPackage.objects.get(vulnerability__vuln_id="OSV-BATCH-1")
    assert (package.name, package.events) == ("busybox", [{"introduced": "0"}, {"fixed": "99"}])


def test_the_compiled_osv_check_agrees_with_the_reference_validator() -> None:
    """The fast check decides what is valid, the reference validator names the problems; both read one schema."""
    from psirt.components.vulndata import osv_check, osv_validator

    good = _osv_about(1, "openssl")
    bad = [
        {**good, "modified": 5},
        {**good, "affected": [{"package": {"ecosystem": "OSS-Fuzz", "name": "x"}, "ranges": [{"type": "NOPE"}]}]},
        {**good, "id": ""},
        {key: value for key, value in good.items() if key != "modified"},
    ]
    assert osv_check().is_valid(good) and osv_validator().is_valid(good)
    for doc in bad:
        assert not osv_check().is_valid(doc) and not osv_validator().is_valid(doc)
        with pytest.raises(InvalidVulnerabilityData, match="not a valid OSV record: /"):
            parse_records(doc, origin="bad.json")


def test_json_files_lists_json_under_folders_in_path_order(tmp_path: Path) -> None:
    from psirt.components.vulndata import json_files

    for name in ["b/2.json", "b/10.json", "a-z/x.json", "a/y.json", "a/notes.txt", "c.json", "a/sub/deep.json"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    (tmp_path / "folder.json").mkdir()  # a folder named like a file is searched, not read
    (tmp_path / "folder.json" / "in.json").write_text("{}")
    single = tmp_path / "a" / "notes.txt"
    listed = json_files([str(tmp_path), str(single)])
    expected = sorted(p for p in tmp_path.rglob("*.json") if p.is_file())
    assert listed == [str(p) for p in [*expected, single]]
    assert [p.relative_to(tmp_path).as_posix() for p in expected] == [
        "a/sub/deep.json",
        "a/y.json",
        "a-z/x.json",
        "b/10.json",
        "b/2.json",
        "c.json",
        "folder.json/in.json",
    ]
