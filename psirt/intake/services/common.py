"""Helpers every intake service shares: the text limits all doors enforce, timeline events, and what a
mail may say about a report (plain values, never report text).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.intake.exceptions import InvalidReport
from psirt.intake.models import (
    Report,
    ReportEvent,
)
from psirt.lib import pgp

# Text limits (characters). Generous for real reports; a 10 MB paste gets a clear message instead.
TEXT_LIMITS: dict[str, int] = {
    "reporter_name": 200,
    "reporter_email": 254,
    "organization": 200,
    "phone": 50,
    "references": 5_000,
    "product_other": 200,
    "version": 100,
    "description": 50_000,
    "technical_details": 200_000,
    "public_exploit": 10_000,
    "disclosure_plans": 10_000,
    "credit": 200,
    "pgp_key": pgp.MAX_KEY_LENGTH,
    "message": 50_000,
}


def check_text_limits(values: dict[str, str]) -> None:
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        limit = TEXT_LIMITS.get(name)
        if limit is not None and len(value or "") > limit:
            errors[name] = [
                _("This text is %(length)d characters long; the limit is %(limit)d.")
                % {"length": len(value), "limit": limit}
            ]
        if value and "\x00" in value:
            errors.setdefault(name, []).append(_("This text contains a null character; remove it."))
    if errors:
        raise InvalidReport(errors)


def add_event(report: Report, kind: str, **kwargs: object) -> ReportEvent:
    """A line in the report's timeline."""
    return ReportEvent.objects.create(report=report, kind=kind, **kwargs)


def mail_report_facts(report: Report) -> dict[str, str]:
    """What mail templates may say about a report: plain values, no report text."""
    ack_due = timezone.localtime(report.ack_due_at).strftime("%Y-%m-%d %H:%M %Z") if report.ack_due_at else ""
    return {
        "tracking_id": report.tracking_id,
        "reporter_name": report.reporter_name,
        "stage": report.stage,
        "ack_due": ack_due,
    }
