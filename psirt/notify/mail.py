"""Templated, bilingual mail through Django's mail backend (SMTP in production).

A mail is rendered from three templates — `<name>.subject.txt`, `<name>.txt`, `<name>.html` — first in the
recipient's language, then in the other site language below it, so a reporter who picked the wrong language
can still read it. With an OpenPGP key the text is encrypted to it and sent without an HTML part (HTML would
carry the same text in clear).

`send_mail_bilingual` queues the mail in the outbox (psirt.notify.outbox); a worker calls `send_rendered`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from psirt.lib import pgp

logger = logging.getLogger(__name__)

SEPARATOR = "\n\n" + "-" * 60 + "\n\n"


def _languages(primary: str) -> list[str]:
    codes = [code for code, _name in settings.LANGUAGES]
    first = primary if primary in codes else settings.LANGUAGE_CODE
    return [first] + [c for c in codes if c != first]


def _render(template: str, suffix: str, context: Mapping[str, Any], language: str) -> str:
    with translation.override(language):
        return render_to_string(f"{template}.{suffix}", {**context, "mail_language": language}).strip()


def render_bilingual(template: str, context: Mapping[str, Any], language: str) -> tuple[str, str, str]:
    """(subject, text, html) with the recipient's language first."""
    langs = _languages(language)
    subjects = [" ".join(_render(template, "subject.txt", context, lang).split()) for lang in langs]
    # One line, and the same subject twice is said once.
    subject = " / ".join(dict.fromkeys(subjects))
    text = SEPARATOR.join(_render(template, "txt", context, lang) for lang in langs)
    html_parts = [
        f'<div lang="{"zh-Hans" if lang.startswith("zh") else "en"}">{_render(template, "html", context, lang)}</div>'
        for lang in langs
    ]
    html = '<!doctype html><html><head><meta charset="utf-8"></head><body>' + "<hr>".join(html_parts) + "</body></html>"
    return subject, text, html


def send_rendered(
    *,
    to: Sequence[str],
    template: str,
    context: Mapping[str, Any],
    language: str = "en",
    pgp_key: str = "",
    reply_to: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
) -> bool:
    """Render and send one mail now. Returns False when it must not be sent (the recipient's key cannot
    encrypt: the clear text is never sent instead). Raises on transport errors (the outbox retries)."""
    subject, text, html = render_bilingual(template, context, language)
    alternatives: list[Any] = [(html, "text/html")]
    if pgp_key:
        try:
            text = pgp.encrypt_to(text, pgp_key)
            alternatives = []
        except pgp.PgpError:
            logger.warning("mail %s not sent: the recipient's key cannot encrypt", template)
            return False
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        reply_to=list(reply_to) or None,
        headers=dict(headers or {}),
        alternatives=alternatives,
    )
    return bool(message.send(fail_silently=False))


def send_mail_bilingual(
    *,
    to: Sequence[str],
    template: str,
    context: Mapping[str, Any],
    language: str = "en",
    pgp_key: str = "",
    reply_to: Sequence[str] = (),
) -> None:
    """Queue a bilingual mail (text + HTML, or OpenPGP-encrypted text) for the worker to send after the
    current transaction commits. `context` holds plain JSON values (see psirt.notify.outbox)."""
    from psirt.notify.outbox import queue_mail

    queue_mail(to=to, template=template, context=context, language=language, pgp_key=pgp_key, reply_to=reply_to)
