"""Message templates for the usual steps of a case, in English and Chinese, to write to the reporters.

The reporter's language (`Report.language`) picks the text; the handler edits it before sending. These are
texts *to reporters*, so they are data in both languages here rather than interface strings in the catalogue:
a Chinese-speaking handler writing to an English-speaking reporter must get the English text.
Placeholders: {name} (the reporter's name or a greeting), {tracking_id}, {date} (the agreed disclosure date
or the remediation deadline, when known).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from psirt.intake.models import Report


@dataclass(frozen=True)
class MessageTemplate:
    key: str
    label: str | Promise  # lazy translation: the name shown in the desk
    en: str
    zh: str

    def text_for(self, language: str) -> str:
        return self.zh if (language or "").lower().startswith("zh") else self.en


TEMPLATES: dict[str, MessageTemplate] = {
    t.key: t
    for t in (
        MessageTemplate(
            "acknowledgment",
            _("Acknowledgment"),
            "Hello {name},\n\nThank you for your report {tracking_id}. We have received it and a member of our "
            "security team is looking at it. We will keep you informed of our progress here.\n\nBest regards,\n"
            "the security team",
            "{name}您好：\n\n感谢您提交漏洞报告 {tracking_id}。我们已收到，"
            "安全团队成员正在处理。我们会在此持续告知进展。"
            "\n\n此致\n安全团队",
        ),
        MessageTemplate(
            "need_info",
            _("Need more information"),
            "Hello {name},\n\nThank you for report {tracking_id}. To validate it we need more information: "
            "[which firmware version, the exact steps to reproduce, a proof of concept]. You can answer and "
            "upload files in your report page.\n\nBest regards,\nthe security team",
            "{name}您好：\n\n感谢您提交报告 {tracking_id}。为了验证该问题，我们需要更多信息：[固件版本、详细复现步骤、"
            "概念验证]。您可以在报告页面回复并上传文件。\n\n此致\n安全团队",
        ),
        MessageTemplate(
            "validated",
            _("Validated"),
            "Hello {name},\n\nWe have reproduced the vulnerability you reported in {tracking_id} and confirmed it. "
            "Our product team is now working on a fix. We will tell you when it is scheduled.\n\nBest regards,\n"
            "the security team",
            "{name}您好：\n\n我们已复现并确认您在 {tracking_id} 中报告的漏洞。"
            "产品团队正在修复，修复计划确定后我们会通知您。"
            "\n\n此致\n安全团队",
        ),
        MessageTemplate(
            "fix_scheduled",
            _("Fix scheduled"),
            "Hello {name},\n\nThe fix for {tracking_id} is scheduled. We plan to publish the fixed firmware and an "
            "advisory on {date}. Please keep the details confidential until then; tell us how you wish to be "
            "credited.\n\nBest regards,\nthe security team",
            "{name}您好：\n\n{tracking_id} 的修复已排期，我们计划于 {date} 发布修复固件和安全公告。"
            "在此之前请对细节保密，"
            "并告诉我们您希望如何署名致谢。\n\n此致\n安全团队",
        ),
        MessageTemplate(
            "published",
            _("Published"),
            "Hello {name},\n\nThe advisory for {tracking_id} is published, with the fixed firmware. Thank you for "
            "working with us to protect our customers.\n\nBest regards,\nthe security team",
            "{name}您好：\n\n{tracking_id} 的安全公告及修复固件已发布。"
            "感谢您与我们合作保护用户安全。\n\n此致\n安全团队",
        ),
        MessageTemplate(
            "duplicate",
            _("Duplicate"),
            "Hello {name},\n\nThank you for report {tracking_id}. The issue you describe is already known to us "
            "and is being handled together with an earlier report. {credit}\n\nBest regards,\nthe security team",
            "{name}您好：\n\n感谢您提交报告 {tracking_id}。您描述的问题我们已经知晓，正与之前的报告一并处理。{credit}"
            "\n\n此致\n安全团队",
        ),
    )
}

# The sentence about credit in the duplicate message, by whether the reporter was first.
DUPLICATE_CREDIT = {
    True: (
        "Your report reached us first, so you will be credited in the advisory if you wish.",
        "您的报告最早送达，如您愿意，我们将在公告中向您致谢。",
    ),
    False: (
        "We value your work and will keep you informed of the progress here.",
        "我们珍视您的工作，并会在此告知处理进展。",
    ),
}


def render(key: str, *, report: Report, date: str = "", credit: bool | None = None) -> str:
    """The template `key` in the report's language with its placeholders filled (unknown key: "")."""
    template = TEMPLATES.get(key)
    if template is None:
        return ""
    zh = (report.language or "").lower().startswith("zh")
    name = (report.reporter_name or "").strip()[:100]
    if not name:
        name = "" if zh else "there"
    credit_line = ""
    if credit is not None:
        en_text, zh_text = DUPLICATE_CREDIT[credit]
        credit_line = zh_text if zh else en_text
    values = {
        "name": name,
        "tracking_id": report.tracking_id,
        "date": date or ("[日期]" if zh else "[date]"),
        "credit": credit_line,
    }
    # str.format on the template only: values are inserted once and never re-interpreted as format fields.
    return template.text_for("zh" if zh else "en").format(**values)
