"""The advisory model refuses what no renderer could write correctly, with a message that names the problem."""

from __future__ import annotations

from datetime import datetime

import pytest

from psirt.formats.model import (
    CvssV3,
    CvssV4,
    Cwe,
    Exploitation,
    Product,
    ProductStatus,
    Reference,
    Remediation,
    Revision,
    Text,
    Version,
    VersionRange,
    VulnerabilityId,
    index_products,
    product_id,
    slug,
)
from psirt.formats.tests import factories
from psirt.formats.tests.factories import at


def test_product_id_rule() -> None:
    cam, nvr, therm = factories.camera(), factories.recorder(), factories.thermostat()
    assert product_id(cam, cam.versions[0]) == "CSAFPID-ipc-2325-r-5-5-0"  # release ID wins
    assert product_id(nvr, nvr.versions[1], "A1") == "CSAFPID-nvr-3200-eu-4.2.1-on-hw-a1"
    assert nvr.version_id(nvr.versions[0]) == "CSAFPID-nvr-3200-4.2.1"
    assert nvr.hardware_id("B2") == "CSAFPID-nvr-3200-hw-b2"
    assert product_id(therm, therm.versions[0]) == "CSAFPID-bac-2000-range-lt2.14.0"
    assert therm.version_id(VersionRange("vers:generic/>=1.0|<=1.9", variant="Operator X")) == (
        "CSAFPID-bac-2000-operator-x-range-ge1.0-le1.9"
    )
    assert slug("V5.5.0 Build 210318 (EU)") == "v5.5.0-build-210318-eu"


def test_status_ids_cover_every_hardware_revision_unless_one_is_named() -> None:
    nvr = factories.recorder()
    assert nvr.status_ids(nvr.versions[0]) == (
        "CSAFPID-nvr-3200-4.2.1-on-hw-a1",
        "CSAFPID-nvr-3200-4.2.1-on-hw-b2",
    )
    with pytest.raises(ValueError, match="name one"):
        product_id(nvr, nvr.versions[0])
    with pytest.raises(ValueError, match="not a hardware revision"):
        nvr.status_ids(nvr.versions[0], "C3")
    with pytest.raises(ValueError, match="not a version"):
        nvr.status_ids(Version("9.9"))


def test_index_knows_every_id() -> None:
    index = index_products((factories.camera(), factories.recorder()))
    entry = index["CSAFPID-nvr-3200-eu-4.3.0-on-hw-b2"]
    assert entry.product.slug == "nvr-3200" and entry.hardware_revision == "B2"
    assert isinstance(entry.version, Version) and entry.version.variant == "EU"
    assert index["CSAFPID-nvr-3200-hw-a1"].version is None


@pytest.mark.parametrize(
    "vers",
    ["vers:generic/<2.0", "vers:generic/<=2.0", "vers:generic/>=1.0", "vers:generic/>=1.0|<2.0", "vers:generic/*"],
)
def test_supported_ranges(vers: str) -> None:
    assert VersionRange(vers).bounds


@pytest.mark.parametrize(
    "vers",
    ["generic/<2.0", "vers:generic/", "vers:generic/>1.0", "vers:generic/<1|>=2", "vers:generic/!=1.0", "vers:x/ <1"],
)
def test_unsupported_ranges_are_refused(vers: str) -> None:
    with pytest.raises(ValueError):
        VersionRange(vers)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Revision("1", datetime(2026, 1, 1), Text("Initial release."))
    with pytest.raises(ValueError, match="timezone-aware"):
        Exploitation("active", datetime(2026, 1, 1))


def test_scores_must_match_the_vector() -> None:
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert CvssV3.from_vector(vector).base_score == 9.8
    with pytest.raises(ValueError, match="do not match"):
        CvssV3(vector, 7.5, "HIGH")
    with pytest.raises(ValueError, match=r"not a CVSS v3\.1"):
        CvssV3.from_vector("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    with pytest.raises(ValueError, match="invalid"):
        CvssV3.from_vector("CVSS:3.1/AV:N/AC:L")
    with pytest.raises(ValueError, match="invalid"):
        CvssV4.from_vector("CVSS:4.0/AV:N")
    with pytest.raises(ValueError, match="does not match"):
        CvssV4("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 5.0, "MEDIUM")


def test_contradicting_status_is_refused() -> None:
    with pytest.raises(ValueError, match="contradicting"):
        ProductStatus(known_affected=("A",), fixed=("A",))
    with pytest.raises(ValueError, match="at least one"):
        ProductStatus()


def test_remediation_must_name_products_with_a_status() -> None:
    with pytest.raises(ValueError, match="without a status"):
        factories.camera_vulnerability(
            remediations=(Remediation("vendor_fix", Text("Update."), ("CSAFPID-elsewhere",)),)
        )
    with pytest.raises(ValueError, match="unknown remediation category"):
        Remediation("patch", Text("Update."), ("A",))  # type: ignore[arg-type]


def test_identifiers_are_checked() -> None:
    with pytest.raises(ValueError, match="CVE ID goes in"):
        VulnerabilityId("CNVD", "CVE-2026-1234")
    with pytest.raises(ValueError, match="not a CVE ID"):
        factories.camera_vulnerability(cve="CVE-26-1")
    with pytest.raises(ValueError, match="CWE id"):
        Cwe("79")
    with pytest.raises(ValueError, match="http"):
        Reference("javascript:alert(1)", Text("x"))


def test_advisory_level_checks() -> None:
    with pytest.raises(ValueError, match="duplicate revision"):
        factories.advisory(
            revisions=(Revision("1", at(2026, 3, 24), Text("a")), Revision("1", at(2026, 3, 25), Text("b")))
        )
    with pytest.raises(ValueError, match="CVE appears twice"):
        vuln = factories.camera_vulnerability()
        factories.advisory(vulnerabilities=(vuln, vuln))
    with pytest.raises(ValueError, match="https"):
        factories.advisory(csaf_url="http://insecure.example/x.json")
    with pytest.raises(ValueError, match="before the initial"):
        factories.advisory(current_release_date=at(2020, 1, 1))
    with pytest.raises(ValueError, match="slug"):
        Product(slug="Not a slug!", name="x", vendor="y", versions=(Version("1"),))
