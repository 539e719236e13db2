""" "Lost my link": a reporter asks for fresh private links by e-mail address; the answer and its timing are
the same whether or not the address is known, and the background task re-issues and mails the links.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation

from psirt.audit.services import record
from psirt.counters.services import ratelimit
from psirt.intake import tasks
from psirt.intake.models import (
    EventKind,
    Report,
)
from psirt.intake.services.common import add_event, mail_report_facts, send_reporter_mail
from psirt.intake.services.limits import limit
from psirt.intake.services.tokens import email_hash, hash_token, new_token, normalise_email
from psirt.lib.http import client_address


def lost_link_path(language: str) -> str:
    with translation.override(language):
        return reverse("intake:lost_link")


def request_new_link(*, email: str, language: str = "en", request: HttpRequest | None = None) -> None:
    """ "Lost my link": limits, then queues the same background task whether or not the address is known,
    so neither the answer nor its timing tells a stranger which addresses reported something."""
    address = client_address(request) if request is not None else None
    with transaction.atomic():
        ratelimit.hit_all(
            *([limit("lostlink_ip", address)] if address else []), limit("lostlink_email", normalise_email(email))
        )
    tasks.send_fresh_links.enqueue(email_hash=email_hash(email))


def reissue_links(*, email_hash_value: str) -> int:
    """A next private token for every report filed from this address, mailed to the address on file. The
    current link keeps working until the next one is first used (`tokens.find_report_by_token` then makes it
    the current one), so a stranger who knows the address can make mail arrive but cannot lock the reporter
    out. Asking again replaces the pending next token. Returns how many reports were found. Runs in the
    background task."""
    reports = list(Report.objects.filter(email_hash=email_hash_value).order_by("created_at"))
    if not reports:
        return 0
    with transaction.atomic():
        for report in reports:
            token = new_token()
            report.next_token_hash = hash_token(token)
            report.save(update_fields=["next_token_hash", "updated_at"])
            add_event(report, EventKind.LINK, by_reporter=True)
            record(action="report.link_reissued", target=report)
            # One mail per report: each may carry its own OpenPGP key.
            send_reporter_mail(
                report=report,
                template="intake/mail/new_link",
                context={"report": mail_report_facts(report)},
                token=token,
            )
    return len(reports)
