"""Helpers every intake service shares: the text limits all doors enforce, timeline events, and what a
mail may say about a report (plain values, never report text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.intake.exceptions import InvalidReport
from psirt.intake.models import (
    Report,
    ReportEvent,
)
from psirt.intake.services.tokens import magic_token, portal_path
from psirt.lib import pgp
from psirt.lib.http import absolute_url, route_path
from psirt.mail.models import OutboxMessage
from psirt.mail.services import PreparedMail

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


def reporter_languages(report: Report) -> list[str]:
    """The languages mail to this reporter is written in: the language of their report and portal alone, or
    every site language when they wrote in none of them (`Report.language` is then empty)."""
    codes = [code for code, _name in settings.LANGUAGES]
    return [report.language] if report.language in codes else codes


def send_reporter_mail(
    *,
    report: Report,
    template: str,
    context: Mapping[str, Any],
    token: str = "",
    reply_to: tuple[str, ...] = (),
) -> None:
    """Queue a mail to the reporter, in their language only (every site language when they wrote in neither),
    each language's part linking to the portal in that language: `portal_urls` and `lost_link_urls` map a
    language to its link (the `in_language` filter picks one). `token` is the private token when the mail
    carries it (acknowledgment, new link); otherwise the link is a signed, expiring magic link."""
    prepare_reporter_mail(report=report, template=template, token=token, reply_to=reply_to).queue(context)


@dataclass(frozen=True)
class ReporterMail:
    """A mail of `send_reporter_mail` made ready before the caller's transaction: `queue(context)` stores it."""

    mail: PreparedMail
    links: Mapping[str, Any]

    def queue(self, context: Mapping[str, Any]) -> OutboxMessage:
        return self.mail.queue({**context, **self.links})


def prepare_reporter_mail(
    *, report: Report, template: str, token: str = "", reply_to: tuple[str, ...] = ()
) -> ReporterMail:
    """Everything of `send_reporter_mail` but its context, done now: the languages, the links and the outbox row
    (see `psirt.mail.services.PreparedMail`)."""
    languages = reporter_languages(report)
    link_token = token or magic_token(report)
    portal_urls, lost_link_urls = {}, {}
    for language in languages:
        portal_urls[language] = absolute_url(portal_path(link_token, language))
        lost_link_urls[language] = absolute_url(route_path("intake:lost_link", language))
    mail = PreparedMail(
        to=[report.reporter_email],
        template=template,
        language=languages[0],
        languages=languages,
        pgp_key=report.pgp_key,
        reply_to=reply_to,
    )
    return ReporterMail(mail=mail, links={"portal_urls": portal_urls, "lost_link_urls": lost_link_urls})
