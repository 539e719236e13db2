"""The text of /.well-known/security.txt (RFC 9116), clear-signed with the team signing key. The views in
`psirt.pages.views.public` serve it, and the team's public encryption key at a stable, language-neutral address
(/pgp-key.txt) for its Encryption field.

The fields come from the organization profile (security e-mail, encryption key), the public pages (report form,
disclosure policy, acknowledgments), `PSIRT_BASE_URL` and `PSIRT_HIRING_URL`. A value that cannot be written as a
single-line URI is left out and logged instead of failing the whole file: a broken profile e-mail must not take the
report form's Contact line down with it.

Expires rolls: midnight UTC of today plus 180 days. The text therefore changes at most once a day (or when the
profile changes), and the signature of a text is computed once per process and reused.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import OrderedDict
from datetime import UTC, datetime, time, timedelta
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.encoding import iri_to_uri

from psirt.formats.securitytxt import SecurityTxt, render_security_txt
from psirt.lib.http import absolute_url
from psirt.lib.signing import SigningUnavailable, signing_key
from psirt.organization.models import OrganizationProfile

logger = logging.getLogger(__name__)

VALIDITY = timedelta(days=180)
MAX_AGE = 3600  # an hour in caches: a changed contact address reaches scanners the same day
KEY_CONTENT_TYPE = "text/plain; charset=utf-8"  # readable in a browser, importable with `gpg --import`
_HTTPS_URI = re.compile(r"^https://[\x21-\x7e]+$")
_SIGNED_CACHE_SIZE = 8

_signed: OrderedDict[tuple[str, str], str] = OrderedDict()
_signed_lock = threading.Lock()
_warned: set[str] = set()


def expires_for(now: datetime) -> datetime:
    """Midnight UTC of `now`'s day plus 180 days: under a year ahead, the same all day long."""
    day = now.astimezone(UTC).date()
    return datetime.combine(day, time.min, tzinfo=UTC) + VALIDITY


def _https(url: str, field: str) -> str | None:
    """`url` with non-ASCII letters percent-encoded when it is an https URL on one line without spaces; None (and a
    log line) otherwise. Spaces and line breaks are refused rather than encoded: they mean the value is not a URL."""
    encoded = iri_to_uri(url) if not any(c.isspace() or not c.isprintable() for c in url) else ""
    if _HTTPS_URI.match(encoded):
        return encoded
    # Over plain http (PSIRT_DEV=1 only: production refuses an http base URL) RFC 9116 allows no web URL at all.
    logger.warning("security.txt: %s left out, it is not a single-line https:// URL", field)
    return None


def _mailto(address: str) -> str | None:
    try:
        validate_email(address)
    except ValidationError:
        logger.warning("security.txt: the profile's security e-mail is not a valid address; Contact left out")
        return None
    return "mailto:" + quote(address, safe="@!$&'*+=?^_`{|}~.-")


def _report_path() -> str:
    try:
        return reverse("intake:report")
    except NoReverseMatch:  # the intake app switched off: the reporting guidelines say how to report instead
        return reverse("pages:guidelines")


def security_txt_fields(*, profile: OrganizationProfile, now: datetime) -> SecurityTxt:
    """The fields of the file. Page URLs are the English ones: every page links to its Chinese version."""
    with translation.override("en"):
        report, policy, acknowledgments = _report_path(), reverse("pages:policy"), reverse("pages:acknowledgments")

    def urls(*pairs: tuple[str, str]) -> tuple[str, ...]:
        return tuple(u for u in (_https(url, field) for field, url in pairs) if u)

    mailto = _mailto(profile.security_email)
    contact = ((mailto,) if mailto else ()) + urls(("Contact", absolute_url(report)))
    hiring = str(getattr(settings, "PSIRT_HIRING_URL", "") or "")
    return SecurityTxt(
        contact=contact,
        expires=expires_for(now),
        encryption=urls(("Encryption", absolute_url(reverse("security_team_key")))) if profile.pgp_public_key else (),
        acknowledgments=urls(("Acknowledgments", absolute_url(acknowledgments))),
        preferred_languages=("en", "zh"),
        canonical=urls(("Canonical", absolute_url(reverse("security_txt")))),
        policy=urls(("Policy", absolute_url(policy))),
        hiring=urls(("Hiring", hiring)) if hiring else (),
        csaf=urls(("CSAF", absolute_url("/.well-known/csaf/provider-metadata.json"))),
    )


def _warn_once(message: str) -> None:
    """Scanners fetch security.txt all day: one line per process and cause is enough (`check --deploy` warns too)."""
    with _signed_lock:
        if message in _warned:
            return
        _warned.add(message)
    logger.warning("%s", message)


def _clear_sign(text: str) -> tuple[str, str]:
    """(`text` clear-signed, the key's fingerprint), or (`text`, "") when no signing key is configured."""
    try:
        key = signing_key()
    except SigningUnavailable as exc:
        _warn_once(f"security.txt is served unsigned: {exc}")
        return text, ""
    cache_key = (key.fingerprint, text)
    with _signed_lock:
        if cache_key in _signed:
            _signed.move_to_end(cache_key)
            return _signed[cache_key], key.fingerprint
    try:
        signed = key.clear_sign(text)
    except SigningUnavailable as exc:
        logger.error("security.txt is served unsigned: %s", exc)
        return text, ""
    with _signed_lock:
        _signed[cache_key] = signed
        while len(_signed) > _SIGNED_CACHE_SIZE:
            _signed.popitem(last=False)
    return signed, key.fingerprint


def security_txt(*, now: datetime | None = None) -> tuple[str, str]:
    """The file as served and a weak ETag for it (equal text and key, equal tag, whatever the signature bytes)."""
    now = now or timezone.now()
    text = render_security_txt(security_txt_fields(profile=OrganizationProfile.get(), now=now), now=now)
    body, fingerprint = _clear_sign(text)
    digest = hashlib.sha256(f"{fingerprint}\n{text}".encode()).hexdigest()[:40]
    return body, f'W/"{digest}"'
