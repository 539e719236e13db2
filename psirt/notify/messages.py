"""The mails of notifications: built at send time from the delivery row, in the recipient's one language.

Every mail to a subscriber carries `List-Unsubscribe` (an https URL) with `List-Unsubscribe-Post:
List-Unsubscribe=One-Click` (RFC 8058: mail clients unsubscribe with one POST) and a link to the page where
the subscriber changes their choices.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from psirt.lib.http import absolute_url
from psirt.notify import tokens
from psirt.notify.models import Delivery, DeliveryKind, Subscription
from psirt.notify.notices import AdvisoryNotice


def language_of(code: str) -> str:
    return "zh-hans" if code.startswith("zh") else "en"


def manage_url(subscription: Subscription) -> str:
    with translation.override(language_of(subscription.language)):
        return absolute_url(reverse("notify:manage", args=[tokens.make(subscription.public_id, tokens.MANAGE)]))


def unsubscribe_url(subscription: Subscription) -> str:
    # Outside the language prefix: the one-click URL must answer a bare POST from a mail client.
    return absolute_url(reverse("notify_unsubscribe", args=[tokens.make(subscription.public_id, tokens.MANAGE)]))


def confirm_url(subscription: Subscription) -> str:
    with translation.override(language_of(subscription.language)):
        return absolute_url(reverse("notify:confirm", args=[tokens.make(subscription.public_id, tokens.CONFIRM)]))


def render(template: str, context: dict[str, Any], language: str) -> tuple[str, str, str]:
    """(subject, text, html) of `notify/mail/<template>` in one language."""
    with translation.override(language):
        subject = " ".join(render_to_string(f"notify/mail/{template}.subject.txt", context).split())
        text = render_to_string(f"notify/mail/{template}.txt", context).strip() + "\n"
        html = render_to_string(f"notify/mail/{template}.html", context)
    return subject, text, html


# Per-recipient links are put in after rendering: a fan-out renders each (advisory, language) once, not
# once per subscriber. The marks are plain letters and digits, which no escaping changes.
MANAGE_MARK = "psirtmark0manage0url"
UNSUBSCRIBE_MARK = "psirtmark0unsubscribe0url"


@lru_cache(maxsize=64)
def _render_cached(template: str, language: str, frozen: str) -> tuple[str, str, str]:
    return render(template, {**json.loads(frozen), "mail_language": language}, language)


def message(
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    language: str,
    headers: dict[str, str] | None = None,
    connection: Any = None,
) -> EmailMultiAlternatives:
    subject, text, html = render(template, {**context, "mail_language": language}, language)
    mail = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=headers or {},
        connection=connection,
    )
    mail.attach_alternative(html, "text/html")
    return mail


def unsubscribe_headers(subscription: Subscription) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(subscription)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def build(delivery: Delivery, *, connection: Any = None) -> EmailMultiAlternatives:
    """The mail of one advisory delivery (subscriber or customer contact)."""
    from psirt.notify.deliveries import Cancelled

    notice = AdvisoryNotice.from_json(delivery.notice)
    context: dict[str, Any] = {
        "event": delivery.event,
        "revision": delivery.revision,
        "severity": notice.severity,
        "advisory_id": notice.id,
        "cves": list(notice.cves),
        "csaf_url": notice.csaf_url,
    }
    links: dict[str, str] = {}
    if delivery.kind == DeliveryKind.SUBSCRIBER:
        sub = delivery.subscription
        if sub is None or sub.confirmed_at is None:
            raise Cancelled
        language = language_of(sub.language)
        context.update(manage_url=MANAGE_MARK, unsubscribe_url=UNSUBSCRIBE_MARK)
        links = {MANAGE_MARK: manage_url(sub), UNSUBSCRIBE_MARK: unsubscribe_url(sub)}
        headers = unsubscribe_headers(sub)
        to = sub.email
    else:
        contact = delivery.contact
        if contact is None:
            raise Cancelled
        language = language_of(contact.language)
        context["organization"] = contact.organization.name
        headers = {}
        to = contact.email
    context.update(title=notice.title_for(language), summary=notice.summary_for(language), url=notice.url_for(language))
    subject, text, html = _render_cached("advisory", language, json.dumps(context, sort_keys=True))
    for mark, url in links.items():
        text, html = text.replace(mark, url), html.replace(mark, url)
    mail = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=headers,
        connection=connection,
    )
    mail.attach_alternative(html, "text/html")
    return mail
