"""Demo advisories for `psirt demo`: a handful of VisionTek advisories in every state a visitor or a handler
meets (published with revisions, expedited without a fix, withdrawn, a draft on the desk), written from demo
cases through the real services, so the publication policy holds for them too.

Idempotent: an advisory whose English title exists already is not created again. Needs the demo catalog and
a lead account (`load_organization`, `load_catalog`, `load_accounts` run first); without them it says so and
does nothing. Runs as the `advisories` step of `psirt demo`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from psirt.accounts.models import Role, User
from psirt.advisories import services
from psirt.advisories.models import Advisory
from psirt.advisories.services.case_facts import create_demo_case
from psirt.cases.services import cases as case_services
from psirt.catalog.models import FirmwareRelease, Product
from psirt.pages.defaults import DEFAULT_PAGES
from psirt.pages.models import Page, PageSlug
from psirt.pages.services import update_page

Log = Callable[[str], None]


@dataclass(frozen=True)
class DemoAdvisory:
    product: str
    title_en: str
    title_zh: str
    summary_en: str
    summary_zh: str
    days_ago: int
    cvss31: str = ""
    cvss40: str = ""
    cwe: int | None = None
    identifiers: str = ""
    exploitation: str = "none"
    # Positions counted from the newest release: the range starts this many releases back, and the fix is
    # this many releases back (None: no fix yet).
    introduced_back: int = 6
    fixed_back: int | None = 2
    # The precautionary measure customers can take now; every demo advisory has one (VisionTek's policy asks for
    # it beside the fix).
    workarounds_en: str = (
        "Allow access to the device's web interface, RTSP and SDK ports only from trusted management networks "
        "until the fixed firmware is installed."
    )
    workarounds_zh: str = "在安装修复固件之前，仅允许受信任的管理网络访问设备的网页界面、RTSP 和 SDK 端口。"
    credits: str = ""
    expedite: str = ""
    revisions: tuple[tuple[str, str, dict[str, Any]], ...] = ()
    withdraw: str = ""
    publish: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


DESCRIPTION_EN = (
    "The web interface of the affected firmware does not check the length of a field of an HTTP request "
    "before copying it. A remote attacker can send a crafted request to crash the service or run code.\n\n"
    "**Who is at risk:** devices whose web interface can be reached from an untrusted network."
)
DESCRIPTION_ZH = (
    "受影响固件的网页界面在复制 HTTP 请求中的某个字段前未检查其长度。远程攻击者可发送特制请求使服务崩溃或执行代码。\n\n"
    "**受影响的用户**：网页界面可从不受信任的网络访问的设备。"
)
IMPACT_EN = "Loss of confidentiality, integrity or availability of the device, as scored below."
IMPACT_ZH = "设备的机密性、完整性或可用性受损，程度见下方评分。"
ACTIONS_EN = (
    "Update to the fixed firmware listed below. Until you can, apply the workarounds and keep the device's "
    "management interfaces off untrusted networks."
)
ACTIONS_ZH = (
    "请升级到下方列出的修复固件。在升级之前，请采用临时解决措施，并确保设备的管理界面不暴露在不受信任的网络中。"
)

ADVISORIES = [
    DemoAdvisory(
        product="vt-ipc-x5",
        title_en="Buffer overflow in the web interface of IPC-X5 cameras",
        title_zh="IPC-X5 摄像机网页界面缓冲区溢出",
        summary_en="An unauthenticated attacker on the network can run code on the camera.",
        summary_zh="网络中未经身份验证的攻击者可在摄像机上执行代码。",
        days_ago=200,
        cvss31="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        cvss40="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        cwe=787,
        identifiers="CVE-2026-20001\nCNVD-2026-10001",
        workarounds_en="Block access to the web interface (TCP 80/443) from untrusted networks.",
        workarounds_zh="禁止不受信任的网络访问网页界面（TCP 80/443）。",
        credits="Li Wei, Example Security Lab",
        revisions=(
            ("CNVD ID added.", "增加 CNVD 编号。", {}),
            ("Clarified the affected hardware revisions.", "明确受影响的硬件版本。", {}),
        ),
    ),
    DemoAdvisory(
        product="vt-nvr-s8",
        title_en="Hard-coded credentials in the NVR-S8 maintenance service",
        title_zh="NVR-S8 维护服务中存在硬编码凭据",
        summary_en="A maintenance account with a fixed password can be used from the local network.",
        summary_zh="可从局域网使用一个固定密码的维护账号。",
        days_ago=120,
        cvss31="CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N",
        cwe=798,
        identifiers="CVE-2026-20002",
        credits="Anna Schmidt",
    ),
    DemoAdvisory(
        product="vt-t6",
        title_en="Cross-site scripting in the T6 thermostat's schedule editor",
        title_zh="T6 温控器日程编辑器中的跨站脚本",
        summary_en="A crafted schedule name runs script in the browser of an administrator who opens it.",
        summary_zh="特制的日程名称会在打开它的管理员浏览器中执行脚本。",
        days_ago=60,
        cvss31="CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N",
        cvss40="CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:P/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N",
        cwe=79,
        identifiers="CNVD-2026-10003",
        introduced_back=4,
        fixed_back=1,
    ),
    DemoAdvisory(
        product="vt-gw200",
        title_en="Command injection in the GW200 gateway's diagnostics page (actively exploited)",
        title_zh="GW200 网关诊断页面命令注入（已被利用）",
        summary_en="Attackers are exploiting this vulnerability. No fixed firmware yet: apply the workaround now.",
        summary_zh="该漏洞正被攻击者利用。尚无修复固件：请立即采用临时解决方案。",
        days_ago=10,
        cvss31="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:H/RL:W/RC:C",
        cwe=78,
        identifiers="CVE-2026-20004",
        exploitation="active",
        fixed_back=None,
        workarounds_en="Disable remote management: Settings → Network → Remote access → Off.",
        workarounds_zh="关闭远程管理：设置 → 网络 → 远程访问 → 关闭。",
        expedite="Exploitation observed against customers' gateways; they must be able to protect themselves now.",
    ),
    DemoAdvisory(
        product="vt-dvr-h4",
        title_en="Denial of service in the DVR-H4 RTSP server",
        title_zh="DVR-H4 RTSP 服务拒绝服务",
        summary_en="Withdrawn: the issue was found to be in a third-party client, not in the recorder.",
        summary_zh="已撤回：问题位于第三方客户端，而非录像机。",
        days_ago=90,
        cvss31="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L",
        cwe=400,
        withdraw="The problem is in a third-party RTSP client, not in VisionTek firmware.",
    ),
    DemoAdvisory(
        product="vt-ptz-p9",
        title_en="Path traversal in the PTZ-P9 firmware upload",
        title_zh="PTZ-P9 固件上传路径遍历",
        summary_en="An administrator-level attacker can write files outside the upload folder.",
        summary_zh="具有管理员权限的攻击者可将文件写到上传目录之外。",
        days_ago=0,
        cvss31="CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:N/I:H/A:N",
        cwe=22,
        publish=False,
    ),
]


def _lead() -> User | None:
    return User.objects.filter(role=Role.LEAD, is_active=True).order_by("pk").first()


def _release(releases: list[FirmwareRelease], back: int | None) -> FirmwareRelease | None:
    if back is None or not releases:
        return None
    return releases[max(0, len(releases) - 1 - back)]


def load_demo_advisories(log: Log = print) -> None:
    """Create the demo advisories that do not exist yet (see the module docstring)."""
    lead = _lead()
    if lead is None:
        log("advisories: skipped (no lead account; load the demo accounts first)")
        return
    existing = set(
        Advisory.objects.filter(title_en__in=[d.title_en for d in ADVISORIES]).values_list("title_en", flat=True)
    )
    for spec in ADVISORIES:
        if spec.title_en in existing:
            continue
        product = Product.objects.filter(slug=spec.product).first()
        if product is None:
            log(f"advisories: skipped {spec.product} (not in the catalog)")
            continue
        with transaction.atomic():
            advisory = _create(spec, product, lead)
        log(f"advisory: {advisory.advisory_id} ({advisory.get_state_display()})")


def _create(spec: DemoAdvisory, product: Product, lead: User) -> Advisory:
    published_at = timezone.now() - dt.timedelta(days=spec.days_ago)
    case = create_demo_case(
        product=product,
        title=spec.title_en,
        disclosure_date=timezone.localdate(published_at),
        exploitation=spec.exploitation,
        actor=lead,
    )
    # The case carries the same scores as its advisory, so the desk's severity column is filled too.
    for vector in (spec.cvss31, spec.cvss40):
        if vector:
            case = case_services.set_cvss(case=case, vector=vector, actor=lead)
    advisory = services.create_advisory(cases=[case], actor=lead)
    releases = list(FirmwareRelease.objects.filter(product=product, variant="").order_by("position"))
    introduced = _release(releases, spec.introduced_back)
    fixed = _release(releases, spec.fixed_back)
    if introduced is not None and fixed is not None and introduced.position >= fixed.position:
        introduced = None
    advisory = services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={
            "title_en": spec.title_en,
            "title_zh": spec.title_zh,
            "summary_en": spec.summary_en,
            "summary_zh": spec.summary_zh,
            "description_en": DESCRIPTION_EN,
            "description_zh": DESCRIPTION_ZH,
            "impact_en": IMPACT_EN,
            "impact_zh": IMPACT_ZH,
            "actions_en": ACTIONS_EN,
            "actions_zh": ACTIONS_ZH,
            "workarounds_en": spec.workarounds_en,
            "workarounds_zh": spec.workarounds_zh,
            "mitigation_sufficient": True,
            "cvss31_vector": spec.cvss31,
            "cvss40_vector": spec.cvss40,
            "cwe_id": spec.cwe,
            "identifiers": spec.identifiers,
            "exploitation": spec.exploitation,
            "credits_en": spec.credits,
            **spec.extra,
        },
        affected=[services.AffectedInput(product=product, introduced=introduced, fixed=fixed)],
    )
    if not spec.publish:
        return advisory
    if spec.expedite:
        services.set_expedite_justification(advisory=advisory, actor=lead, justification=spec.expedite)
        services.approve_expedite(advisory=advisory, actor=lead)
        advisory = services.publish_advisory(advisory=advisory, actor=lead, expedite=True, now=published_at)
    else:
        services.submit_for_review(advisory=advisory, actor=lead)
        services.approve_advisory(advisory=advisory, actor=lead)
        advisory = services.publish_advisory(advisory=advisory, actor=lead, now=published_at)
    for summary_en, summary_zh, changes in spec.revisions:
        # A published advisory changes through a revision reviewed like its first publication.
        services.update_advisory(
            advisory=advisory,
            actor=lead,
            changes=changes,
            revision_summary_en=summary_en,
            revision_summary_zh=summary_zh,
        )
        if spec.expedite:
            services.set_expedite_justification(advisory=advisory, actor=lead, justification=spec.expedite)
            services.approve_expedite(advisory=advisory, actor=lead)
        else:
            services.submit_for_review(advisory=advisory, actor=lead)
            services.approve_advisory(advisory=advisory, actor=lead)
        advisory = services.publish_advisory(advisory=advisory, actor=lead, expedite=bool(spec.expedite))
    if spec.withdraw:
        advisory = services.withdraw_advisory(advisory=advisory, actor=lead, reason=spec.withdraw)
    return advisory


def set_demo_policy(log: Callable[[str], None], settings: dict[str, Any]) -> None:
    """Make `settings` the publication policy in force, written by the demo lead; nothing when it already is (a
    second run writes no new version)."""
    current = services.policy_settings(services.current_policy())
    if all(current[name] == value for name, value in settings.items()):
        return
    lead = User.objects.filter(role=Role.LEAD, is_active=True).order_by("pk").first()
    if lead is None:
        log("policy: skipped, no lead account")
        return
    services.set_publication_policy(actor=lead, **settings)
    log("policy: " + ", ".join(f"{name}={value}" for name, value in settings.items()))


# VisionTek discloses "when security problems have precautionary measures and fix patches": a normal advisory
# needs both a fix and a sufficient mitigation, and the agreed date; an actively exploited vulnerability or one
# of public concern is expedited with a lead's approval.
VISIONTEK_POLICY: dict[str, Any] = {
    "minimum_severity": "any",
    "required_remedy": "both",
    "require_disclosure_date": True,
    "expedite_when_exploited": True,
    "expedite_when_public_concern": True,
    "expedite_requires_fix": False,
}


# The disclosure page's first condition, in VisionTek's words (both a fix and a precautionary measure).
POLICY_PAGE_CHANGES = (
    (
        "and a fix\n   or mitigation sufficient to help customers eliminate the security risk is available.",
        "and both a fix\n   and a precautionary measure sufficient to help customers eliminate the security risk are "
        "available.",
    ),
    (
        "并且已有修复方案或足以帮助客户消除安全风险的缓解措施。",
        "并且修复方案和足以帮助客户消除安全风险的预防措施均已具备。",
    ),
)


def load_policy(log: Callable[[str], None]) -> None:
    """VisionTek's publication policy (`VISIONTEK_POLICY`), set once by the demo lead, and its disclosure page
    saying the same (only while the page still holds the installation's default text)."""
    set_demo_policy(log, VISIONTEK_POLICY)
    page = Page.objects.filter(slug=PageSlug.POLICY).first()
    default = DEFAULT_PAGES[PageSlug.POLICY]
    if page is None or (page.body_en, page.body_zh) != (default.body_en, default.body_zh):
        return
    body_en, body_zh = default.body_en, default.body_zh
    (old_en, new_en), (old_zh, new_zh) = POLICY_PAGE_CHANGES
    update_page(actor=None, page=page, body_en=body_en.replace(old_en, new_en), body_zh=body_zh.replace(old_zh, new_zh))
    log("pages: policy (a fix and a precautionary measure)")
