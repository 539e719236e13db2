# ruff: noqa: E501 - Chinese paragraphs stay on one line: a line break inside them would show as a space.
"""The second reference vendor for `psirt demo --vendor beca`: BECA, a maker of thermostats, controllers and
building gateways, with its own public texts, catalog and demo accounts, and no advisory published yet.

Like the VisionTek demo, running it again changes nothing and never undoes an edit: the profile is only filled
while it holds the install defaults, a page only while it still holds the installation's default text, the
catalog only when none of its lines exists."""

from __future__ import annotations

import datetime
from typing import Any

from psirt.demo.advisories import set_demo_policy
from psirt.demo.catalog import (
    THERMOSTAT_NOTES,
    DemoProduct,
    Log,
    create_catalog,
    create_demo_accounts,
    fill_organization,
)
from psirt.pages.defaults import DEFAULT_PAGES
from psirt.pages.models import Page
from psirt.pages.services import update_page

ORGANIZATION: dict[str, Any] = {
    "name_en": "BECA",
    "name_zh": "BECA",
    "advisory_prefix": "BECA",
    "security_email": "security@beca.example",
    "website": "https://www.beca.example",
    "contact_hours_en": "Mon–Fri 9:00–18:00 (UTC+8)",
    "contact_hours_zh": "周一至周五 9:00–18:00（UTC+8）",
    "report_language": "en",
    "footer_en": "Xiamen Beca Energysaving Technology Co., Ltd. · 闽ICP备2021005967号-1",
    "footer_zh": "Xiamen Beca Energysaving Technology Co., Ltd. · 闽ICP备2021005967号-1",
    "calendar_country": "CN",
    "ack_business_days": 5,
    "remediation_days": 90,
}

# BECA's publication policy: a normal advisory needs severity CRITICAL and a sufficient mitigation (the response
# process completed: a lead approved it); an actively exploited vulnerability or one of public concern is
# expedited, with or without a firmware patch.
POLICY: dict[str, Any] = {
    "minimum_severity": "Critical",
    "required_remedy": "mitigation",
    "require_disclosure_date": True,
    "expedite_when_exploited": True,
    "expedite_when_public_concern": True,
    "expedite_requires_fix": False,
}

