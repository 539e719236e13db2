"""Demo advisories for `psirt demo`: a handful of VisionTek advisories in every state a visitor or a handler
meets (published with revisions, expedited without a fix, withdrawn, a draft on the desk), written from demo
cases through the real services, so the publication policy holds for them too. Each case is opened from a
report and carries the facts its advisory shows (scores, CWE, exploitation and when the team learnt of it, IDs,
reference URLs, affected range and fix, the workaround): the advisory takes them from the case, so nothing
differs between the two.

Idempotent: an advisory whose English title exists already is not created again. Needs the demo catalog and
a lead account (`load_organization`, `load_catalog`, `load_accounts` run first); without them it says so and
does nothing. Runs as the `advisories` step of `psirt demo`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from psirt.accounts.models import Role, User
from psirt.advisories import services
from psirt.advisories.models import Advisory
from psirt.cases.models import Case, MitigationKind
from psirt.cases.services import cases as case_services
from psirt.cases.services import remediation
from psirt.catalog import services as catalog_services
from psirt.catalog.models import FirmwareRelease, Product
from psirt.demo.history import backdate_case, days_ago, schedule
from psirt.intake.services import ReportInput, submit_report
from psirt.pages.defaults import DEFAULT_PAGES
from psirt.pages.models import Page, PageSlug
from psirt.pages.services import update_page

Log = Callable[[str], None]


@dataclass(frozen=True)
class DemoAdvisory:
    """One demo advisory and the case it is written from. The facts (scores, CWE, exploitation, IDs, reference
    URLs, affected range, fix, workaround) are recorded on the case; the advisory takes them from there. The
    texts (title, summary, description, impact, actions) are the advisory's own."""

    product: str
    title_en: str
    title_zh: str
    summary_en: str
    summary_zh: str
    description_en: str
    description_zh: str
    days_ago: int
    cvss31: str = ""
    cvss40: str = ""
    cwe: int | None = None
    identifiers: tuple[str, ...] = ()
    reference_urls: tuple[str, ...] = ()
    exploitation: str = "none"
    # The range starts this many releases before the newest one of the catalog; the fix is a maintenance
    # release the demo adds two weeks before publication, with this release note (empty: no fix yet).
    introduced_back: int = 6
    fix_note_en: str = ""
    fix_note_zh: str = ""
    # The precautionary measure customers can take now; every demo advisory has one (VisionTek's policy asks for
    # it beside the fix).
    workarounds_en: str = (
        "Allow access to the device's web interface, RTSP and SDK ports only from trusted management networks "
        "until the fixed firmware is installed."
    )
    workarounds_zh: str = "在安装修复固件之前，仅允许受信任的管理网络访问设备的网页界面、RTSP 和 SDK 端口。"
    impact_en: str = "Loss of confidentiality, integrity or availability of the device, as scored below."
    impact_zh: str = "设备的机密性、完整性或可用性受损，程度见下方评分。"
    actions_en: str = (
        "Update to the fixed firmware listed below. Until you can, apply the workaround and keep the device's "
        "management interfaces off untrusted networks."
    )
    actions_zh: str = (
        "请升级到下方列出的修复固件。在升级之前，请采用临时解决措施，并确保设备的管理界面不暴露在不受信任的网络中。"
    )
    credits: str = ""
    expedite: str = ""
    # (summary en, summary zh, advisory text changes, identifiers the case gains first) per later revision.
    revisions: tuple[tuple[str, str, dict[str, Any], tuple[str, ...]], ...] = ()
    withdraw: str = ""
    publish: bool = True


