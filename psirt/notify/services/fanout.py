"""The advisory fan-out: one outbox row (`psirt.mail`) per matching subscriber, webhook and customer contact
for each published revision, and the senders that turn a row into a mail at send time, in the recipient's
one language.

`AdvisoryNotice` carries only public facts (the advisory is published when anyone is notified); it is stored
as the row's context, so a mail or webhook sent later says what was true when it was queued.
`notice_from_advisory` is the one adapter from `psirt.advisories.models.Advisory`.

Every mail to a subscriber carries `List-Unsubscribe` (an https URL) with `List-Unsubscribe-Post:
List-Unsubscribe=One-Click` (RFC 8058: mail clients unsubscribe with one POST) and a link to the page where
the subscriber changes their choices.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.advisories.models import Advisory, Revision
from psirt.audit.services import record
from psirt.lib.access import require_lead
from psirt.lib.http import absolute_url
from psirt.lib.severity import at_or_below
from psirt.mail import services as outbox
from psirt.mail.exceptions import Cancelled
from psirt.mail.models import OutboxMessage
from psirt.notify.exceptions import NotifyError
from psirt.notify.models import CustomerContact, Delivery, DeliveryKind, Subscription, Webhook
from psirt.notify.services.subscriptions import language_of, manage_url, unsubscribe_url


@dataclass(frozen=True)
class AdvisoryNotice:
    """The essentials of one advisory for subscribers, customers and webhooks."""

    id: str  # the public advisory ID, e.g. VT-SA-2026-004
    title_en: str
    title_zh: str = ""
    summary_en: str = ""
    summary_zh: str = ""
    severity: str = ""  # None/Low/Medium/High/Critical (psirt.lib.severity), "" when unscored
    exploitation: str = ""  # none/poc/active (psirt.cases.models.Exploitation), "" when not given
    product_slugs: tuple[str, ...] = field(default_factory=tuple)
    product_line_slugs: tuple[str, ...] = field(default_factory=tuple)
    url: str = ""  # absolute URL of the public page (English)
    csaf_url: str = ""  # absolute URL of the CSAF document
    cves: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("product_slugs", "product_line_slugs", "cves"):
            data[name] = list(data[name])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AdvisoryNotice:
        known = {f: data[f] for f in cls.__dataclass_fields__ if f in data}
        for name in ("product_slugs", "product_line_slugs", "cves"):
            if name in known:
                known[name] = tuple(known[name])
        return cls(**known)

    def title_for(self, language: str) -> str:
        return self.title_zh if language.startswith("zh") and self.title_zh else self.title_en

    def summary_for(self, language: str) -> str:
        return self.summary_zh if language.startswith("zh") and self.summary_zh else self.summary_en

    def url_for(self, language: str) -> str:
        """The public page in the reader's language (the URL carries the language prefix)."""
        if language.startswith("zh") and "/en/" in self.url:
            return self.url.replace("/en/", "/zh-hans/", 1)
        return self.url


def notice_from_advisory(advisory: Advisory) -> AdvisoryNotice:
    """Adapter from `psirt.advisories.models.Advisory` (affected rows → product and line slugs)."""
    rows = advisory.affected.select_related("product__line")
    products = sorted({row.product.slug for row in rows})
    lines = sorted({row.product.line.slug for row in rows})
    with translation.override("en"):
        page = reverse("advisories:detail", args=[advisory.advisory_id])
    return AdvisoryNotice(
        id=advisory.advisory_id,
        title_en=advisory.title_en,
        title_zh=advisory.title_zh,
        summary_en=advisory.summary_en,
        summary_zh=advisory.summary_zh,
        severity=advisory.severity or "",
        exploitation=advisory.exploitation or "",
        product_slugs=tuple(products),
        product_line_slugs=tuple(lines),
        url=absolute_url(page),
        # The machine-readable document lives next to the page: /advisories/<ID>/csaf.json.
        csaf_url=absolute_url(f"/advisories/{advisory.advisory_id}/csaf.json"),
        cves=tuple(advisory.cve_ids),
    )


def notice_of(delivery: OutboxMessage) -> dict[str, Any]:
    """The notice a delivery row carries (as stored: plain JSON values)."""
    data: dict[str, Any] = json.loads(delivery.context or "{}")
    return data


# --- queueing ---------------------------------------------------------------------------------------------


