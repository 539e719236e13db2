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
import re
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from email.policy import Policy
from email.utils import formatdate, make_msgid
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import forbid_multi_line_headers
from django.core.mail.utils import DNS_NAME
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
from psirt.mail import writing
from psirt.mail.exceptions import Cancelled
from psirt.mail.models import OutboxMessage
from psirt.notify.exceptions import NotifyError
from psirt.notify.models import CustomerContact, Delivery, DeliveryKind, Subscription, Webhook
from psirt.notify.services import tokens
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


def unsubscribe_headers(unsubscribe: str) -> dict[str, str]:
    """The one-click unsubscribe headers (RFC 8058) for the subscriber's unsubscribe URL."""
    return {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


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


@dataclass(frozen=True)
class Addressee:
    """Who one advisory mail goes to: the address, the language, and (subscribers) their two links."""

    address: str
    language: str
    organization: str = ""  # customer contacts: their organization's name, which the mail names
    manage: str = ""
    unsubscribe: str = ""


def addressee(delivery: OutboxMessage) -> Addressee:
    """The recipient of an advisory delivery. Raises Cancelled when they are gone (unsubscribed, unconfirmed,
    deleted)."""
    if delivery.kind == DeliveryKind.SUBSCRIBER:
        sub = (
            getattr(delivery, _RECIPIENT, None) or Subscription.objects.filter(public_id=delivery.recipient_key).first()
        )
        if sub is None or sub.confirmed_at is None:
            raise Cancelled
        token = tokens.make(sub.public_id, tokens.MANAGE)
        return Addressee(
            address=sub.email,
            language=language_of(sub.language),
            manage=manage_url(sub, token=token),
            unsubscribe=unsubscribe_url(sub, token=token),
        )
    contact = (
        getattr(delivery, _RECIPIENT, None)
        or CustomerContact.objects.select_related("organization").filter(public_id=delivery.recipient_key).first()
    )
    if contact is None:
        raise Cancelled
    return Addressee(
        address=contact.email, language=language_of(contact.language), organization=contact.organization.name
    )


def mail_context(delivery: OutboxMessage, to: Addressee) -> str:
    """The template context of a delivery's mail (JSON, keys sorted), with marks where the links go: the same
    for every recipient of the revision who reads the same language (and, customers, works for the same
    organization)."""
    return _context(delivery.context, delivery.kind, delivery.event, delivery.revision, to.language, to.organization)


@lru_cache(maxsize=256)
def _context(notice_json: str, kind: str, event: str, revision: int, language: str, organization: str) -> str:
    notice = AdvisoryNotice.from_json(json.loads(notice_json or "{}"))
    context: dict[str, Any] = {
        "event": event,
        "revision": revision,
        "severity": notice.severity,
        "exploitation": notice.exploitation,
        "advisory_id": notice.id,
        "cves": list(notice.cves),
        "csaf_url": notice.csaf_url,
        "title": notice.title_for(language),
        "summary": notice.summary_for(language),
        "url": notice.url_for(language),
    }
    if kind == DeliveryKind.SUBSCRIBER:
        context.update(manage_url=MANAGE_MARK, unsubscribe_url=UNSUBSCRIBE_MARK)
    else:
        context["organization"] = organization
    return json.dumps(context, sort_keys=True)


def compose(
    frozen: str, to: Addressee, *, connection: BaseEmailBackend | None = None, headers: dict[str, str] | None = None
) -> EmailMultiAlternatives:
    """The mail for `to` from its context (`mail_context`), with its links put in. `headers` go first (a
    fixed Date or Message-ID)."""
    subject, text, html = render_cached("advisory", to.language, frozen)
    headers = dict(headers or {})
    if to.unsubscribe:
        for mark, url in ((MANAGE_MARK, to.manage), (UNSUBSCRIBE_MARK, to.unsubscribe)):
            text, html = text.replace(mark, url), html.replace(mark, url)
        headers.update(unsubscribe_headers(to.unsubscribe))
    mail = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to.address],
        headers=headers,
        connection=connection,
    )
    mail.attach_alternative(html, "text/html")
    return mail


