"""How a worker writes a mail out: the bytes Django's message code writes (`EmailMessage.message()`, then the
standard library's generator under compat32 with CRLF line ends), with less of the work done per mail.

Three things are done once instead of per mail: each multipart part's boundary is drawn from the system's secure
generator (`set_boundaries`) instead of being checked against the text; a header value that is the same in every
mail is folded once per process (`KeptFolding`); and a mail of the usual shape — a text, and at most an HTML
alternative, in UTF-8 with no long line, no attachment, no header of the sender's own — is written from the parts'
headers as Django writes them once per process, its own headers folded as Django folds them, and its texts put in
with their line ends made CRLF (`written`), without building the message's tree and walking it with the generator.
Anything else, or anything that fails on the way, is left to Django's message code, which writes it (or refuses it)
as it always does.
"""

from __future__ import annotations

import re
import secrets
from email.message import Message
from email.policy import Compat32, Policy
from email.utils import formatdate, make_msgid
from functools import cache
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.message import RFC5322_EMAIL_LINE_LENGTH_LIMIT, SafeMIMEText, forbid_multi_line_headers
from django.core.mail.utils import DNS_NAME

from psirt.lib.kept import Kept

BOUNDARY_PREFIX = "=_psirt_"


def set_boundaries(mime: Message) -> None:
    """Give each multipart part of `mime` its boundary before the message is written: 128 random bits from the
    system's secure generator, which no sender can guess and no text contains by chance. Left to itself, the
    standard library's generator draws a boundary and compiles a regular expression per part to check that no
    part contains it: the largest single cost of writing a fan-out mail (~15 % of a worker's time per mail)."""
    for part in mime.walk():
        if part.is_multipart() and not part.get_boundary():
            part.set_boundary(new_boundary())


def new_boundary() -> str:
    return BOUNDARY_PREFIX + secrets.token_hex(16)


# Headers whose value is the same in nearly every mail a process writes: the configured sender and each part's
# MIME headers. A multipart's Content-Type is not: it names the part's boundary, fresh in every mail. Nor is a header
# that may name a person (To, Reply-To): no address of theirs is kept past their mail.
KEPT_HEADERS = frozenset({"from", "mime-version", "content-type", "content-transfer-encoding"})
# (name, value, line end, line length, transfer encoding) → the folded header line. Its key is all the folding
# reads, so nothing ages.
FOLDED = Kept(max_entries=256, max_age=float("inf"))


# Printable ASCII words (no control character, no line break, nothing to encode) between single spaces, none
# leading or trailing: a header value with nothing to fold or encode.
PLAIN_HEADER = re.compile(r"[!-~]+(?: [!-~]+)*\Z")


def written_as_is(name: str, value: str, policy: Policy) -> bytes | None:
    """The header line `policy` writes for `name: value` when it is the line as it is, or None. Under compat32 (or
    a subclass), a plain value (`PLAIN_HEADER`) whose line fits the policy's length (78 characters when it sets
    none) is written unfolded and unencoded: the standard library's Header, which would split and join it again,
    is skipped."""
    if not isinstance(policy, Compat32):
        return None
    if len(name) + len(value) + 2 <= (policy.max_line_length or 78) and PLAIN_HEADER.match(value):
        return f"{name}: {value}{policy.linesep}".encode("ascii")
    return None


class KeptFolding(Compat32):
    """The policy Django writes its messages with (compat32), whose folding of a header that is the same in every
    mail (`KEPT_HEADERS`) is kept: the standard library's folding of it (a `Header` split and encoded, a tenth of
    writing out a mail each time) is done once per process, and the bytes written are the same."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        fold = super().fold_binary
        if not isinstance(value, str):
            return fold(name, value)
        line = written_as_is(name, value, self)
        if line is not None:
            return line
        if name.lower() not in KEPT_HEADERS or value.startswith("multipart/"):
            return fold(name, value)
        key = (name, value, self.linesep, self.max_line_length, self.cte_type)
        return FOLDED.get("", key, lambda: fold(name, value))


KEPT_FOLDING = KeptFolding()
# The policy the generator writes a worker's mail with: `as_bytes(linesep="\r\n")` clones the message's.
WIRE = KEPT_FOLDING.clone(linesep="\r\n")
CRLF = b"\r\n"
# The line ends the generator turns into CRLF (the standard library's NLCRE).
LINE_ENDS = re.compile(rb"\r\n|\r|\n")
# Extra headers a mail of the usual shape may carry: the ones Django would otherwise make itself.
OWN_HEADERS = frozenset({"date", "message-id"})


def written(mail: EmailMessage) -> bytes | None:
    """The bytes `mail.message()` written out with fresh boundaries (`set_boundaries`) and CRLF line ends would be,
    for a mail of the usual shape (see the module); None for any other mail, or when writing it fails: the caller
    then has Django's message code write it, or refuse it."""
    try:
        return _written(mail)
    except Exception:
        return None