def matching_subscriptions(notice: AdvisoryNotice) -> QuerySet[Subscription, uuid.UUID]:
    """Confirmed subscribers whose products/lines and minimum severity match the advisory."""
    wanted = at_or_below(notice.severity)
    scope = Q(all_products=True)
    if notice.product_slugs:
        scope |= Q(products__slug__in=notice.product_slugs)
    if notice.product_line_slugs:
        scope |= Q(product_lines__slug__in=notice.product_line_slugs)
    return (
        Subscription.objects.filter(confirmed_at__isnull=False, min_severity__in=wanted)
        .filter(scope)
        .values_list("public_id", flat=True)
        .distinct()
    )


def affected_contacts(notice: AdvisoryNotice) -> list[uuid.UUID]:
    """Public ids of the contacts of every customer organization running an affected product."""
    return list(
        CustomerContact.objects.filter(organization__products__slug__in=notice.product_slugs)
        .values_list("public_id", flat=True)
        .distinct()
    )


def revision_number(revision: int | Revision) -> int:
    number = getattr(revision, "number", revision)
    if not isinstance(number, int) or number < 1:
        raise NotifyError(_("A revision number starts at 1."))
    return number


# A direct notice to customers before (or without) an advisory: its "advisory" is a notice written on the
# regulatory desk (Art. 14(8)), with no public page yet; the mail says so instead of "we published".
DIRECT_NOTICE_EVENT = "customer.notice"


def delivery_rows(
    notice: AdvisoryNotice, number: int, kind: str, recipients: Iterable[object], *, event: str = ""
) -> outbox.FanOut:
    """One outbox row per recipient (public ids) for this revision of the advisory."""
    event = event or ("advisory.published" if number == 1 else "advisory.revised")
    return outbox.FanOut(
        kind=kind,
        event=event,
        reference=notice.id,
        revision=number,
        context=json.dumps(notice.to_json()),
        recipient_keys=[str(key) for key in recipients],
    )


def notify_advisory(
    *,
    advisory: Advisory | AdvisoryNotice,
    revision: int | Revision,
    significant: bool,
    actor: User | None,
    customers: bool = False,
    request: HttpRequest | None = None,
) -> int:
    """Queue one notification per matching subscriber and webhook (and, with `customers`, per contact of
    the customer organizations running an affected product) for this revision of a published advisory.

    `advisory` is an `AdvisoryNotice` or an Advisory model; `revision` a number or a Revision. Revision 1 is
    the publication and always notifies; a later revision notifies only when `significant` (the lead's
    choice). Call it inside the publishing transaction: the rows commit with the publication and the
    workers start after the commit. Calling it twice for the same revision queues nothing new. Returns
    the number of deliveries considered."""
    notice = advisory if isinstance(advisory, AdvisoryNotice) else notice_from_advisory(advisory)
    number = revision_number(revision)
    if number > 1 and not significant:
        return 0
    rows = [delivery_rows(notice, number, DeliveryKind.SUBSCRIBER, matching_subscriptions(notice).iterator())]
    hooks = Webhook.objects.filter(active=True).filter(
        Q(all_products=True) | Q(products__slug__in=notice.product_slugs)
    )
    rows.append(
        delivery_rows(notice, number, DeliveryKind.WEBHOOK, hooks.values_list("public_id", flat=True).distinct())
    )
    if customers:
        rows.append(delivery_rows(notice, number, DeliveryKind.CUSTOMER, affected_contacts(notice)))
    count = sum(len(fanout.recipient_keys) for fanout in rows)
    with transaction.atomic():
        outbox.queue_batch(rows)
        record(
            action="notify.advisory_queued",
            actor=actor,
            request=request,
            target_type="advisories.advisory",
            target_id=notice.id,
            data={
                "revision": number,
                "event": "advisory.published" if number == 1 else "advisory.revised",
                "deliveries": count,
                "customers": customers,
            },
        )
    return count


def notify_customers(
    *,
    advisory: Advisory | AdvisoryNotice,
    revision: int | Revision,
    actor: User,
    direct: bool = False,
    request: HttpRequest | None = None,
) -> int:
    """Direct notices only: one mail per contact of each organization running an affected product.

    With `direct`, the notice is not a published advisory but a notice written for these customers (its
    `url` may be empty): the mails say "security notice", not "we published advisory"."""
    notice = advisory if isinstance(advisory, AdvisoryNotice) else notice_from_advisory(advisory)
    number = revision_number(revision)
    event = DIRECT_NOTICE_EVENT if direct else ""
    rows = delivery_rows(notice, number, DeliveryKind.CUSTOMER, affected_contacts(notice), event=event)
    with transaction.atomic():
        outbox.queue_batch([rows])
        record(
            action="notify.customers_queued",
            actor=actor,
            request=request,
            target_type="advisories.advisory",
            target_id=notice.id,
            data={"revision": number, "contacts": len(rows.recipient_keys), "direct": direct},
        )
    return len(rows.recipient_keys)