# page slug -> (title_en, title_zh, body_en, body_zh)
PAGES: dict[str, tuple[str, str, str, str]] = {
    "home": (
        "BECA Product Security",
        "BECA 产品安全",
        """\
BECA makes room thermostats, floor-heating and fan-coil controllers and building gateways. We strongly encourage
organizations and individuals to contact BECA's security team to report any potential security issue.

BECA will endeavour to respond to a report within five working days. Reports are preferably written in English
and based on the latest released firmware. BECA is not currently operating a vulnerability bounty programme.
""",
        """\
BECA 生产房间温控器、地暖与风机盘管控制器以及楼宇网关。我们诚挚欢迎组织和个人联系 BECA 安全团队，报告任何潜在的安全问题。

BECA 将尽力在五个工作日内响应报告。报告最好使用英文撰写，并基于最新发布的固件。 BECA 目前未运营漏洞奖励计划。
""",
    ),
    "updates": (
        "BECA product software updates",
        "BECA 产品软件更新",
        """\
BECA delivers an updated experience on a regular basis, including security patches. Several factors may affect
the date you actually receive an update, e.g. the device model and the operator variant: a variant build follows
its standard release later. Please accept every maintenance release as soon as possible.
""",
        """\
BECA 会定期提供更新，其中包括安全补丁。您实际收到更新的日期会受多种因素影响，例如设备型号和运营商版本：运营商版本的固件会晚于标准版本发布。请尽快接受所有维护版本更新。
""",
    ),
    "guidelines": (
        "Responsible reporting guidelines",
        "负责任的报告准则",
        """\
1. All parties to a vulnerability disclosure should comply with the laws of their country or region.
2. Vulnerability reports should be based on the latest released firmware, and preferably written in English.
3. Report vulnerabilities through the dedicated communication channel. BECA may receive reports from other
   channels but does not guarantee that such a report will be acknowledged.
4. Adhere to data protection principles at all times and do not violate the privacy and data security of BECA's
   users, employees, agents, services or systems while discovering a vulnerability.
5. Maintain communication and cooperation during the disclosure process, and do not disclose information about
   the vulnerability before the negotiated disclosure date.
6. BECA is not currently operating a vulnerability bounty programme.
""",
        """\
1. 漏洞披露的各方均应遵守其所在国家或地区的法律。
2. 漏洞报告应基于最新发布的固件，最好使用英文撰写。
3. 请通过专用沟通渠道报告漏洞。 BECA 可能会从其他渠道收到报告，但不保证会确认此类报告。
4. 始终遵守数据保护原则，在发现漏洞的过程中不得侵犯 BECA 用户、员工、代理、服务或系统的隐私和数据安全。
5. 在披露过程中保持沟通与合作，在协商的披露日期之前不得披露漏洞信息。
6. BECA 目前未运营漏洞奖励计划。
""",
    ),
    "process": (
        "How BECA deals with vulnerabilities",
        "BECA 如何处理漏洞",
        """\
BECA responds to vulnerability reports as soon as possible, usually within five business days. BECA Security
works with the product team on a preliminary analysis and validation of the report to determine the validity,
severity and impact of the vulnerability. We may contact you if we need more information.

Once the vulnerability is confirmed, we develop and implement a remediation plan that provides a solution for all
affected customers. Remediation typically takes up to 90 days and in some cases may take longer. You can follow
our progress and the completion of the remediation.
""",
        """\
BECA 会尽快响应漏洞报告，通常在五个工作日内。 BECA 安全团队会与产品团队一起对报告进行初步分析和验证，以确定漏洞的有效性、严重程度和影响。如需更多信息，我们可能会与您联系。

漏洞确认后，我们会制定并实施修复计划，为所有受影响的客户提供解决方案。修复通常需要不超过 90 天，某些情况下可能更长。您可以随时了解我们的进展以及修复工作的完成情况。
""",
    ),
    "policy": (
        "When BECA publishes a security advisory",
        "BECA 何时发布安全公告",
        """\
BECA issues a security advisory when one or more of the following conditions are met:

1. The severity of the vulnerability is rated CRITICAL by the BECA security team, BECA has completed the
   vulnerability response process, and sufficient mitigation solutions are available to help customers
   eliminate all security risks.
2. If the vulnerability has been actively exploited and is likely to increase the security risk to BECA
   customers, or is likely to increase public concern about the security of BECA products, BECA expedites the
   release of a security advisory, which may or may not include a full firmware patch or emergency fix.
""",
        """\
满足以下一个或多个条件时， BECA 将发布安全公告：

1. BECA 安全团队将漏洞严重程度评定为“严重”（CRITICAL）， BECA 已完成漏洞响应流程，并且已有足以帮助客户消除全部安全风险的缓解方案。
2. 如果漏洞已被积极利用且可能增加 BECA 客户的安全风险，或可能加剧公众对 BECA 产品安全的关注， BECA 将加快发布该漏洞的安全公告，公告中可能包含也可能不包含完整的固件补丁或紧急修复。
""",
    ),
    "contact": (
        "Report vulnerabilities to BECA",
        "向 BECA 报告漏洞",
        """\
We strongly encourage organizations and individuals to contact BECA's security team to report any potential
security issue, by e-mail to {security_email}. BECA will endeavour to respond within five working days.

Address: Room 502, 5th Floor, No. 7, Lianfa Gold Industrial Park, Tong'an District, Xiamen, China.
""",
        """\
我们诚挚欢迎组织和个人联系 BECA 安全团队报告任何潜在的安全问题，请发送电子邮件至 {security_email}。 BECA 将尽力在五个工作日内响应。

地址：Room 502, 5th Floor, No. 7, Lianfa Gold Industrial Park, Tong'an District, Xiamen, China。
""",
    ),
}

LINES: list[dict[str, Any]] = [
    {
        "slug": "beca-thermostats",
        "name_en": "Thermostats",
        "name_zh": "温控器",
        "description_en": "Room thermostats for water and electric floor heating and fan coils.",
        "description_zh": "适用于水地暖、电地暖和风机盘管的房间温控器。",
        "position": 1,
    },
    {
        "slug": "beca-controllers",
        "name_en": "Controllers",
        "name_zh": "控制器",
        "description_en": "Wiring centres and zone controllers for heating and cooling systems.",
        "description_zh": "用于供暖和制冷系统的集线器与分区控制器。",
        "position": 2,
    },
    {
        "slug": "beca-gateways",
        "name_en": "Gateways",
        "name_zh": "网关",
        "description_en": "Wi-Fi and Modbus gateways connecting thermostats to the app and to building systems.",
        "description_zh": "将温控器接入手机应用和楼宇系统的 Wi-Fi 与 Modbus 网关。",
        "position": 3,
    },
]

