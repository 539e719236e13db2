"""Realistic advisories for the renderer tests: the two demo vendors (VisionTek cameras/recorders, BECA
thermostats), firmware versions as such vendors write them, hardware revisions, region variants, CNVD IDs,
Chinese texts. Each factory takes keyword overrides (dataclasses.replace) for the case at hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from psirt.formats.csaf import csaf_document_url, csaf_translation_url
from psirt.formats.model import (
    Acknowledgment,
    Advisory,
    CvssV3,
    CvssV4,
    Cwe,
    Exploitation,
    Product,
    ProductStatus,
    Publisher,
    Reference,
    Remediation,
    Revision,
    Text,
    Version,
    VersionRange,
    Vulnerability,
    VulnerabilityId,
)

CSAF_BASE = "https://security.visiontek.example/.well-known/csaf"
SITE = "https://security.visiontek.example"
FIRMWARE_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


def publisher(**kw: Any) -> Publisher:
    base = Publisher(
        name="VisionTek Security Response Center",
        namespace="https://security.visiontek.example",
        contact_details="security@visiontek.example (OpenPGP key on https://security.visiontek.example/pgp-key.txt)",
        issuing_authority="VisionTek PSIRT, the product security team of VisionTek Technology Co., Ltd.",
    )
    return replace(base, **kw)


def camera(**kw: Any) -> Product:
    """An IP camera without hardware revisions: old releases, the fixed release, a later one."""
    base = Product(
        slug="ipc-2325",
        name="IPC-2325 bullet camera",
        vendor="VisionTek",
        line="IP cameras and recorders",
        model_numbers=("DS-IPC2325-I", "DS-IPC2325-IZ"),
        versions=(
            Version("5.5.0 build 210318", release_id="r-5-5-0"),
            Version("5.5.2 build 220104", release_id="r-5-5-2"),
            Version(
                "5.5.3 build 230211",
                release_id="r-5-5-3",
                file_name="IPC2325_V5.5.3_230211.dav",
                sha256=FIRMWARE_SHA256,
            ),
        ),
    )
    return replace(base, **kw)


def recorder(**kw: Any) -> Product:
    """A network video recorder on two hardware revisions, with an EU variant of its firmware."""
    base = Product(
        slug="nvr-3200",
        name="NVR-3200",
        vendor="VisionTek",
        line="IP cameras and recorders",
        model_numbers=("NVR-3208", "NVR-3216"),
        hardware_revisions=("A1", "B2"),
        versions=(
            Version("4.2.1"),
            Version("4.2.1", variant="EU"),
            Version("4.3.0"),
            Version("4.3.0", variant="EU"),
        ),
    )
    return replace(base, **kw)


def thermostat(**kw: Any) -> Product:
    """A BECA thermostat whose old releases are given as a range."""
    base = Product(
        slug="bac-2000",
        name="BAC-2000 smart thermostat",
        vendor="BECA",
        line="Building automation",
        model_numbers=("BAC-2000WH", "BAC-2000BK"),
        versions=(VersionRange("vers:generic/<2.14.0"), Version("2.14.0"), Version("1.9.8", variant="Operator X")),
    )
    return replace(base, **kw)


def _ids(product: Product, *versions: int) -> tuple[str, ...]:
    out: tuple[str, ...] = ()
    for i in versions:
        out += product.status_ids(product.versions[i])
    return out


def camera_vulnerability(**kw: Any) -> Vulnerability:
    cam = camera()
    affected = _ids(cam, 0, 1)
    fixed = _ids(cam, 2)
    base = Vulnerability(
        cve="CVE-2026-21001",
        ids=(VulnerabilityId("CNVD", "CNVD-2026-04512"), VulnerabilityId("CNNVD", "CNNVD-202603-1187")),
        title=Text("Command injection in the web interface", "Web 界面命令注入"),
        description=Text(
            "The `ntp_server` parameter of the web interface is passed to a shell without neutralisation. "
            "An authenticated attacker with operator rights can run commands as root.",
            "Web 界面的 ntp_server 参数未经过滤即传入 shell。具有操作员权限的已认证攻击者可以 root 身份执行命令。",
        ),
        cwe=Cwe("CWE-78"),
        cvss_v3=CvssV3.from_vector("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C"),
        cvss_v4=CvssV4.from_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:P"),
        exploitation=Exploitation("poc", at(2026, 3, 20)),
        product_status=ProductStatus(known_affected=affected, first_fixed=fixed),
        remediations=(
            Remediation(
                "vendor_fix",
                Text(
                    "Update the firmware to 5.5.3 build 230211 or later.",
                    "请将固件升级到 5.5.3 build 230211 或更高版本。",
                ),
                affected,
                url="https://www.visiontek.example/support/firmware/ipc-2325",
                date=at(2026, 3, 15),
            ),
            Remediation(
                "workaround",
                Text(
                    "Restrict access to the web interface to trusted management networks.",
                    "仅允许受信任的管理网络访问 Web 界面。",
                ),
                affected,
            ),
        ),
        references=(
            Reference("https://www.cve.org/CVERecord?id=CVE-2026-21001", Text("CVE-2026-21001", "CVE-2026-21001")),
        ),
        acknowledgments=(
            Acknowledgment(names=("Li Wei",), organization="Example Security Lab", summary=Text("reported", "报告")),
        ),
        discovery_date=at(2026, 1, 12),
        release_date=at(2026, 3, 24),
    )
    return replace(base, **kw)


def advisory(**kw: Any) -> Advisory:
    """VT-SA-2026-004: one CVE in the camera, English and Chinese, revised once."""
    tracking_id = kw.pop("tracking_id", "VT-SA-2026-004")
    initial = at(2026, 3, 24)
    base = Advisory(
        tracking_id=tracking_id,
        title=Text("Command injection in IPC-2325 cameras", "IPC-2325 摄像机命令注入漏洞"),
        publisher=publisher(),
        initial_release_date=initial,
        current_release_date=at(2026, 4, 2),
        revisions=(
            Revision("2", at(2026, 4, 2), Text("Added the CNNVD ID.", "补充 CNNVD 编号。")),
            Revision("1", initial, Text("Initial release.", "首次发布。")),
        ),
        products=(camera(),),
        vulnerabilities=(camera_vulnerability(),),
        csaf_url=csaf_document_url(CSAF_BASE, tracking_id, initial),
        csaf_translation_url=csaf_translation_url(CSAF_BASE, tracking_id, initial),
        page_url=f"{SITE}/en/advisories/{tracking_id}/",
        summary=Text(
            "A command injection in the web interface of IPC-2325 cameras lets an operator run commands as root.",
            "IPC-2325 摄像机 Web 界面存在命令注入漏洞，操作员账户可以 root 身份执行命令。",
        ),
        description=Text(
            "VisionTek fixed the vulnerability in firmware 5.5.3.", "VisionTek 已在固件 5.5.3 中修复该漏洞。"
        ),
        impact=Text("Full control of the camera.", "攻击者可完全控制摄像机。"),
        workarounds=Text("Restrict access to the web interface.", "限制对 Web 界面的访问。"),
        legal_disclaimer=Text("This advisory is provided as is.", "本公告按原样提供。"),
        severity="High",
        references=(Reference("https://www.visiontek.example/support/firmware/ipc-2325", Text("Firmware downloads")),),
        acknowledgments=(Acknowledgment(names=("Li Wei",), organization="Example Security Lab"),),
    )
    return replace(base, **kw)


def advisory_without_cve(**kw: Any) -> Advisory:
    """A vulnerability known only by its CNVD ID, English only, no v4.0 score."""
    vuln = camera_vulnerability(
        cve=None,
        ids=(VulnerabilityId("CNVD", "CNVD-2026-07788"),),
        title=Text("Session fixation in the web interface"),
        description=Text("The session cookie is not renewed at login."),
        cwe=Cwe("CWE-384"),
        cvss_v3=CvssV3.from_vector("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N"),
        cvss_v4=None,
        exploitation=Exploitation("none"),
        acknowledgments=(),
    )
    base = advisory(
        tracking_id="VT-SA-2026-005",
        title=Text("Session fixation in IPC-2325 cameras"),
        vulnerabilities=(vuln,),
        acknowledgments=(),
        summary=Text("The web interface keeps the session ID across login."),
    )
    return replace(base, **kw)


def advisory_v4_only(**kw: Any) -> Advisory:
    """Scored with CVSS v4.0 only (CSAF 2.0 can carry it only as a note)."""
    therm = thermostat()
    affected = therm.status_ids(therm.versions[0])
    vuln = Vulnerability(
        cve="CVE-2026-30417",
        title=Text("Hard-coded credentials in the Modbus gateway", "Modbus 网关硬编码凭据"),
        description=Text(
            "The Modbus/TCP gateway accepts a maintenance password that is the same on every device.",
            "Modbus/TCP 网关接受一个在所有设备上相同的维护密码。",
        ),
        cwe=Cwe("CWE-798"),
        cvss_v4=CvssV4.from_vector("CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:L/SI:L/SA:L"),
        exploitation=Exploitation("active", at(2026, 5, 2)),
        product_status=ProductStatus(
            known_affected=affected,
            fixed=therm.status_ids(therm.versions[1]),
            known_not_affected=therm.status_ids(therm.versions[2]),
        ),
        remediations=(
            Remediation("vendor_fix", Text("Update to 2.14.0.", "升级到 2.14.0。"), affected),
            Remediation("mitigation", Text("Block TCP port 502 at the building network edge."), affected),
        ),
    )
    base = Advisory(
        tracking_id="BECA-SA-2026-001",
        title=Text("Hard-coded credentials in BAC-2000 thermostats", "BAC-2000 温控器硬编码凭据"),
        publisher=publisher(name="BECA Product Security", namespace="https://security.beca.example"),
        initial_release_date=at(2026, 5, 6),
        current_release_date=at(2026, 5, 6),
        revisions=(Revision("1", at(2026, 5, 6), Text("Initial release.", "首次发布。")),),
        products=(therm,),
        vulnerabilities=(vuln,),
        csaf_url=csaf_document_url(
            "https://security.beca.example/.well-known/csaf", "BECA-SA-2026-001", at(2026, 5, 6)
        ),
        csaf_translation_url=csaf_translation_url(
            "https://security.beca.example/.well-known/csaf", "BECA-SA-2026-001", at(2026, 5, 6)
        ),
        page_url="https://security.beca.example/en/advisories/BECA-SA-2026-001/",
        summary=Text("Thermostats accept a shared maintenance password.", "温控器接受共享的维护密码。"),
        severity="Critical",
    )
    return replace(base, **kw)


def advisory_many_products(**kw: Any) -> Advisory:
    """Two vulnerabilities over the camera, the recorder (two hardware revisions, EU variant) and a range: the
    product tree with every shape the renderer knows."""
    cam, nvr = camera(), recorder()
    nvr_old = nvr.status_ids(nvr.versions[0]) + nvr.status_ids(nvr.versions[1])
    nvr_new = nvr.status_ids(nvr.versions[2]) + nvr.status_ids(nvr.versions[3])
    # The second vulnerability only affects the B2 board (A1 has no such chip).
    nvr_b2_old = nvr.status_ids(nvr.versions[0], "B2") + nvr.status_ids(nvr.versions[1], "B2")
    nvr_a1_all = tuple(nvr.status_ids(v, "A1")[0] for v in nvr.versions)
    nvr_b2_new = nvr.status_ids(nvr.versions[2], "B2") + nvr.status_ids(nvr.versions[3], "B2")
    auth = Vulnerability(
        cve="CVE-2026-21002",
        title=Text("Authentication bypass in the ONVIF service", "ONVIF 服务认证绕过"),
        description=Text(
            "The ONVIF service accepts requests without a digest when a header is repeated.",
            "当请求头重复时，ONVIF 服务会接受不带摘要的请求。",
        ),
        cwe=Cwe("CWE-287"),
        cvss_v3=CvssV3.from_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N/CR:H/MAV:A"),
        cvss_v4=CvssV4.from_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N"),
        exploitation=Exploitation("active", at(2026, 6, 1)),
        product_status=ProductStatus(
            known_affected=cam.status_ids(cam.versions[0]) + cam.status_ids(cam.versions[1]) + nvr_old,
            fixed=cam.status_ids(cam.versions[2]) + nvr_new,
        ),
        remediations=(
            Remediation(
                "vendor_fix",
                Text("Update cameras to 5.5.3 and recorders to 4.3.0.", "将摄像机升级到 5.5.3，录像机升级到 4.3.0。"),
                cam.status_ids(cam.versions[0]) + cam.status_ids(cam.versions[1]) + nvr_old,
                url="https://www.visiontek.example/support/firmware",
            ),
        ),
        acknowledgments=(Acknowledgment(organization="CNCERT/CC", summary=Text("coordination", "协调")),),
    )
    chip = Vulnerability(
        cve="CVE-2026-21003",
        title=Text("Debug UART left enabled on B2 boards", "B2 主板调试串口未关闭"),
        description=Text("B2 boards expose a root shell on the debug UART.", "B2 主板的调试串口提供 root shell。"),
        cwe=Cwe("CWE-1191"),
        cvss_v3=CvssV3.from_vector("CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        product_status=ProductStatus(
            known_affected=nvr_b2_old,
            first_fixed=nvr_b2_new,
            known_not_affected=nvr_a1_all,
        ),
        remediations=(
            Remediation("vendor_fix", Text("Update to 4.3.0, which disables the UART shell."), nvr_b2_old),
            Remediation("no_fix_planned", Text("Boards keep the UART pads; seal the enclosure."), nvr_b2_old),
        ),
    )
    base = advisory(
        tracking_id="VT-SA-2026-011",
        title=Text("Several vulnerabilities in cameras and recorders", "摄像机和录像机中的多个漏洞"),
        products=(cam, nvr),
        vulnerabilities=(auth, chip),
        initial_release_date=at(2026, 6, 3),
        current_release_date=at(2026, 6, 3),
        revisions=(Revision("1", at(2026, 6, 3), Text("Initial release.", "首次发布。")),),
        severity="Critical",
    )
    base = replace(
        base,
        csaf_url=csaf_document_url(CSAF_BASE, base.tracking_id, base.initial_release_date),
        csaf_translation_url=csaf_translation_url(CSAF_BASE, base.tracking_id, base.initial_release_date),
    )
    return replace(base, **kw)


ALL_FACTORIES = {
    "standard": advisory,
    "without_cve": advisory_without_cve,
    "v4_only": advisory_v4_only,
    "many_products": advisory_many_products,
}


def bulk_csaf_documents(count: int, base: str = CSAF_BASE) -> list[list[dict[str, Any]]]:
    """`count` advisories as CSAF documents, made in bulk for provider-tree tests and benchmarks: each factory above
    is rendered once, and each advisory is a shallow copy of one of them with its own tracking data (ID, dates,
    version 1), title and self URL below `base`; one in five has its zh-Hans translation. Years 2019–2026 in turn,
    so every year folder fills."""
    from psirt.formats.csaf import render_csaf, render_csaf_translation

    rendered = []
    for make in ALL_FACTORIES.values():
        made = make()
        with_zh = replace(
            made,
            title=Text(made.title.en, made.title.zh or "中文标题"),
            csaf_translation_url=csaf_translation_url(base, made.tracking_id, made.initial_release_date),
        )
        rendered.append((render_csaf(made), render_csaf_translation(with_zh)))
    advisories: list[list[dict[str, Any]]] = []
    for n in range(count):
        english, chinese = rendered[n % len(rendered)]
        year = 2019 + n % 8
        tracking_id = f"EXAMPLE-SA-{year}-{n:06d}"
        initial = f"{year}-0{1 + n % 9}-1{n % 10}T08:00:00Z"
        current = f"{year}-0{1 + n % 9}-1{n % 10}T09:{n % 60:02d}:00Z"
        released = datetime.fromisoformat(initial)
        docs = []
        for doc in [english] + ([chinese] if chinese is not None and n % 5 == 0 else []):
            translated = doc is chinese
            url = (csaf_translation_url if translated else csaf_document_url)(base, tracking_id, released)
            tracking = {
                **doc["document"]["tracking"],
                "id": tracking_id,
                "initial_release_date": initial,
                "current_release_date": current,
                "revision_history": [{"date": current, "number": "1", "summary": "Initial publication."}],
                "version": "1",
            }
            document = {
                **doc["document"],
                "title": f"{doc['document']['title']} ({n})",
                "tracking": tracking,
                "references": [{"category": "self", "summary": "Canonical URL", "url": url}],
            }
            docs.append({**doc, "document": document})
        advisories.append(docs)
    return advisories


def revised_csaf_document(doc: dict[str, Any], current: str, summary: str = "Revised.") -> dict[str, Any]:
    """`doc` (as `bulk_csaf_documents` makes them) with one more revision, dated `current`."""
    tracking = doc["document"]["tracking"]
    number = str(len(tracking["revision_history"]) + 1)
    history = [*tracking["revision_history"], {"date": current, "number": number, "summary": summary}]
    tracking = {**tracking, "current_release_date": current, "revision_history": history, "version": number}
    return {**doc, "document": {**doc["document"], "tracking": tracking}}