def build(delivery: OutboxMessage, *, connection: BaseEmailBackend | None = None) -> EmailMultiAlternatives:
    """The mail of one advisory delivery (subscriber or customer contact). Raises Cancelled when the
    recipient is gone (unsubscribed, unconfirmed, deleted)."""
    to = addressee(delivery)
    return compose(mail_context(delivery, to), to, connection=connection)


# --- sending: the written-out mail of a revision and language ---------------------------------------------

# A fan-out's mails are the same bytes for every recipient of one revision in one language but for a few
# places: the To, Date and Message-ID headers, the unsubscribe header, the two links in both bodies, and the
# MIME boundary. `MailTemplate` is such a mail written out once by Django's own message code (`compose`) with
# marks in those places; each mail then puts its values in, each header folded by the message's own policy
# as the generator would. The result is the very bytes `compose` gives (tested), without building and
# writing out a MIME tree per recipient. A mail whose values could change more than those places (a link
# long enough to change a body's transfer encoding, a non-ASCII link) is written out in full instead.

_HEADER_MARKS = {
    "To": "psirtmark0to@psirt.invalid",  # an address: Django parses the To header
    "Date": "psirtmark0date",
    "Message-ID": "psirtmark0message0id",
    "List-Unsubscribe": "psirtmark0list0unsubscribe",
}
_LINK_MARKS = (MANAGE_MARK, UNSUBSCRIBE_MARK)
# The longest link put in as it is; a body line with marks keeps room for its links under RFC 5322's 998
# characters, so a link never turns a body to quoted-printable (which `compose` would then choose).
_MAX_LINK = 400
_LINE_LIMIT = 998
_BOUNDARY = "boundary:"


@dataclass(frozen=True)
class MailTemplate:
    pieces: tuple[bytes | str, ...]  # the mail's bytes, with a key (str) where a per-mail value goes
    sender: str  # the envelope sender
    encoding: str
    policy: Policy  # the message's policy, with CRLF line ends: folds the per-mail headers
    boundaries: tuple[str, ...]  # the keys of the multipart boundaries


@lru_cache(maxsize=64)
def mail_template(frozen: str, language: str, subscriber: bool, from_email: str) -> MailTemplate | None:
    """The written-out mail for this context and language (from `from_email`, the configured sender), or None
    when it cannot be one (see above)."""
    marks = dict(_HEADER_MARKS)
    if not subscriber:
        del marks["List-Unsubscribe"]
    to = Addressee(address=marks["To"], language=language)
    if subscriber:
        to = Addressee(address=marks["To"], language=language, manage=MANAGE_MARK, unsubscribe=UNSUBSCRIBE_MARK)
    mail = compose(frozen, to, headers={"Date": marks["Date"], "Message-ID": marks["Message-ID"]})
    if subscriber:
        mail.extra_headers["List-Unsubscribe"] = marks["List-Unsubscribe"]
    mime = mail.message()
    writing.set_boundaries(mime)
    for part in mime.walk():
        if part.is_multipart():
            continue
        payload = str(part.get_payload())
        lines = [line for line in payload.splitlines() if any(mark in line for mark in _LINK_MARKS)]
        if lines and str(part.get("Content-Transfer-Encoding", "")).lower() not in ("7bit", "8bit"):
            return None
        for line in lines:
            if len(line) + sum(line.count(mark) for mark in _LINK_MARKS) * _MAX_LINK > _LINE_LIMIT:
                return None
    policy = mime.policy.clone(linesep="\r\n")
    data = bytes(mime.as_bytes(linesep="\r\n"))  # as the outbox writes a mail (`send_smtp`)
    places: dict[bytes, str] = {}
    for name, mark in marks.items():
        line = policy.fold_binary(name, mark)
        if data.count(line) != 1:
            return None
        places[line] = name
    for mark in _LINK_MARKS:
        places[mark.encode()] = mark
    boundaries = []
    for number, part in enumerate(p for p in mime.walk() if p.is_multipart()):
        boundaries.append(f"{_BOUNDARY}{number}")
        places[str(part.get_boundary()).removeprefix(writing.BOUNDARY_PREFIX).encode()] = boundaries[-1]
    pattern = re.compile(b"|".join(re.escape(place) for place in sorted(places, key=len, reverse=True)))
    pieces: list[bytes | str] = []
    start = 0
    for found in pattern.finditer(data):
        pieces += [data[start : found.start()], places[found.group()]]
        start = found.end()
    pieces.append(data[start:])
    encoding = mail.encoding or settings.DEFAULT_CHARSET
    sender = outbox.envelope_sender(mail.from_email, encoding)
    return MailTemplate(tuple(pieces), sender, encoding, policy, tuple(boundaries))


