""" "Lost my link": a reporter asks for fresh private links by e-mail address; the answer and its timing are
the same whether or not the address is known, and the background task re-issues and mails the links.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation

from psirt.audit.services import client_ip, record
from psirt.counters.services import ratelimit
from psirt.intake import tasks
from psirt.intake.models import (
    EventKind,
    Report,
)
from psirt.intake.services.common import add_event, mail_report_facts
from psirt.intake.services.limits import limit
from psirt.intake.services.tokens import email_hash, hash_token, new_token, normalise_email, portal_url
from psirt.mail.services import send_mail_bilingual


def lost_link_path(language: str) -> str:
    with translation.override(language):
        return reverse("intake:lost_link")


def request_new_link(*, email: str, language: str = "en", request: HttpRequest | None = None) -> None:
    """ "Lost my link": limits, then queues the same background task whether or not the address is known,
    so neither the answer nor its timing tells a stranger which addresses reported something."""
    address = client_ip(request)
    with transaction.atomic():
        ratelimit.hit_all(
            *([limit("lostlink_ip", address)] if address else []), limit("lostlink_email", normalise_email(email))
        )
    tasks.send_fresh_links.enqueue(email_hash=email_hash(email))


def reissue_links(*, email_hash_value: str) -> int:
    """New private tokens for every report filed from this address (old links stop working), mailed to
    the address on file. Returns how many reports were found. Runs in the background task."""
    reports = list(Report.objects.filter(email_hash=email_hash_value).order_by("created_at"))
    if not reports:
        return 0
    with transaction.atomic():
        now = timezone.now()
        for report in reports:
            token = new_token()
            report.token_hash = hash_token(token)
            report.token_issued_at = now
            report.save(update_fields=["token_hash", "token_issued_at", "updated_at"])
            add_event(report, EventKind.LINK, by_reporter=True)
            record(action="report.link_reissued", target=report)
            # One mail per report: each may carry its own OpenPGP key.
            send_mail_bilingual(
                to=[report.reporter_email],
                template="intake/mail/new_link",
                context={"report": mail_report_facts(report), "portal_url": portal_url(report, token)},
                language=report.language,
                pgp_key=report.pgp_key,
            )
    return len(reports)
