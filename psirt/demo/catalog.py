"""Demo data for `psirt demo`: a fictional camera/recorder and thermostat vendor, its catalog and four demo
accounts. Running it again changes nothing, and never undoes what someone edited since: the profile is only
filled while it still holds the install defaults, the catalog only when none of its demo lines exists, and
only missing demo accounts are created."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from psirt.accounts.models import User
from psirt.accounts.services import create_user
from psirt.catalog import services
from psirt.catalog.models import ProductLine
from psirt.organization.models import OrganizationProfile
from psirt.organization.services import update_organization

Log = Callable[[str], None]

# The demo vendor. The footer imitates a Chinese ICP licence line; the number is fictional (year 2099).
ORGANIZATION: dict[str, Any] = {
    "name_en": "VisionTek",
    "name_zh": "维森泰克",
    "advisory_prefix": "VT",
    "security_email": "security@visiontek.example",
    "lab_email": "lab@visiontek.example",
    "website": "https://www.visiontek.example",
    "footer_en": "闽ICP备2099000001号-1 · Demo data: VisionTek is a fictional vendor",
    "footer_zh": "闽ICP备2099000001号-1 · 演示数据：维森泰克为虚构厂商",
    "calendar_country": "CN",
    "ack_business_days": 5,
    "remediation_days": 90,
}

DEMO_ACCOUNTS = [
    # email, role, name
    ("lead@demo.test", "lead", "Li Na (demo lead)"),
    ("handler1@demo.test", "handler", "Wang Wei (demo handler)"),
    ("handler2@demo.test", "handler", "Chen Jing (demo handler)"),
    ("engineer@demo.test", "engineer", "Zhang Tao (demo camera engineer)"),
]
ENGINEER_LINE = "ip-cameras-recorders"

LINES: list[dict[str, Any]] = [
    {
        "slug": "ip-cameras-recorders",
        "name_en": "IP cameras and recorders",
        "name_zh": "网络摄像机与录像机",
        "description_en": "Network cameras, speed domes and video recorders for video surveillance.",
        "description_zh": "用于视频监控的网络摄像机、高速球机和录像机。",
        "position": 1,
    },
    {
        "slug": "thermostats-controllers",
        "name_en": "Thermostats and controllers",
        "name_zh": "温控器与控制器",
        "description_en": "Room thermostats, floor-heating controllers and building gateways.",
        "description_zh": "房间温控器、地暖控制器和楼宇网关。",
        "position": 2,
    },
]

CAMERA_NOTES = [
    (
        "Improved ONVIF Profile S and Profile T compatibility with third-party recorders.",
        "改进了与第三方录像机的 ONVIF Profile S 和 Profile T 兼容性。",
    ),
    ("Improved night-vision image quality in low light.", "改善了低照度环境下的夜视图像质量。"),
    (
        "Fixed an occasional RTSP stream interruption after 72 hours of continuous operation.",
        "修复了连续运行 72 小时后 RTSP 码流偶尔中断的问题。",
    ),
    ("Added H.265+ smart encoding to reduce storage use.", "新增 H.265+ 智能编码，降低存储占用。"),
    ("Fixed a memory leak in motion-detection alarms.", "修复了移动侦测报警中的内存泄漏问题。"),
    ("Added line-crossing and intrusion detection rules.", "新增越界侦测和区域入侵侦测规则。"),
]
RECORDER_NOTES = [
    ("Added support for 12 MP cameras.", "新增对 1200 万像素摄像机的支持。"),
    ("Fixed playback search across daylight-saving time changes.", "修复了夏令时切换前后录像回放检索的问题。"),
    ("Faster RAID rebuild after a disk replacement.", "更换硬盘后 RAID 重建速度更快。"),
    ("Improved smart search in recorded video.", "改进了录像智能检索功能。"),
    ("Fixed the HDMI output resolution after a restart.", "修复了重启后 HDMI 输出分辨率异常的问题。"),
    ("Upgrades connected cameras from the recorder.", "支持通过录像机为所连接的摄像机升级固件。"),
]
THERMOSTAT_NOTES = [
    ("Improved temperature control accuracy (±0.5 °C).", "提高了温度控制精度（±0.5 °C）。"),
    ("Fixed the loss of weekly schedules after a power failure.", "修复了断电后每周定时计划丢失的问题。"),
    ("Added a floor-temperature limit to protect wooden floors.", "新增地板温度上限保护，保护木地板。"),
    (
        "Added the Modbus RTU register map for building management systems.",
        "新增面向楼宇管理系统的 Modbus RTU 寄存器表。",
    ),
    ("Improved display brightness and backlight timeout settings.", "改进了显示亮度和背光超时设置。"),
    ("Added BACnet/IP support.", "新增 BACnet/IP 协议支持。"),
]
SECURITY_NOTES = [
    (
        "**Security:** improved validation of request parameters in the web interface.",
        "**安全：** 加强了 Web 界面对请求参数的校验。",
    ),
    ("**Security:** updated OpenSSL to the latest 3.0 release.", "**安全：** 将 OpenSSL 升级至最新的 3.0 版本。"),
    (
        "**Security:** the default password must now be changed at the first sign-in.",
        "**安全：** 首次登录时必须修改默认密码。",
    ),
    (
        "**Security:** Telnet and unused debug services are disabled by default.",
        "**安全：** 默认关闭 Telnet 及未使用的调试服务。",
    ),
    ("**Security:** session tokens are renewed after sign-in.", "**安全：** 登录后重新生成会话令牌。"),
    (
        "**Security:** the cloud connection now verifies the server certificate.",
        "**安全：** 云端连接现会校验服务器证书。",
    ),
    (
        "**Security:** the Wi-Fi setup access point closes after 10 minutes.",
        "**安全：** Wi-Fi 配网热点将在 10 分钟后自动关闭。",
    ),
]
VARIANT_NOTES = {
    "EU": (
        "EU build: radio settings and data-protection defaults for the European market.",
        "欧盟版本：适用于欧洲市场的无线电设置和数据保护默认配置。",
    ),
    "CN": (
        "China build: operator cloud platform integration for the Chinese market.",
        "中国版本：集成面向中国市场的运营商云平台。",
    ),
}


# Every note pool has six entries: releases step through it with stride 5 (coprime to 6).
assert len(CAMERA_NOTES) == len(RECORDER_NOTES) == len(THERMOSTAT_NOTES) == 6


@dataclass(frozen=True)
class DemoProduct:
    """One demo product and how its release history is generated: `count` standard releases starting at
    `first_version` on `first_date`, one every `interval_days`; `variants` adds (variant, how many of the
    latest releases also ship in that variant)."""

    line: str
    slug: str
    name: str
    models: str
    hardware: str
    description_en: str
    description_zh: str
    first_version: tuple[int, int, int]
    first_date: datetime.date
    interval_days: int
    count: int
    notes: list[tuple[str, str]]
    variants: tuple[tuple[str, int], ...] = ()
    end_of_support: datetime.date | None = None
    download_host: str = "download.visiontek.example"


PRODUCTS = [
    DemoProduct(
        "ip-cameras-recorders",
        "vt-ipc-x5",
        "VT-IPC X5 Bullet Camera",
        "VT-IPC5231-I, VT-IPC5431-I, VT-IPC5831-I",
        "A1, A2",
        "Outdoor bullet camera, 2–8 MP, infrared up to 60 m.",
        "室外筒型网络摄像机，200 万至 800 万像素，红外距离可达 60 米。",
        (5, 5, 0),
        datetime.date(2023, 3, 14),
        120,
        10,
        CAMERA_NOTES,
        variants=(("EU", 4),),
    ),
    DemoProduct(
        "ip-cameras-recorders",
        "vt-ipc-d3",
        "VT-IPC D3 Dome Camera",
        "VT-IPC3241-D, VT-IPC3441-D",
        "B1",
        "Indoor vandal-proof dome camera.",
        "室内防暴半球网络摄像机。",
        (5, 4, 2),
        datetime.date(2023, 6, 2),
        110,
        9,
        CAMERA_NOTES,
    ),
    DemoProduct(
        "ip-cameras-recorders",
        "vt-ptz-p9",
        "VT-PTZ P9 Speed Dome",
        "VT-PTZ9225-IR, VT-PTZ9432-IR",
        "A1",
        "Pan-tilt-zoom speed dome with 25× or 32× optical zoom.",
        "支持 25 倍或 32 倍光学变焦的云台高速球机。",
        (5, 6, 0),
        datetime.date(2024, 1, 10),
        120,
        7,
        CAMERA_NOTES,
    ),
    DemoProduct(
        "ip-cameras-recorders",
        "vt-nvr-s8",
        "VT-NVR S8 Network Video Recorder",
        "VT-NVR2108, VT-NVR2108-P, VT-NVR2116-P",
        "A1",
        "8- and 16-channel network video recorder, PoE models available.",
        "8 路和 16 路网络硬盘录像机，提供 PoE 型号。",
        (4, 2, 0),
        datetime.date(2023, 2, 20),
        125,
        10,
        RECORDER_NOTES,
        variants=(("CN", 4),),
    ),
    DemoProduct(
        "ip-cameras-recorders",
        "vt-dvr-h4",
        "VT-DVR H4 Hybrid Recorder",
        "VT-DVR7104-H, VT-DVR7108-H",
        "A1",
        "Hybrid recorder for analogue and IP cameras.",
        "支持模拟和网络摄像机的混合录像机。",
        (3, 8, 1),
        datetime.date(2021, 11, 5),
        150,
        6,
        RECORDER_NOTES,
        end_of_support=datetime.date(2024, 12, 31),
    ),
    DemoProduct(
        "thermostats-controllers",
        "vt-t6",
        "VT-T6 Smart Wi-Fi Thermostat",
        "VT-T6-WH, VT-T6-WE, VT-T6-WG",
        "R1, R2",
        "Wi-Fi room thermostat for water heating, electric heating and gas boilers.",
        "适用于水暖、电暖和燃气壁挂炉的 Wi-Fi 房间温控器。",
        (2, 1, 0),
        datetime.date(2023, 4, 18),
        150,
        8,
        THERMOSTAT_NOTES,
        variants=(("EU", 3),),
    ),
    DemoProduct(
        "thermostats-controllers",
        "vt-t3",
        "VT-T3 Fan-Coil Thermostat",
        "VT-T3-2P, VT-T3-4P",
        "R1",
        "Fan-coil thermostat for 2-pipe and 4-pipe systems, Modbus RTU.",
        "适用于两管制和四管制系统的风机盘管温控器，支持 Modbus RTU。",
        (1, 6, 0),
        datetime.date(2023, 1, 9),
        140,
        8,
        THERMOSTAT_NOTES,
    ),
    DemoProduct(
        "thermostats-controllers",
        "vt-gw200",
        "VT-GW200 Building Gateway",
        "VT-GW200, VT-GW200-LTE",
        "A1",
        "Gateway connecting thermostats and controllers to building management systems and the cloud.",
        "将温控器和控制器接入楼宇管理系统和云平台的网关。",
        (3, 0, 0),
        datetime.date(2023, 8, 21),
        160,
        7,
        THERMOSTAT_NOTES,
        variants=(("CN", 3),),
    ),
    DemoProduct(
        "thermostats-controllers",
        "vt-fc100",
        "VT-FC100 Floor-Heating Controller",
        "VT-FC100-8Z",
        "A1",
        "Eight-zone floor-heating controller.",
        "八区地暖控制器。",
        (1, 2, 0),
        datetime.date(2022, 9, 15),
        180,
        6,
        THERMOSTAT_NOTES,
        end_of_support=datetime.date(2027, 6, 30),
    ),
]


@dataclass(frozen=True)
class DemoRelease:
    version: str
    variant: str
    position: int
    release_date: datetime.date
    notes_en: str
    notes_zh: str
    download_url: str
    headline: tuple[str, str]  # the first note, repeated by the variant builds of this version


def _notes(items: list[tuple[str, str]], variant: str) -> tuple[str, str]:
    if variant in VARIANT_NOTES:
        items = [*items, VARIANT_NOTES[variant]]
    return "\n".join(f"- {en}" for en, _zh in items), "\n".join(f"- {zh}" for _en, zh in items)


def releases_for(spec: DemoProduct) -> list[DemoRelease]:
    """The product's releases, oldest first: versions like `V5.7.3 build 240611` (the build is the date),
    a minor version every three releases, a security fix in every third. Variant builds follow the last
    standard releases two weeks later, with their own order numbers."""
    major, minor, patch = spec.first_version
    standard: list[DemoRelease] = []
    for i in range(spec.count):
        date = spec.first_date + datetime.timedelta(days=i * spec.interval_days + (i * 7) % 13)
        # Step through the note pool with a stride coprime to its size, so neighbouring releases differ.
        offset = len(spec.slug)
        items = [spec.notes[(i * 5 + offset) % len(spec.notes)]]
        if i % 3 == 1:
            items.insert(0, SECURITY_NOTES[(i + offset) % len(SECURITY_NOTES)])
        else:
            items.append(spec.notes[(i * 5 + offset + 2) % len(spec.notes)])
        base = f"V{major}.{minor}.{patch}"
        notes_en, notes_zh = _notes(items, "")
        standard.append(
            DemoRelease(
                version=f"{base} build {date:%y%m%d}",
                variant="",
                position=i + 1,
                release_date=date,
                notes_en=notes_en,
                notes_zh=notes_zh,
                download_url=f"https://{spec.download_host}/firmware/{spec.slug}/{base}_{date:%y%m%d}.zip",
                headline=items[0],
            )
        )
        patch += 1
        if i % 3 == 2:
            minor, patch = minor + 1, 0
    result = list(standard)
    for variant, count in spec.variants:
        for position, source in enumerate(standard[-count:], start=1):
            date = source.release_date + datetime.timedelta(days=14)
            base = source.version.split(" build ")[0]
            notes_en, notes_zh = _notes([source.headline], variant)
            result.append(
                DemoRelease(
                    version=f"{base} build {date:%y%m%d}",
                    variant=variant,
                    position=position,
                    release_date=date,
                    notes_en=notes_en,
                    notes_zh=notes_zh,
                    download_url=(
                        f"https://{spec.download_host}/firmware/{spec.slug}/{base}_{date:%y%m%d}_{variant.lower()}.zip"
                    ),
                    headline=source.headline,
                )
            )
    return result


# Loaders -----------------------------------------------------------------------------------------------------


def load_organization(log: Log) -> None:
    """Fill the profile with the demo vendor, only while it still holds the install defaults."""
    fill_organization(log, ORGANIZATION)


def fill_organization(log: Log, organization: dict[str, Any]) -> None:
    """Fill the profile with `organization`, only while it still holds the install defaults."""
    profile = OrganizationProfile.get()
    pristine = (
        profile.name_en == OrganizationProfile._meta.get_field("name_en").default
        and profile.advisory_prefix == OrganizationProfile._meta.get_field("advisory_prefix").default
    )
    if not pristine:
        log(f"organization: kept (already set up as {profile.name_en!r})")
        return
    update_organization(actor=None, **organization)
    log(f"organization: {organization['name_en']} ({organization['advisory_prefix']})")


def load_catalog(log: Log) -> None:
    """Product lines, products and firmware releases — once. When a demo product line exists already, the
    catalog is left alone: what a lead renamed or deleted since stays that way."""
    create_catalog(log, LINES, PRODUCTS)


def create_catalog(log: Log, lines_data: list[dict[str, Any]], products: list[DemoProduct]) -> None:
    """Create the product lines, products and their releases unless one of these lines exists already."""
    present = ProductLine.objects.filter(slug__in=[line["slug"] for line in lines_data]).exists()
    if present:
        log("catalog: kept (demo product lines already present)")
        return
    created = {"lines": 0, "products": 0, "releases": 0}
    lines: dict[str, ProductLine] = {}
    for data in lines_data:
        lines[data["slug"]] = services.create_product_line(actor=None, **data)
        created["lines"] += 1
    for spec in products:
        product = services.create_product(
            actor=None,
            line=lines[spec.line],
            slug=spec.slug,
            name=spec.name,
            model_numbers=spec.models,
            hardware_revisions=spec.hardware,
            description_en=spec.description_en,
            description_zh=spec.description_zh,
            end_of_support=spec.end_of_support,
        )
        created["products"] += 1
        for release in releases_for(spec):
            services.create_release(
                actor=None,
                product=product,
                version=release.version,
                variant=release.variant,
                position=release.position,
                release_date=release.release_date,
                download_url=release.download_url,
                notes_en=release.notes_en,
                notes_zh=release.notes_zh,
            )
            created["releases"] += 1
    log("catalog: {lines} product lines, {products} products, {releases} firmware releases".format(**created))


def load_accounts(log: Log) -> None:
    """The four demo sign-ins, with the password from PSIRT_DEMO_PASSWORD; no TOTP (dev mode needs none)."""
    create_demo_accounts(log, engineer_line_slug=ENGINEER_LINE)


def create_demo_accounts(log: Log, *, engineer_line_slug: str) -> None:
    """The missing demo sign-ins; the product engineer covers the product line `engineer_line_slug`."""
    engineer_line = ProductLine.objects.filter(slug=engineer_line_slug).first()
    for email, role, name in DEMO_ACCOUNTS:
        if User.objects.filter(email__iexact=email).exists():
            continue
        create_user(
            email=email,
            role=role,
            name=name,
            password=settings.PSIRT_DEMO_PASSWORD,
            product_lines=[engineer_line] if role == "engineer" and engineer_line else [],
        )
        log(f"account: {email} ({role})")