def retry_delivery(*, delivery: Delivery, actor: User, request: HttpRequest | None = None) -> Delivery:
    """A lead sends a failed or given-up delivery again now, with a fresh give-up deadline."""
    require_lead(actor, NotifyError)
    with transaction.atomic():
        if not outbox.retry_now(delivery):
            raise NotifyError(_("Only a failed delivery can be retried."))
        record(action="notify.delivery_retried", actor=actor, request=request, target=delivery)
    delivery.refresh_from_db()
    return delivery


# --- sending: the mails -----------------------------------------------------------------------------------

# Per-recipient links are put in after rendering: a fan-out renders each (advisory, language) once, not
# once per subscriber. The marks are plain letters and digits, which no escaping changes.
MANAGE_MARK = "psirtmark0manage0url"
UNSUBSCRIBE_MARK = "psirtmark0unsubscribe0url"


@lru_cache(maxsize=64)
def render_cached(template: str, language: str, frozen: str) -> tuple[str, str, str]:
    subject, text, html = outbox.render_one(f"notify/mail/{template}", json.loads(frozen), language)
    return subject, text + "\n", html


def unsubscribe_headers(subscription: Subscription) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(subscription)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


# The attribute a batch's rows carry their loaded recipient in (see load_recipients).
_RECIPIENT = "_psirt_recipient"


def load_recipients(rows: Sequence[OutboxMessage]) -> None:
    """Load the subscriptions and customer contacts of a batch of advisory mails in one query per kind,
    instead of one per mail; `build` uses them. A row whose recipient is not found keeps nothing, and
    `build` looks it up itself (gone: the mail is cancelled)."""
    queries: dict[str, QuerySet[Any]] = {
        DeliveryKind.SUBSCRIBER: Subscription.objects.all(),
        DeliveryKind.CUSTOMER: CustomerContact.objects.select_related("organization"),
    }
    for kind, query in queries.items():
        keys = [row.recipient_key for row in rows if row.kind == kind]
        if not keys:
            continue
        found = {str(recipient.public_id): recipient for recipient in query.filter(public_id__in=keys)}
        for row in rows:
            if row.kind == kind and row.recipient_key in found:
                setattr(row, _RECIPIENT, found[row.recipient_key])


def build(delivery: OutboxMessage, *, connection: BaseEmailBackend | None = None) -> EmailMultiAlternatives:
    """The mail of one advisory delivery (subscriber or customer contact). Raises Cancelled when the
    recipient is gone (unsubscribed, unconfirmed, deleted)."""
    notice = AdvisoryNotice.from_json(notice_of(delivery))
    context: dict[str, Any] = {
        "event": delivery.event,
        "revision": delivery.revision,
        "severity": notice.severity,
        "exploitation": notice.exploitation,
        "advisory_id": notice.id,
        "cves": list(notice.cves),
        "csaf_url": notice.csaf_url,
    }
    links: dict[str, str] = {}
    if delivery.kind == DeliveryKind.SUBSCRIBER:
        sub = (
            getattr(delivery, _RECIPIENT, None) or Subscription.objects.filter(public_id=delivery.recipient_key).first()
        )
        if sub is None or sub.confirmed_at is None:
            raise Cancelled
        language = language_of(sub.language)
        context.update(manage_url=MANAGE_MARK, unsubscribe_url=UNSUBSCRIBE_MARK)
        links = {MANAGE_MARK: manage_url(sub), UNSUBSCRIBE_MARK: unsubscribe_url(sub)}
        headers = unsubscribe_headers(sub)
        to = sub.email
    else:
        contact = (
            getattr(delivery, _RECIPIENT, None)
            or CustomerContact.objects.select_related("organization").filter(public_id=delivery.recipient_key).first()
        )
        if contact is None:
            raise Cancelled
        language = language_of(contact.language)
        context["organization"] = contact.organization.name
        headers = {}
        to = contact.email
    context.update(title=notice.title_for(language), summary=notice.summary_for(language), url=notice.url_for(language))
    subject, text, html = render_cached("advisory", language, json.dumps(context, sort_keys=True))
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


def send_mail(delivery: OutboxMessage, connection: BaseEmailBackend) -> None:
    """The outbox's sender of subscriber and customer rows."""
    build(delivery, connection=connection).send(fail_silently=False)