def _written(mail: EmailMessage) -> bytes | None:
    kind = type(mail)
    if kind is not EmailMessage and kind is not EmailMultiAlternatives:
        return None  # a subclass may build its message otherwise
    encoding = mail.encoding or settings.DEFAULT_CHARSET
    if encoding != "utf-8" or mail.content_subtype != "plain" or mail.attachments or mail.cc:
        return None
    extra = mail.extra_headers
    if any(not isinstance(name, str) or name.lower() not in OWN_HEADERS for name in extra):
        return None
    body = mail.body
    if not isinstance(body, str):
        return None
    alternatives = getattr(mail, "alternatives", None) or []
    html: str | None = None
    if alternatives:
        if (
            kind is not EmailMultiAlternatives
            or getattr(mail, "alternative_subtype", None) != "alternative"
            or len(alternatives) != 1
        ):
            return None
        content, mimetype = alternatives[0]
        if mimetype != "text/html" or not isinstance(content, str) or not body:
            return None
        html = content
    text = _part(body, "plain")
    if text is None:
        return None
    headers = _headers(mail, encoding)
    if html is None:  # the text part is the message: its MIME headers, then the mail's
        head, data = text
        return head + headers + CRLF + data
    html_part = _part(html, "html")
    if html_part is None:
        return None
    boundary = new_boundary()
    top = _multipart_head(boundary)
    return b"".join(
        (
            top,
            headers,
            CRLF + b"--" + boundary.encode("ascii") + CRLF,
            text[0],
            CRLF,
            text[1],
            CRLF + b"--" + boundary.encode("ascii") + CRLF,
            html_part[0],
            CRLF,
            html_part[1],
            CRLF + b"--" + boundary.encode("ascii") + b"--" + CRLF,
        )
    )


# A boundary as `new_boundary` draws it: the prefix and 32 lower-case hexadecimal digits.
DRAWN_BOUNDARY = re.compile(re.escape(BOUNDARY_PREFIX) + "[0-9a-f]{32}")


def _multipart_head(boundary: str) -> bytes:
    """The multipart's Content-Type (naming `boundary`) and MIME-Version lines as the generator writes them. The
    Content-Type's folding splits only at semicolons, commas and blanks, none of which a drawn boundary holds, so
    it is the same for every drawn boundary: folded once per process around a stand-in of the same length, and
    the boundary put in its place."""
    if DRAWN_BOUNDARY.fullmatch(boundary):
        before, after = _folded_around_boundary()
        return before + boundary.encode("ascii") + after
    return WIRE.fold_binary("Content-Type", f'multipart/alternative; boundary="{boundary}"') + WIRE.fold_binary(
        "MIME-Version", "1.0"
    )


@cache
def _folded_around_boundary() -> tuple[bytes, bytes]:
    stand_in = BOUNDARY_PREFIX + "0" * 32
    folded = WIRE.fold_binary("Content-Type", f'multipart/alternative; boundary="{stand_in}"')
    before, after = folded.split(stand_in.encode("ascii"))
    return before, after + WIRE.fold_binary("MIME-Version", "1.0")


def _headers(mail: EmailMessage, encoding: str) -> bytes:
    """The mail's own header lines, in the order and with the values `EmailMessage.message()` sets them, each as
    Django's `forbid_multi_line_headers` leaves it and folded as the generator folds it."""
    extra = mail.extra_headers
    pairs: list[tuple[str, Any]] = [("Subject", mail.subject), ("From", mail.from_email)]
    if mail.to:
        pairs.append(("To", ", ".join(str(v) for v in mail.to)))
    if mail.reply_to:
        pairs.append(("Reply-To", ", ".join(str(v) for v in mail.reply_to)))
    names = [name.lower() for name in extra]
    if "date" not in names:
        pairs.append(("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in names:
        pairs.append(("Message-ID", make_msgid(domain=DNS_NAME)))
    pairs.extend(extra.items())
    lines = []
    for name, value in pairs:
        name, value = forbid_multi_line_headers(name, value, encoding)
        lines.append(WIRE.fold_binary(name, value))
    return b"".join(lines)


def _part(content: str, subtype: str) -> tuple[bytes, bytes] | None:
    """(header lines, text) of a `text/<subtype>` part of `content` in UTF-8 as Django writes it when no line is
    longer than RFC 5322 allows (8bit or 7bit, as it is); None when a line is longer (Django then encodes the part
    quoted-printable). The text's line ends are CRLF, as the generator writes them."""
    data = content.encode("utf-8")
    # Django measures the text's lines (str.splitlines); the bytes split at fewer places, so no bytes line longer
    # than the limit means no text line is either.
    if len(data) > RFC5322_EMAIL_LINE_LENGTH_LIMIT and any(
        len(line) > RFC5322_EMAIL_LINE_LENGTH_LIMIT for line in data.splitlines()
    ):
        return None
    return _part_head(subtype, not data.isascii()), LINE_ENDS.sub(CRLF, data)


@cache
def _part_head(subtype: str, eight_bit: bool) -> bytes:
    """The header lines of a `text/<subtype>` part in UTF-8 as Django's message code writes them: they depend only
    on the subtype and on whether the text is ASCII (7bit) or not (8bit). Written once per process by Django's own
    code, from a one-character text of that kind."""
    part = SafeMIMEText("\u00e9" if eight_bit else "e", subtype, "utf-8")
    part.policy = KEPT_FOLDING
    data = bytes(part.as_bytes(linesep="\r\n"))
    return data[: data.index(CRLF + CRLF) + len(CRLF)]
