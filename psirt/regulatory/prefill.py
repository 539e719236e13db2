"""The stage form's values prefilled from what psirt already knows: the case (products and affected versions from
the catalog, the product line's Member States, CVE and EUVD IDs, CVSS and CWE, mitigations, the fixed release and its
date), the case's advisory (the description, summary and impact written for publication — `source_advisory`) and
the organization profile. The reporter's own text (encrypted report data) is never copied into a field. Values
typed on the desk (the obligation's draft) win over the prefill. The text is English: the Single Reporting Platform
is English-only. The MIIT report text is Chinese (`miit_text`)."""

from __future__ import annotations

import datetime as dt

from django.utils import translation

from psirt.advisories.models import Advisory, AdvisoryState
from psirt.cases.models import AffectedRange, Case, CaseReference, Mitigation, ReferenceKind
from psirt.catalog.models import FirmwareRelease
from psirt.lib.severity import label as severity_label
from psirt.organization.models import OrganizationProfile
from psirt.regulatory.clocks import Track
from psirt.regulatory.data import FIELD_STAGES, fields_for, member_state, requirement
from psirt.regulatory.models import Obligation

MAX_VALUE_CHARS = 20_000


def utc_text(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _ranges(case: Case) -> list[AffectedRange]:
    return list(case.affected.select_related("product", "introduced", "fixed").order_by("product__name", "variant"))


def _range_text(r: AffectedRange) -> str:
    name = r.product.name + (f" ({r.variant})" if r.variant else "")
    if r.introduced and r.fixed:
        return f"{name}: {r.introduced.version} up to before {r.fixed.version}"
    if r.fixed:
        return f"{name}: versions before {r.fixed.version}"
    if r.introduced:
        return f"{name}: {r.introduced.version} and later (no fix yet)"
    return f"{name}: all versions (no fix yet)"


def product_names(case: Case) -> list[str]:
    names = [r.product.name for r in _ranges(case)]
    if not names and case.product is not None:
        names = [case.product.name]
    return list(dict.fromkeys(names))


def member_state_names(case: Case) -> str:
    """The Member States where the case's products are sold (their lines' setting in the catalog)."""
    codes: list[str] = []
    lines = {r.product.line for r in case.affected.select_related("product__line")}
    if not lines and case.product_line is not None:
        lines = {case.product_line}
    for line in sorted(lines, key=lambda x: x.position):
        codes += [c for c in line.eu_member_states.split(",") if c]
    states = [member_state(c) for c in dict.fromkeys(codes)]
    return ", ".join(s.name_en for s in states if s)


def fixed_releases(case: Case) -> list[FirmwareRelease]:
    return list(
        FirmwareRelease.objects.filter(case_fixes__case=case).select_related("product").order_by("release_date")
    )


def measure_available_suggestion(case: Case) -> dt.datetime | None:
    """When a corrective or mitigating measure became available: the earliest fixed release's date (start of
    that day, UTC), else the first mitigation that fully protects. None when neither exists."""
    dates = [r.release_date for r in fixed_releases(case) if r.release_date]
    candidates = [dt.datetime.combine(d, dt.time(0, 0), tzinfo=dt.UTC) for d in dates]
    sufficient = case.mitigations.filter(sufficient=True).order_by("created_at").first()
    if sufficient is not None:
        candidates.append(sufficient.created_at)
    return min(candidates) if candidates else None


def _severity(case: Case) -> str:
    """The English "technical characteristics": the rating, the vectors and the weakness."""
    rating = [f"Severity: {severity_label(case.severity)}"] if case.severity else []
    return "; ".join(rating + _scores(case))


def _scores(case: Case) -> list[str]:
    """The case's vectors with their base scores, and its weakness: the same in every language."""
    parts = []
    if case.cvss31_vector:
        parts.append(f"CVSS v3.1 {case.cvss31_base or ''} {case.cvss31_vector}".replace("  ", " "))
    if case.cvss40_vector:
        parts.append(f"CVSS v4.0 {case.cvss40_base or ''} {case.cvss40_vector}".replace("  ", " "))
    if case.cwe_id:
        parts.append(f"CWE-{case.cwe_id}")
    return parts


def source_advisory(case: Case) -> Advisory | None:
    """The advisory whose text prefills the descriptive fields: the case's latest published advisory, else its
    open draft (the one "Draft expedited advisory" works on); never a withdrawn one. Its text is written by the
    team for publication, so it is safe to hand to an authority, unlike the reporter's report."""
    advisories = Advisory.objects.filter(case_links__case=case).exclude(state=AdvisoryState.WITHDRAWN)
    published = advisories.filter(state=AdvisoryState.PUBLISHED).order_by("-published_at", "-pk").first()
    return published or advisories.order_by("created_at", "pk").first()


def _mitigations(case: Case) -> list[Mitigation]:
    return list(case.mitigations.order_by("created_at"))


def case_values(obligation: Obligation) -> dict[str, str]:
    """Every value psirt can propose for the platform's fields, keyed by field key, in English whatever the
    desk's language (the platform is English-only)."""
    with translation.override("en"):
        return _case_values(obligation)


def _case_values(obligation: Obligation) -> dict[str, str]:
    profile = OrganizationProfile.get()
    values: dict[str, str] = {
        "notification_type": "Severe incident"
        if obligation.track == Track.INCIDENT
        else "Actively exploited vulnerability",
        "title": obligation.title,
        "manufacturer": profile.name_en,
        "aware_at": utc_text(obligation.aware_at),
        "measure_available_at": utc_text(obligation.measure_available_at),
    }
    case = obligation.case
    if case is None:
        return values
    ranges = _ranges(case)
    references = CaseReference.objects.filter(case=case).order_by("value")
    cves = list(references.filter(kind=ReferenceKind.CVE).values_list("value", flat=True))
    euvds = list(references.filter(kind=ReferenceKind.EUVD).values_list("value", flat=True))
    advisory = source_advisory(case)
    fixes = fixed_releases(case)
    mitigations = _mitigations(case)
    products = product_names(case)
    values.update(
        {
            "summary": f"{case.title} ({', '.join(products)})" if products else case.title,
            "member_states": member_state_names(case),
            "product_name": ", ".join(products),
            "product_versions": "; ".join(_range_text(r) for r in ranges),
            "product_type": ", ".join(dict.fromkeys(r.product.line.name_en for r in ranges)) if ranges else "",
            "end_of_support": "; ".join(
                f"{r.product.name}: {r.product.end_of_support.isoformat()}" for r in ranges if r.product.end_of_support
            ),
            "cve_id": ", ".join(cves),
            "euvd_id": ", ".join(euvds),
            # The platform is English-only: the advisory's English text.
            "general_information": advisory.summary_en if advisory else "",
            "full_description": advisory.description_en if advisory else "",
            "impact": advisory.impact_en if advisory else "",
            "severity": _severity(case),
            "measures_taken": "; ".join(
                f"Fixed firmware {r.product.name} {r.version}"
                + (f" released {r.release_date.isoformat()}" if r.release_date else "")
                for r in fixes
            ),
            "measures_users": "\n".join(m.text_en for m in mitigations)
            + ("\n" if mitigations and fixes else "")
            + ("Update to " + ", ".join(f"{r.product.name} {r.version}" for r in fixes) if fixes else ""),
            "user_actions": "\n".join(m.text_en for m in mitigations),
            "update_details": "; ".join(
                f"{r.product.name} {r.version}"
                + (f" ({r.release_date.isoformat()})" if r.release_date else "")
                + (f" {r.download_url}" if r.download_url else "")
                for r in fixes
            ),
            "measure_expected": "no" if fixes or any(m.sufficient for m in mitigations) else "",
        }
    )
    return {k: v.strip() for k, v in values.items()}


def stage_values(obligation: Obligation, stage: str) -> list[tuple[str, str, str, str]]:
    """The stage's fields in the platform's order: (key, label, requirement, value) — the draft's value when one
    was typed, else the prefill."""
    proposed = case_values(obligation)
    drafts = obligation.draft if isinstance(obligation.draft, dict) else {}
    # A later stage carries what an earlier one said (the platform's "C"): the values typed for the earlier
    # stages, the latest first, come before the prefill.
    earlier = FIELD_STAGES[: FIELD_STAGES.index(stage)] if stage in FIELD_STAGES else FIELD_STAGES  # type: ignore[arg-type]
    layers = [drafts.get(stage, {}), *(drafts.get(s, {}) for s in reversed(earlier))]
    rows = []
    for field in fields_for(obligation.track, stage):
        value = next((layer[field.key] for layer in layers if field.key in layer), proposed.get(field.key, ""))
        rows.append((field.key, field.label, requirement(field, stage), str(value)))
    return rows


def miit_text(obligation: Obligation) -> str:
    """The MIIT (NVDB) report in Chinese: product name, model and version, the vulnerability's technical
    characteristics, harm and scope of impact, remedy status — prefilled from the case, edited before filing."""
    case = obligation.case
    profile = OrganizationProfile.get()
    vendor = profile.name_zh or profile.name_en
    lines = [
        f"报告单位：{vendor}",
        f"漏洞名称：{obligation.title}",
        f"发现（知悉）时间：{utc_text(obligation.aware_at)}",
    ]
    if case is None:
        return "\n".join(lines)
    ranges = _ranges(case)
    for r in ranges:
        models_text = "、".join(r.product.model_number_list) or "—"
        lines.append(f"产品名称：{r.product.name}；型号：{models_text}；受影响版本：{_range_text_zh(r)}")
    if not ranges and case.product is not None:
        lines.append(f"产品名称：{case.product.name}")
    tech = "；".join(_scores(case))
    lines.append(f"技术特点：{tech or '（待补充）'}")
    exploited = "已发现在野利用" if case.exploitation == "active" else "未发现在野利用"
    # The report is Chinese whatever language the desk shows the lead.
    with translation.override("zh-hans"):
        rating = severity_label(case.severity) if case.severity else "（待评估）"
    lines.append(f"危害及影响范围：{exploited}；严重程度：{rating}")
    fixes = fixed_releases(case)
    mitigations = _mitigations(case)
    if fixes:
        remedy = "已发布修复版本：" + "、".join(
            f"{r.product.name} {r.version}" + (f"（{r.release_date.isoformat()}）" if r.release_date else "")
            for r in fixes
        )
    elif mitigations:
        remedy = "暂无修复版本，已提供缓解措施：" + "；".join(m.text_zh or m.text_en for m in mitigations)
    else:
        remedy = "修复中，暂无修复版本"
    lines.append(f"修复情况：{remedy}")
    return "\n".join(lines)


def _range_text_zh(r: AffectedRange) -> str:
    if r.introduced and r.fixed:
        return f"{r.introduced.version} 至 {r.fixed.version} 之前"
    if r.fixed:
        return f"{r.fixed.version} 之前的版本"
    if r.introduced:
        return f"{r.introduced.version} 及之后（暂无修复）"
    return "所有版本（暂无修复）"


def direct_notice_text(obligation: Obligation) -> dict[str, str]:
    """The direct notice to customers (Art. 14(8)) in both languages, from the same facts as the stage forms
    (`case_values`): the product, the affected versions, the CVE, and what users can do. Product names and
    versions are the catalog's, the same in both languages; a mitigation's Chinese text is used when it has one."""
    values = case_values(obligation)
    case = obligation.case
    mitigations = _mitigations(case) if case is not None else []
    fixes = fixed_releases(case) if case is not None else []
    product = values.get("product_name", "") or obligation.title
    update = ", ".join(f"{r.product.name} {r.version}" for r in fixes)
    cve = values.get("cve_id", "")
    ranges = _ranges(case) if case is not None else []
    # The MIIT report's Chinese wording of a range: the same facts as the English "product_versions".
    versions_zh = "；".join(
        r.product.name + (f"（{r.variant}）" if r.variant else "") + f"：{_range_text_zh(r)}" for r in ranges
    )
    en = [
        f"A vulnerability in {product} is being actively exploited. We are telling you directly because your "
        "organization is listed as running an affected product.",
        "",
        f"Affected versions: {values.get('product_versions') or product}",
    ]
    zh = [
        f"{product} 的一个漏洞正在被积极利用。由于贵单位登记为使用受影响产品，我们直接通知您。",
        "",
        f"受影响版本：{versions_zh or product}",
    ]
    if cve:
        en.append(f"CVE: {cve}")
        zh.append(f"CVE：{cve}")
    en += ["", "What you can do:"]
    zh += ["", "您可以采取的措施："]
    en += [f"- {m.text_en}" for m in mitigations]
    zh += [f"- {m.text_zh or m.text_en}" for m in mitigations]
    if update:
        en.append(f"- Update to {update}")
        zh.append(f"- 升级到 {update}")
    if not mitigations and not fixes:
        en.append("- A fix is being prepared; we will tell you as soon as it is available.")
        zh.append("- 修复正在准备中，一旦可用我们将立即通知您。")
    return {
        "subject_en": f"Actively exploited vulnerability in {product}"[:200],
        "subject_zh": f"{product} 漏洞正在被积极利用"[:200],
        "body_en": "\n".join(en),
        "body_zh": "\n".join(zh),
    }