# A link put in as it is: printable ASCII without spaces, at most _MAX_LINK characters.
_FITS = re.compile(rf"[!-~]{{1,{_MAX_LINK}}}")


def _link_fits(url: str) -> bool:
    return _FITS.fullmatch(url) is not None


def written_out(
    delivery: OutboxMessage, to: Addressee, *, date: str = "", message_id: str = "", boundary: str = ""
) -> tuple[str, str, bytes] | None:
    """(envelope sender, envelope recipient, the mail's bytes) of a delivery to `to`; None when it must be
    built in full (`compose`). `date`, `message_id` and `boundary` replace the fresh ones (tests)."""
    subscriber = delivery.kind == DeliveryKind.SUBSCRIBER
    if subscriber and not (_link_fits(to.manage) and _link_fits(to.unsubscribe)):
        return None
    template = mail_template(mail_context(delivery, to), to.language, subscriber, settings.DEFAULT_FROM_EMAIL)
    if template is None:
        return None
    policy, encoding = template.policy, template.encoding

    def header(name: str, value: str) -> bytes:
        # What Django does to a header value (SafeMIMEText.__setitem__), then what the generator does: a
        # short plain line is written as it is, anything else is folded by the message's policy.
        name, value = forbid_multi_line_headers(name, value, encoding)
        return writing.written_as_is(name, value, policy) or policy.fold_binary(name, value)

    values: dict[str, bytes] = {
        "To": header("To", to.address),
        "Date": header("Date", date or formatdate(localtime=settings.EMAIL_USE_LOCALTIME)),
        "Message-ID": header("Message-ID", message_id or make_msgid(domain=DNS_NAME)),
        MANAGE_MARK: to.manage.encode(),
        UNSUBSCRIBE_MARK: to.unsubscribe.encode(),
    }
    if subscriber:
        values["List-Unsubscribe"] = header("List-Unsubscribe", unsubscribe_headers(to.unsubscribe)["List-Unsubscribe"])
    for key in template.boundaries:
        # A fresh boundary per mail, as `set_boundaries` draws it (the same in every place of one part).
        values[key] = (boundary or secrets.token_hex(16)).encode()
    data = b"".join(piece if isinstance(piece, bytes) else values[piece] for piece in template.pieces)
    return template.sender, outbox.envelope_recipient(to.address, encoding), data


def send_mail(delivery: OutboxMessage, connection: BaseEmailBackend) -> None:
    """The outbox's sender of subscriber and customer rows: over the outbox's SMTP connection, the written-out
    mail of the revision and language with this recipient's values put in; otherwise the mail built in full."""
    to = addressee(delivery)
    if isinstance(connection, outbox.OutboxMailConnection) and connection.smtp:
        ready = written_out(delivery, to)
        if ready is not None:
            sender, recipient, data = ready
            connection.send_data(sender, [recipient], data)
            return
    compose(mail_context(delivery, to), to, connection=connection).send(fail_silently=False)
