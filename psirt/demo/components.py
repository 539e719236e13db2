"""Demo bills of materials and third-party vulnerabilities: SBOMs for the two newest releases of the first two
IP-camera products, three OSV records (OpenSSL, BusyBox, the Linux kernel) and a few decisions, so the components
desk, "Am I affected?" with a CVE and the VEX documents show something. The IP-camera line publishes its SBOMs, so
the public release pages list components and offer the SBOM. Idempotent: skipped once any SBOM exists."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable

from psirt.accounts.models import User
from psirt.catalog.models import FirmwareRelease, ProductLine
from psirt.components.models import SbomDocument, Vulnerability
from psirt.components.services import decide, import_sbom, import_vulnerabilities
from psirt.components.vulndata import parse_records

Log = Callable[[str], None]
LINE = "ip-cameras-recorders"


def _sbom(name: str, version: str, openssl: str, busybox: str, kernel: str) -> bytes:
    parts = [("openssl", openssl), ("busybox", busybox), ("linux", kernel), ("zlib", "1.3.1"), ("lighttpd", "1.4.73")]
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "metadata": {"component": {"type": "firmware", "name": name, "version": version}},
            "components": [
                {"type": "library", "name": n, "version": v, "purl": f"pkg:generic/{n}@{v}"} for n, v in parts
            ],
        },
        indent=1,
    ).encode()


OSV = [
    {
        "id": "CVE-2024-5535",
        "modified": "2024-06-27T00:00:00Z",
        "summary": "OpenSSL: SSL_select_next_proto buffer overread",
        "affected": [
            {
                "package": {"ecosystem": "OSS-Fuzz", "name": "openssl", "purl": "pkg:generic/openssl"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.0.0"}, {"fixed": "3.0.14"}]}],
            }
        ],
    },
    {
        "id": "CVE-2023-42366",
        "modified": "2023-11-27T00:00:00Z",
        "summary": "BusyBox awk: heap buffer overflow",
        "affected": [
            {
                "package": {"ecosystem": "OSS-Fuzz", "name": "busybox", "purl": "pkg:generic/busybox"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "1.36.1"}]}],
            }
        ],
    },
    {
        "id": "CVE-2024-26581",
        "modified": "2024-02-20T00:00:00Z",
        "summary": "Linux kernel netfilter: nft_set_rbtree skips end interval element",
        "affected": [
            {
                "package": {"ecosystem": "Linux", "name": "linux"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "5.10.0"}, {"fixed": "5.10.210"}]}],
            }
        ],
    },
]


def load_demo_components(log: Log) -> None:
    if SbomDocument.objects.exists():
        log("components: already loaded")
        return
    line = ProductLine.objects.filter(slug=LINE).first()
    lead = User.objects.filter(email="lead@demo.test").first()
    if line is None or lead is None:
        log("components: no demo catalog or lead; skipped")
        return
    line.sboms_public = True
    line.save(update_fields=["sboms_public"])
    records = [record for doc in OSV for record in parse_records(doc, origin="demo")]
    import_vulnerabilities(records=records, actor=lead)
    decided = 0
    for product in line.products.order_by("name")[:2]:
        releases = list(FirmwareRelease.objects.filter(product=product, variant="").order_by("-position")[:2])
        if len(releases) < 2:
            continue
        newest, older = releases
        import_sbom(release=older, data=_sbom(product.name, older.version, "3.0.13", "1.36.1", "5.10.201"), actor=lead)
        import_sbom(
            release=newest, data=_sbom(product.name, newest.version, "3.0.14", "1.36.1", "5.10.215"), actor=lead
        )
        openssl = Vulnerability.objects.get(vuln_id="CVE-2024-5535")
        busybox = Vulnerability.objects.get(vuln_id="CVE-2023-42366")
        decide(
            releases=[older],
            vulnerability=openssl,
            status="affected",
            action_statement=f"Update to firmware {newest.version}, which ships OpenSSL 3.0.14.",
            actor=lead,
        )
        decide(releases=[newest], vulnerability=openssl, status="fixed", actor=lead)
        decide(
            releases=[older, newest],
            vulnerability=busybox,
            status="not_affected",
            justification="vulnerable_code_not_in_execute_path",
            impact_statement="The firmware's BusyBox is built without the awk applet.",
            maintainer_notified_at=datetime.date(2026, 1, 12),
            maintainer_notice="busybox@busybox.net, by e-mail",
            actor=lead,
        )
        decided += 3
    log(f"components: {SbomDocument.objects.count()} SBOMs, {len(records)} OSV records, {decided} decisions")
