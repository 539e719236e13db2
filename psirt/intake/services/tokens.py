"""Private report tokens and portal links: the token shown once at submission (only its hash is stored),
the signed, expiring magic links sent in mail, and finding the report either one opens.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from psirt.audit.services import record
from psirt.intake.models import (
    Report,
)
from psirt.lib.crypto import keyed_hash
from psirt.lib.http import absolute_url, route_path

TOKEN_BYTES = 32  # 256 bits; an unguessable token needs at least 128


TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


MAGIC_SALT = "psirt.intake.portal-magic-link"


MAGIC_MAX_AGE = 14 * 24 * 3600


EMAIL_HASH_PURPOSE = "reporter-email"


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def email_hash(email: str) -> str:
    """Keyed hash of the normalised address: finds a reporter's reports without storing the address."""
    return keyed_hash(normalise_email(email), purpose=EMAIL_HASH_PURPOSE)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", errors="replace")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def portal_path(token: str, language: str = "en") -> str:
    return route_path("portal:home", language, token)


def portal_language(report: Report) -> str:
    """The language the reporter's portal opens in: theirs, or the site's default when they wrote in neither."""
    return report.language if report.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def portal_url(report: Report, token: str) -> str:
    return absolute_url(portal_path(token, portal_language(report)))


def magic_token(report: Report) -> str:
    """A signed, expiring portal token for mail about an existing report (we cannot mail the private
    token: only its hash is kept). Dies when the private link is re-issued."""
    payload = {"r": str(report.public_id), "k": _link_generation(report)}
    return "m." + signing.dumps(payload, salt=MAGIC_SALT, compress=True)


def _link_generation(report: Report) -> str:
    # Changes whenever the private token is re-issued, which kills every magic link sent before.
    return keyed_hash(report.token_hash, purpose="magic-link")[:20]


def magic_url(report: Report) -> str:
    return absolute_url(portal_path(magic_token(report), portal_language(report)))


def find_report_by_token(token: str) -> Report | None:
    """The report a private token or a magic link token opens, or None (also for malformed tokens)."""
    token = token or ""
    if token.startswith("m."):
        if len(token) > 400:
            return None
        try:
            data = signing.loads(token[2:], salt=MAGIC_SALT, max_age=MAGIC_MAX_AGE)
        except (signing.BadSignature, ValueError, TypeError):
            return None
        if not isinstance(data, dict):
            return None
        report = Report.objects.select_related("product", "release").filter(public_id=str(data.get("r"))).first()
        if report is None or not secrets.compare_digest(_link_generation(report), str(data.get("k", ""))):
            return None
        return report
    if not TOKEN_RE.match(token):
        return None
    hashed = hash_token(token)
    report = Report.objects.select_related("product", "release").filter(token_hash=hashed).first()
    if report is not None:
        return report
    return _promote_next_token(hashed)


def _promote_next_token(hashed: str) -> Report | None:
    """The first use of a link mailed by "lost my link" makes it the report's private link; only then does the
    previous one (and every magic link sent before) stop working."""
    with transaction.atomic():
        # No select_related here: PostgreSQL cannot lock the nullable side of an outer join.
        report = Report.objects.select_for_update().filter(next_token_hash=hashed).first()
        if report is None:
            # A concurrent first use may have promoted it a moment ago.
            return Report.objects.select_related("product", "release").filter(token_hash=hashed).first()
        report.token_hash = hashed
        report.next_token_hash = ""
        report.token_issued_at = timezone.now()
        report.save(update_fields=["token_hash", "next_token_hash", "token_issued_at", "updated_at"])
        record(action="report.link_activated", target=report)
    return report