ADVISORIES = [
    DemoAdvisory(
        product="vt-ipc-x5",
        title_en="Buffer overflow in the web interface of IPC-X5 cameras",
        title_zh="IPC-X5 摄像机网页界面缓冲区溢出",
        summary_en="An unauthenticated attacker on the network can run code on the camera.",
        summary_zh="网络中未经身份验证的攻击者可在摄像机上执行代码。",
        description_en=(
            "The web interface of the affected firmware copies the `Authorization` header of an HTTP request into "
            "a fixed-size buffer without checking its length. A remote attacker who can reach the web interface "
            "can send a crafted request, without signing in, to crash the camera or run code on it.\n\n"
            "**Who is at risk:** cameras whose web interface can be reached from an untrusted network."
        ),
        description_zh=(
            "受影响固件的网页界面在将 HTTP 请求的 `Authorization` 头复制到固定长度的缓冲区时未检查其长度。"
            "能够访问网页界面的远程攻击者无需登录即可发送特制请求，使摄像机崩溃或在其上执行代码。\n\n"
            "**受影响的用户**：网页界面可从不受信任的网络访问的摄像机。"
        ),
        days_ago=200,
        cvss31="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        cvss40="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        cwe=787,
        identifiers=("CVE-2026-20001",),
        reference_urls=("https://lab.example.org/research/2026/ipc-x5-auth-overflow",),
        workarounds_en="Block access to the web interface (TCP 80/443) from untrusted networks.",
        workarounds_zh="禁止不受信任的网络访问网页界面（TCP 80/443）。",
        credits="Li Wei, Example Security Lab",
        fix_note_en="**Security:** the web interface checks the length of the `Authorization` header.",
        fix_note_zh="**安全：** 网页界面会校验 `Authorization` 头的长度。",
        revisions=(
            ("CNVD ID added.", "增加 CNVD 编号。", {}, ("CNVD-2026-10001",)),
            (
                "Clarified the affected hardware revisions.",
                "明确受影响的硬件版本。",
                {
                    "impact_en": (
                        "Both hardware revisions (A1 and A2) are affected; the flaw is in the firmware, not the "
                        "hardware. An attacker can take full control of the camera and its video."
                    ),
                    "impact_zh": (
                        "两个硬件版本（A1 和 A2）均受影响；缺陷位于固件而非硬件。攻击者可完全控制摄像机及其视频。"
                    ),
                },
                (),
            ),
        ),
    ),
    DemoAdvisory(
        product="vt-nvr-s8",
        title_en="Hard-coded credentials in the NVR-S8 maintenance service",
        title_zh="NVR-S8 维护服务中存在硬编码凭据",
        summary_en="A maintenance account with a fixed password can be used from the local network.",
        summary_zh="可从局域网使用一个固定密码的维护账号。",
        description_en=(
            "The maintenance service of the affected firmware listens on TCP port 9530 and accepts a factory "
            "account whose password is the same on every recorder. An attacker on the same network can sign in "
            "with it, view and delete recordings and change the recorder's settings."
        ),
        description_zh=(
            "受影响固件的维护服务监听 TCP 9530 端口，并接受一个在所有录像机上密码相同的出厂账号。"
            "同一网络中的攻击者可使用该账号登录，查看和删除录像并修改录像机设置。"
        ),
        days_ago=120,
        cvss31="CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N",
        cwe=798,
        identifiers=("CVE-2026-20002",),
        workarounds_en="Block TCP port 9530 on the network the recorder is connected to.",
        workarounds_zh="在录像机所连接的网络中阻止 TCP 9530 端口。",
        credits="Anna Schmidt",
        fix_note_en="**Security:** removed the factory maintenance account; the maintenance service is off by default.",
        fix_note_zh="**安全：** 删除出厂维护账号；维护服务默认关闭。",
    ),
    DemoAdvisory(
        product="vt-t6",
        title_en="Cross-site scripting in the T6 thermostat's schedule editor",
        title_zh="T6 温控器日程编辑器中的跨站脚本",
        summary_en="A crafted schedule name runs script in the browser of an administrator who opens it.",
        summary_zh="特制的日程名称会在打开它的管理员浏览器中执行脚本。",
        description_en=(
            "The schedule editor of the thermostat's local web page shows schedule names without encoding them. "
            "A user who may edit schedules can give a schedule a name containing script, which then runs in the "
            "browser of an administrator who opens the schedule list."
        ),
        description_zh=(
            "温控器本地网页的日程编辑器在显示日程名称时未进行编码。有权编辑日程的用户可以在日程名称中写入脚本，"
            "当管理员打开日程列表时，该脚本会在其浏览器中执行。"
        ),
        days_ago=60,
        cvss31="CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N",
        cvss40="CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:P/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N",
        cwe=79,
        identifiers=("CNVD-2026-10003",),
        introduced_back=4,
        impact_en="An attacker can act in the administrator's name on the thermostat's web page.",
        impact_zh="攻击者可在温控器网页上以管理员的身份执行操作。",
        workarounds_en="Give schedule-editing rights only to trusted users.",
        fix_note_en="**Security:** schedule names are encoded when the schedule list shows them.",
        fix_note_zh="**安全：** 日程列表在显示日程名称时会进行编码。",
        workarounds_zh="仅向受信任的用户授予编辑日程的权限。",
    ),
    DemoAdvisory(
        product="vt-gw200",
        title_en="Command injection in the GW200 gateway's diagnostics page (actively exploited)",
        title_zh="GW200 网关诊断页面命令注入（已被利用）",
        summary_en="Attackers are exploiting this vulnerability. No fixed firmware yet: apply the workaround now.",
        summary_zh="该漏洞正被攻击者利用。尚无修复固件：请立即采用临时解决方案。",
        description_en=(
            "The ping test of the gateway's diagnostics page passes the host name it is given to a shell. "
            "An attacker who can reach the remote management interface can run commands as root on the gateway. "
            "VisionTek has seen this vulnerability exploited against customers' gateways."
        ),
        description_zh=(
            "网关诊断页面的 ping 测试会将所输入的主机名传递给 shell。能够访问远程管理界面的攻击者可在网关上以 root "
            "身份执行命令。维森泰克已发现该漏洞被用于攻击客户的网关。"
        ),
        days_ago=10,
        cvss31="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:H/RL:W/RC:C",
        cwe=78,
        identifiers=("CVE-2026-20004",),
        exploitation="active",
        impact_en="Full control of the gateway and of the building systems connected to it.",
        impact_zh="攻击者可完全控制网关及其所连接的楼宇系统。",
        actions_en=(
            "Apply the workaround now. VisionTek is preparing fixed firmware and will revise this advisory when it "
            "is available."
        ),
        actions_zh="请立即采用临时解决措施。维森泰克正在准备修复固件，发布后将更新本公告。",
        workarounds_en="Disable remote management: Settings → Network → Remote access → Off.",
        workarounds_zh="关闭远程管理：设置 → 网络 → 远程访问 → 关闭。",
        expedite="Exploitation observed against customers' gateways; they must be able to protect themselves now.",
    ),
    DemoAdvisory(
        product="vt-ipc-d3",
        title_en="Denial of service in the RTSP server of IPC-D3 dome cameras",
        title_zh="IPC-D3 半球摄像机 RTSP 服务拒绝服务",
        summary_en="A malformed RTSP request was reported to stop the camera's video streams.",
        summary_zh="有报告称，畸形的 RTSP 请求会使摄像机的视频码流中断。",
        description_en=(
            "A report said that an RTSP SETUP request with an overlong transport header stops the camera's "
            "video streams until it is restarted."
        ),
        description_zh="有报告称，传输头过长的 RTSP SETUP 请求会使摄像机的视频码流中断，直至重启。",
        days_ago=90,
        cvss31="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L",
        cwe=400,
        fix_note_en="Improved handling of malformed RTSP requests.",
        fix_note_zh="改进了对畸形 RTSP 请求的处理。",
        revisions=(
            (
                "Analysis completed: IPC-D3 cameras are not affected; no action is needed.",
                "分析已完成：IPC-D3 摄像机不受影响，无需采取任何措施。",
                {
                    "impact_en": "None: the streams stop in a third-party RTSP client, not in the camera.",
                    "impact_zh": "无：码流中断发生在第三方 RTSP 客户端中，而非摄像机。",
                    "actions_en": "No action is needed: IPC-D3 cameras are not affected.",
                    "actions_zh": "无需采取任何措施：IPC-D3 摄像机不受影响。",
                },
                (),
            ),
        ),
        withdraw=(
            "Further analysis showed the problem is in a third-party RTSP client, not in VisionTek firmware; "
            "IPC-D3 cameras are not affected."
        ),
    ),
    DemoAdvisory(
        product="vt-ptz-p9",
        title_en="Path traversal in the PTZ-P9 firmware upload",
        title_zh="PTZ-P9 固件上传路径遍历",
        summary_en="An administrator-level attacker can write files outside the upload folder.",
        summary_zh="具有管理员权限的攻击者可将文件写到上传目录之外。",
        description_en=(
            "The firmware upload of the affected speed domes keeps the file name the browser sends, including "
            "`../`. An attacker with an administrator account can write files outside the upload folder and so "
            "replace system files."
        ),
        description_zh=(
            "受影响的高速球机在固件上传时沿用浏览器发送的文件名（包括 `../`）。拥有管理员账号的攻击者可将文件写到"
            "上传目录之外，从而替换系统文件。"
        ),
        days_ago=-10,  # a draft for a disclosure date ten days ahead
        cvss31="CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:N/I:H/A:N",
        cwe=22,
        identifiers=("CVE-2026-20006",),
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
    handler = User.objects.filter(role=Role.HANDLER, is_active=True).order_by("email").first() or lead
    existing = set(
        Advisory.objects.filter(title_en__in=[d.title_en for d in ADVISORIES]).values_list("title_en", flat=True)
    )
    for n, spec in enumerate(ADVISORIES, start=1):
        if spec.title_en in existing:
            continue
        product = Product.objects.filter(slug=spec.product).first()
        if product is None:
            log(f"advisories: skipped {spec.product} (not in the catalog)")
            continue
        with transaction.atomic():
            advisory = _create(spec, product, lead, handler, n)
        log(f"advisory: {advisory.advisory_id} ({advisory.get_state_display()})")


def _fix_release(
    spec: DemoAdvisory, product: Product, releases: list[FirmwareRelease], lead: User, published: dt.datetime
) -> FirmwareRelease | None:
    """The maintenance release that fixes the vulnerability, out two weeks before the advisory: the next patch
    version after the newest release, noting the fix (the advisory ID is added once it is published)."""
    if not spec.fix_note_en or not releases:
        return None
    match = re.match(r"V(\d+)\.(\d+)\.(\d+)", releases[-1].version)
    major, minor, patch = (int(part) for part in match.groups()) if match else (1, 0, 0)
    day = timezone.localdate(published) - dt.timedelta(days=14)
    base = f"V{major}.{minor}.{patch + 1}"
    return catalog_services.create_release(
        actor=lead,
        product=product,
        version=f"{base} build {day:%y%m%d}",
        position=catalog_services.next_release_position(product=product),
        release_date=day,
        download_url=f"https://download.visiontek.example/firmware/{product.slug}/{base}_{day:%y%m%d}.zip",
        notes_en=f"- {spec.fix_note_en}\n- Stability improvements.",
        notes_zh=f"- {spec.fix_note_zh}\n- 提升了系统稳定性。",
    )


def _case_for(spec: DemoAdvisory, product: Product, lead: User, handler: User, n: int, published: dt.datetime) -> Case:
    """The case behind the advisory, opened from a report and taken to "awaiting disclosure" through the case
    desk's services, carrying every fact the advisory will show."""
    report = submit_report(
        data=ReportInput(
            reporter_name=spec.credits.split(",")[0] or f"Demo Researcher {200 + n}",
            reporter_email=f"researcher{200 + n}@demo.test",
            description=spec.description_en.split("\n\n")[0],
            product=product,
            accepted_guidelines=True,
            credit=spec.credits,
        ),
        send_acknowledgment=False,
        language="en",
    ).report
    case = case_services.open_case(report=report, actor=lead, title=spec.title_en, assignees=[handler])
    for vector in (spec.cvss31, spec.cvss40):
        if vector:
            case_services.set_cvss(case=case, vector=vector, actor=handler)
    if spec.cwe:
        case_services.set_cwe(case=case, cwe=spec.cwe, actor=handler)
    for value in (*spec.identifiers, *spec.reference_urls):
        case_services.add_reference(case=case, value=value, actor=handler)
    if spec.exploitation != "none":
        case_services.set_exploitation(
            case=case, status=spec.exploitation, aware_at=published - dt.timedelta(days=4), actor=handler
        )
    for step in ("acknowledged", "triage", "confirmed", "remediation", "awaiting_disclosure"):
        case = case_services.transition(case=case, to_state=step, actor=handler)
    releases = list(FirmwareRelease.objects.filter(product=product, variant="").order_by("position"))
    introduced = _release(releases, spec.introduced_back)
    fixed = _fix_release(spec, product, releases, lead, published)
    remediation.set_affected_range(case=case, product=product, introduced=introduced, fixed=fixed, actor=handler)
    remediation.add_mitigation(
        case=case,
        text_en=spec.workarounds_en,
        text_zh=spec.workarounds_zh,
        kind=MitigationKind.WORKAROUND,
        sufficient=True,
        actor=handler,
    )
    return case_services.set_disclosure_date(case=case, date=timezone.localdate(published), actor=handler)


def _create(spec: DemoAdvisory, product: Product, lead: User, handler: User, n: int) -> Advisory:
    published_at = days_ago(spec.days_ago) if spec.days_ago else timezone.now()
    case = _case_for(spec, product, lead, handler, n, published_at)
    # The draft takes its facts from the case; the demo writes only the advisory's own texts.
    advisory = services.create_advisory(cases=[case], actor=lead)
    advisory = services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={
            "title_en": spec.title_en,
            "title_zh": spec.title_zh,
            "summary_en": spec.summary_en,
            "summary_zh": spec.summary_zh,
            "description_en": spec.description_en,
            "description_zh": spec.description_zh,
            "impact_en": spec.impact_en,
            "impact_zh": spec.impact_zh,
            "actions_en": spec.actions_en,
            "actions_zh": spec.actions_zh,
        },
    )
    received = published_at - dt.timedelta(days=75)
    if not spec.publish:
        received = days_ago(20)
        backdate_case(case, received=received, times=_steps(received, until=timezone.now()))
        return advisory
    if spec.expedite:
        services.set_expedite_justification(advisory=advisory, actor=lead, justification=spec.expedite)
        services.approve_expedite(advisory=advisory, actor=lead)
        advisory = services.publish_advisory(advisory=advisory, actor=lead, expedite=True, now=published_at)
        received = published_at - dt.timedelta(days=12)
    else:
        services.submit_for_review(advisory=advisory, actor=lead)
        services.approve_advisory(advisory=advisory, actor=lead)
        advisory = services.publish_advisory(advisory=advisory, actor=lead, now=published_at)
    for summary_en, summary_zh, changes, new_identifiers in spec.revisions:
        for value in new_identifiers:
            case_services.add_reference(case=case, value=value, actor=handler)
        if new_identifiers:
            changes = {**changes, "identifiers": "\n".join((*spec.identifiers, *new_identifiers))}
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
    else:
        _note_fix(advisory, lead)
    backdate_case(case, received=received, times=_steps(received, until=published_at))
    return advisory


def _steps(received: dt.datetime, *, until: dt.datetime) -> dict[str, dt.datetime]:
    """The case's way from receipt to "awaiting disclosure" within `until` (publication, or now for a draft),
    published at `until`."""
    step = (until - received) / 8
    return schedule(
        received,
        acknowledged=received + step,
        triage=received + 2 * step,
        confirmed=received + 3 * step,
        remediation=received + 4 * step,
        awaiting_disclosure=received + 6 * step,
        published=until,
    )


def _note_fix(advisory: Advisory, lead: User) -> None:
    """The fixing release's security note names the advisory and its IDs, as a vendor's release notes do once
    the advisory is published."""
    ids = ", ".join([advisory.advisory_id, *advisory.identifiers.split()])
    for row in advisory.affected.select_related("fixed"):
        release = row.fixed
        if release is None or not release.notes_en.startswith("- **"):
            continue
        first_en, _sep, rest_en = release.notes_en.partition("\n")
        first_zh, _sep, rest_zh = release.notes_zh.partition("\n")
        catalog_services.update_release(
            actor=lead,
            release=release,
            notes_en=f"{first_en.rstrip('.')} ({ids}).\n{rest_en}",
            notes_zh=f"{first_zh.rstrip('。')}（{ids}）。\n{rest_zh}",
        )


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
    "minimum_severity": "None",
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
