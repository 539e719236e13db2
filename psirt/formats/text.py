"""Text helpers shared by the renderers: the fixed phrases of the documents in both languages, and cleaning of
untrusted text for XML.

The fixed phrases are document content, not interface: a CSAF translation document is written in zh-Hans whatever
language the person publishing it uses, so they are a table here rather than gettext messages."""

from __future__ import annotations

import re
from datetime import UTC, datetime

LABELS: dict[str, dict[str, str]] = {
    "summary": {"en": "Summary", "zh": "概述"},
    "description": {"en": "Description", "zh": "描述"},
    "impact": {"en": "Impact", "zh": "影响"},
    "workarounds": {"en": "Workarounds and mitigations", "zh": "临时解决方案与缓解措施"},
    "legal_disclaimer": {"en": "Legal disclaimer", "zh": "法律声明"},
    "vulnerability_description": {"en": "Vulnerability description", "zh": "漏洞描述"},
    "cvss_v4": {"en": "CVSS v4.0", "zh": "CVSS v4.0"},
    "cvss_v4_text": {
        "en": "CVSS v4.0 vector {vector}, score {score} ({severity}). CSAF 2.0 has no field for CVSS v4.0.",
        "zh": "CVSS v4.0 向量 {vector}，评分 {score}（{severity}）。CSAF 2.0 没有 CVSS v4.0 字段。",
    },
    "exploit_none": {"en": "No exploitation is known.", "zh": "目前未发现利用。"},
    "exploit_poc": {"en": "A proof-of-concept exploit is publicly available.", "zh": "已有公开的概念验证利用代码。"},
    "exploit_active": {"en": "The vulnerability is being actively exploited.", "zh": "该漏洞正在被积极利用。"},
    "canonical_csaf": {"en": "Canonical URL of this CSAF document", "zh": "本 CSAF 文档的规范地址"},
    "advisory_page": {"en": "Security advisory page", "zh": "安全公告页面"},
    "original_csaf": {"en": "Original CSAF document (English)", "zh": "CSAF 原始文档（英文）"},
    "this_document": {"en": "This document", "zh": "本文档"},
    "vex_status": {"en": "Status of our products", "zh": "我方产品的状态"},
    "vex_status_text": {
        "en": "Which firmware releases are affected by {vulnerability} in a third-party component, and what to do.",
        "zh": "哪些固件版本受第三方组件中的 {vulnerability} 影响，以及应当怎么做。",
    },
    "vex_revision": {"en": "Decisions recorded.", "zh": "已记录决定。"},
}


def label(key: str, lang: str) -> str:
    table = LABELS[key]
    return table["zh"] if lang.lower().startswith("zh") else table["en"]


def rfc3339(value: datetime) -> str:
    """UTC, second precision, trailing Z: one spelling everywhere so that renders are byte-for-byte stable."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# Characters XML 1.0 forbids (C0 controls but tab/newline/return, surrogates, U+FFFE/U+FFFF) or discourages (C1
# controls, DEL), and the bidirectional embedding/override/isolate controls that can make a title display as
# something else than what it says (CVE-2021-42574, "Trojan Source").
_XML_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)


def clean_text(value: str) -> str:
    """`value` without the characters above: what is left is well-formed in XML and displays as it reads."""
    return _XML_UNSAFE.sub("", value)