HOST = "download.beca.example"
PRODUCTS = [
    DemoProduct(
        "beca-thermostats",
        "bht-002",
        "BHT-002 Wi-Fi Thermostat",
        "BHT-002GALW, BHT-002GBLW, BHT-002GCLW",
        "V1, V2",
        "Wi-Fi room thermostat with a weekly schedule, for water or electric floor heating.",
        "带每周定时功能的 Wi-Fi 房间温控器，适用于水地暖或电地暖。",
        (1, 2, 0),
        datetime.date(2023, 5, 8),
        110,
        9,
        THERMOSTAT_NOTES,
        variants=(("EU", 2), ("CN", 2)),
        download_host=HOST,
    ),
    DemoProduct(
        "beca-thermostats",
        "bac-002",
        "BAC-002 Fan-Coil Thermostat",
        "BAC-002ALW, BAC-002BLW",
        "V1",
        "Fan-coil thermostat for central air conditioning, with Wi-Fi or Modbus.",
        "适用于中央空调风机盘管的温控器，支持 Wi-Fi 或 Modbus。",
        (2, 0, 1),
        datetime.date(2023, 9, 20),
        130,
        7,
        THERMOSTAT_NOTES,
        variants=(("EU", 1),),
        download_host=HOST,
    ),
    DemoProduct(
        "beca-controllers",
        "bwc-8z",
        "BWC-8Z Zone Controller",
        "BWC-8Z-230, BWC-8Z-24",
        "A",
        "Eight-zone wiring centre for underfloor heating actuators and pumps.",
        "八区地暖集线器，用于连接执行器和水泵。",
        (1, 0, 0),
        datetime.date(2024, 1, 15),
        150,
        5,
        THERMOSTAT_NOTES,
        download_host=HOST,
    ),
    DemoProduct(
        "beca-gateways",
        "bgw-100",
        "BGW-100 Building Gateway",
        "BGW-100W, BGW-100M",
        "V1, V2",
        "Gateway between BECA thermostats, the BECA app and Modbus/BACnet building systems.",
        "连接 BECA 温控器、 BECA 应用与 Modbus/BACnet 楼宇系统的网关。",
        (3, 1, 0),
        datetime.date(2023, 11, 2),
        100,
        8,
        THERMOSTAT_NOTES,
        variants=(("CN", 2),),
        download_host=HOST,
    ),
]
ENGINEER_LINE = "beca-thermostats"


def load_organization(log: Log) -> None:
    """BECA's profile: e-mail contact with hours, reports preferably in English, the ICP footer line."""
    fill_organization(log, ORGANIZATION)


def load_pages(log: Log) -> None:
    """BECA's own texts, on each page that still holds the installation's default text."""
    changed = []
    for slug, (title_en, title_zh, body_en, body_zh) in PAGES.items():
        page = Page.objects.filter(slug=slug).first()
        default = DEFAULT_PAGES[slug]
        if page is None or (page.title_en, page.body_en) != (default.title_en, default.body_en):
            continue
        update_page(actor=None, page=page, title_en=title_en, title_zh=title_zh, body_en=body_en, body_zh=body_zh)
        changed.append(slug)
    log(f"pages: {', '.join(changed)}" if changed else "pages: kept (already edited)")


def load_policy(log: Log) -> None:
    """BECA's publication policy (`POLICY`), set by the demo lead once: a second run writes no new version."""
    set_demo_policy(log, POLICY)


def load_catalog(log: Log) -> None:
    """Thermostats, controllers and gateways with their firmware releases, once."""
    create_catalog(log, LINES, PRODUCTS)


def load_accounts(log: Log) -> None:
    """The four demo sign-ins; the product engineer covers the thermostats."""
    create_demo_accounts(log, engineer_line_slug=ENGINEER_LINE)
