"""CVSS v3.1 and v4.0 metrics named in words, in English and Chinese, for calculators rendered as forms.

Names follow the FIRST specification documents (v3.1 §2–4, v4.0 §2–4 and the supplemental metrics); values
are listed in the order FIRST's calculators show them, "Not Defined" (X) first for optional metrics. The
codes are checked against the `cvss` library's own tables by a test, so the form can only offer what the
library scores. Pure data: no Django, no database.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["VERSIONS", "Metric", "MetricGroup", "MetricValue", "metric_groups", "metrics"]

VERSIONS = ("3.1", "4.0")


@dataclass(frozen=True)
class MetricValue:
    """One value of a metric: its code in the vector and its name in both languages."""

    code: str
    name_en: str
    name_zh: str


@dataclass(frozen=True)
class Metric:
    """One metric (e.g. AV, Attack Vector) with its allowed values in display order."""

    key: str
    name_en: str
    name_zh: str
    values: tuple[MetricValue, ...]
    mandatory: bool = False

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(v.code for v in self.values)

    def value(self, code: str) -> MetricValue | None:
        return next((v for v in self.values if v.code == code), None)


@dataclass(frozen=True)
class MetricGroup:
    """A metric group as the specification names it (base, temporal, threat, environmental, supplemental)."""

    key: str
    name_en: str
    name_zh: str
    metrics: tuple[Metric, ...]


def _v(code: str, en: str, zh: str) -> MetricValue:
    return MetricValue(code, en, zh)


X = _v("X", "Not Defined", "未定义")
NETWORK = _v("N", "Network", "网络")
ADJACENT = _v("A", "Adjacent", "相邻网络")
LOCAL = _v("L", "Local", "本地")
PHYSICAL = _v("P", "Physical", "物理")
LOW = _v("L", "Low", "低")
MEDIUM = _v("M", "Medium", "中")
HIGH = _v("H", "High", "高")
NONE = _v("N", "None", "无")
NEGLIGIBLE = _v("N", "Negligible", "可忽略")

AV_VALUES = (NETWORK, ADJACENT, LOCAL, PHYSICAL)
AC_VALUES = (LOW, HIGH)
PR_VALUES = (NONE, LOW, HIGH)
CIA_VALUES = (HIGH, LOW, NONE)
REQUIREMENT_VALUES = (X, HIGH, MEDIUM, LOW)


def _m(key: str, en: str, zh: str, values: tuple[MetricValue, ...], *, mandatory: bool = False) -> Metric:
    return Metric(key, en, zh, values, mandatory)


def _modified(metric: Metric, values: tuple[MetricValue, ...] | None = None) -> Metric:
    """The environmental "Modified …" twin of a base metric: same values plus Not Defined."""
    return Metric(
        "M" + metric.key,
        "Modified " + metric.name_en,
        "修正后的" + metric.name_zh,
        (X, *(values if values is not None else metric.values)),
    )


def _requirements() -> tuple[Metric, ...]:
    return (
        _m("CR", "Confidentiality Requirement", "机密性要求", REQUIREMENT_VALUES),
        _m("IR", "Integrity Requirement", "完整性要求", REQUIREMENT_VALUES),
        _m("AR", "Availability Requirement", "可用性要求", REQUIREMENT_VALUES),
    )


# --- CVSS v3.1 -------------------------------------------------------------------------------------------

_AV = _m("AV", "Attack Vector", "攻击途径", AV_VALUES, mandatory=True)
_AC = _m("AC", "Attack Complexity", "攻击复杂度", AC_VALUES, mandatory=True)
_PR = _m("PR", "Privileges Required", "所需权限", PR_VALUES, mandatory=True)
_UI31 = _m("UI", "User Interaction", "用户交互", (NONE, _v("R", "Required", "需要")), mandatory=True)
_S31 = _m("S", "Scope", "影响范围", (_v("U", "Unchanged", "不变"), _v("C", "Changed", "改变")), mandatory=True)
_C31 = _m("C", "Confidentiality", "机密性影响", CIA_VALUES, mandatory=True)
_I31 = _m("I", "Integrity", "完整性影响", CIA_VALUES, mandatory=True)
_A31 = _m("A", "Availability", "可用性影响", CIA_VALUES, mandatory=True)

V31_GROUPS: tuple[MetricGroup, ...] = (
    MetricGroup("base", "Base", "基本指标", (_AV, _AC, _PR, _UI31, _S31, _C31, _I31, _A31)),
    MetricGroup(
        "temporal",
        "Temporal",
        "时间指标",
        (
            _m(
                "E",
                "Exploit Code Maturity",
                "漏洞利用代码成熟度",
                (
                    X,
                    _v("H", "High", "高"),
                    _v("F", "Functional", "可用"),
                    _v("P", "Proof-of-Concept", "概念验证"),
                    _v("U", "Unproven", "未经证实"),
                ),
            ),
            _m(
                "RL",
                "Remediation Level",
                "修复级别",
                (
                    X,
                    _v("U", "Unavailable", "无修复"),
                    _v("W", "Workaround", "临时规避方案"),
                    _v("T", "Temporary Fix", "临时修复"),
                    _v("O", "Official Fix", "官方修复"),
                ),
            ),
            _m(
                "RC",
                "Report Confidence",
                "报告可信度",
                (X, _v("C", "Confirmed", "已确认"), _v("R", "Reasonable", "合理"), _v("U", "Unknown", "未知")),
            ),
        ),
    ),
    MetricGroup(
        "environmental",
        "Environmental",
        "环境指标",
        (
            *_requirements(),
            _modified(_AV),
            _modified(_AC),
            _modified(_PR),
            _modified(_UI31),
            _modified(_S31),
            _modified(_C31),
            _modified(_I31),
            _modified(_A31),
        ),
    ),
)

# --- CVSS v4.0 -------------------------------------------------------------------------------------------

_AT = _m("AT", "Attack Requirements", "攻击前提条件", (NONE, _v("P", "Present", "存在")), mandatory=True)
_UI40 = _m(
    "UI",
    "User Interaction",
    "用户交互",
    (NONE, _v("P", "Passive", "被动"), _v("A", "Active", "主动")),
    mandatory=True,
)
_VC = _m("VC", "Vulnerable System Confidentiality", "脆弱系统机密性影响", CIA_VALUES, mandatory=True)
_VI = _m("VI", "Vulnerable System Integrity", "脆弱系统完整性影响", CIA_VALUES, mandatory=True)
_VA = _m("VA", "Vulnerable System Availability", "脆弱系统可用性影响", CIA_VALUES, mandatory=True)
_SC = _m("SC", "Subsequent System Confidentiality", "后续系统机密性影响", CIA_VALUES, mandatory=True)
_SI = _m("SI", "Subsequent System Integrity", "后续系统完整性影响", CIA_VALUES, mandatory=True)
_SA = _m("SA", "Subsequent System Availability", "后续系统可用性影响", CIA_VALUES, mandatory=True)
_SAFETY = _v("S", "Safety", "人身安全")

V40_GROUPS: tuple[MetricGroup, ...] = (
    MetricGroup("base", "Base", "基本指标", (_AV, _AC, _AT, _PR, _UI40, _VC, _VI, _VA, _SC, _SI, _SA)),
    MetricGroup(
        "threat",
        "Threat",
        "威胁指标",
        (
            _m(
                "E",
                "Exploit Maturity",
                "漏洞利用成熟度",
                (
                    X,
                    _v("A", "Attacked", "已被攻击利用"),
                    _v("P", "POC", "概念验证"),
                    _v("U", "Unreported", "未报告"),
                ),
            ),
        ),
    ),
    MetricGroup(
        "environmental",
        "Environmental",
        "环境指标",
        (
            *_requirements(),
            _modified(_AV),
            _modified(_AC),
            _modified(_AT),
            _modified(_PR),
            _modified(_UI40),
            _modified(_VC),
            _modified(_VI),
            _modified(_VA),
            # Subsequent-system impacts may be lowered to Negligible or raised to Safety (human safety).
            _modified(_SC, (HIGH, LOW, NEGLIGIBLE)),
            _modified(_SI, (_SAFETY, HIGH, LOW, NEGLIGIBLE)),
            _modified(_SA, (_SAFETY, HIGH, LOW, NEGLIGIBLE)),
        ),
    ),
    MetricGroup(
        "supplemental",
        "Supplemental",
        "补充指标",
        (
            _m("S", "Safety", "人身安全", (X, NEGLIGIBLE, _v("P", "Present", "存在"))),
            _m("AU", "Automatable", "可自动化", (X, _v("N", "No", "否"), _v("Y", "Yes", "是"))),
            _m(
                "R",
                "Recovery",
                "恢复能力",
                (X, _v("A", "Automatic", "自动"), _v("U", "User", "用户"), _v("I", "Irrecoverable", "不可恢复")),
            ),
            _m("V", "Value Density", "价值密度", (X, _v("D", "Diffuse", "分散"), _v("C", "Concentrated", "集中"))),
            _m(
                "RE",
                "Vulnerability Response Effort",
                "漏洞响应工作量",
                (X, LOW, _v("M", "Moderate", "中等"), HIGH),
            ),
            _m(
                "U",
                "Provider Urgency",
                "提供方紧急程度",
                (
                    X,
                    _v("Clear", "Clear", "无（Clear）"),
                    _v("Green", "Green", "绿色"),
                    _v("Amber", "Amber", "琥珀色"),
                    _v("Red", "Red", "红色"),
                ),
            ),
        ),
    ),
)

_GROUPS = {"3.1": V31_GROUPS, "4.0": V40_GROUPS}


def metric_groups(version: str) -> tuple[MetricGroup, ...]:
    """The metric groups of `version` ("3.1" or "4.0") in specification order."""
    try:
        return _GROUPS[version]
    except KeyError:
        raise ValueError(f"CVSS version {version!r} is not supported: use 3.1 or 4.0.") from None


def metrics(version: str) -> dict[str, Metric]:
    """Every metric of `version` by key, in vector order (the order FIRST's specification requires)."""
    return {m.key: m for group in metric_groups(version) for m in group.metrics}
