"""`psirt mailgate`: one RFC 5322 message on standard input → a new report, or a message on an existing one.

Meant as an MTA pipe (Postfix `pipe`, Exim `pipe` transport, procmail/fetchmail `| psirt mailgate`). Exit
codes follow sysexits so the MTA does the right thing: 0 stored (or ignored auto-reply), 65 unusable
message (bounced), 75 try again later (rate limit, database unavailable) — the MTA keeps the mail queued, so
nothing is lost.

A message continues an existing report only when its subject carries the report's tracking ID **and** the
sender is the address the report was filed from; anything else becomes a new report, so nobody can post
into another person's thread by guessing an ID. (Sender addresses can be forged: let the MTA reject mail
that fails SPF/DKIM/DMARC for the security address.)
"""

from __future__ import annotations

import re
import sys
from email import policy
from email.errors import MessageError
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Any

import nh3
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import DatabaseError

from psirt.counters.exceptions import RateLimited
from psirt.intake import services
from psirt.intake.access import ORIGINAL_MESSAGE_NAME
from psirt.intake.exceptions import IntakeError
from psirt.intake.models import Report, Source, Via
from psirt.lib.multipart import recode_header_line

EX_OK = 0
EX_DATAERR = 65
EX_TEMPFAIL = 75
MAX_MESSAGE_BYTES = 150 * 1024 * 1024
TRACKING_RE = re.compile(r"\bVR-(\d{4})-(\d{4,})\b", re.IGNORECASE)
CJK_RE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORDS = frozenset(
    {"the", "and", "is", "are", "of", "to", "in", "a", "an", "on", "this", "that", "with", "it", "for", "be"}
    | {"found", "you", "your", "we", "can"}
)
WORD_RE = re.compile(r"[^\W\d_]+")


def written_language(text: str) -> str:
    """The site language a mailed report is written in: Chinese when it has Han characters, English when enough
    of its words are common English ones, else "" (neither: the reporter then gets mail in both languages)."""
    if CJK_RE.search(text):
        return "zh-hans"
    words = WORD_RE.findall(text.lower())
    english = sum(1 for word in words if word in ENGLISH_WORDS)
    return "en" if english >= 3 or (words and english / len(words) >= 0.2) else ""


class MailgateExit(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _sender(msg: EmailMessage) -> tuple[str, str]:
    """(display name, address) of the From header; raises MailgateExit when there is no usable address."""
    raw = str(msg.get("From", "") or "")
    pairs = getaddresses([raw])
    name, address = pairs[0] if pairs else ("", "")
    address = address.strip()
    try:
        validate_email(address)
    except ValidationError:
        raise MailgateExit(EX_DATAERR, "The message has no valid From address.") from None
    name = " ".join((name or "").split())[:200] or address.split("@", 1)[0][:200]
    return name, address


def _is_auto_reply(msg: EmailMessage) -> bool:
    auto = str(msg.get("Auto-Submitted", "no") or "no").strip().lower()
    precedence = str(msg.get("Precedence", "") or "").strip().lower()
    return auto != "no" or precedence in {"bulk", "junk", "list", "auto_reply"} or bool(msg.get("X-Autoreply"))


def _html_to_text(html: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>", "\n", html)
    return (
        nh3.clean(text, tags=set())
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
    )


def _part_text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload or "")
    if isinstance(content, bytes):
        content = content.decode("utf-8", errors="replace")
    return str(content)


def _body_text(msg: EmailMessage) -> str:
    """The readable text: plain part, else HTML reduced to text; for PGP/MIME, the armored message."""
    if msg.get_content_type() == "multipart/encrypted":
        for part in msg.iter_parts():
            if part.get_content_type() == "application/octet-stream":
                return _part_text(part)  # type: ignore[arg-type]
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    text = _part_text(body)  # type: ignore[arg-type]
    if body.get_content_type() == "text/html":
        text = _html_to_text(text)
    return text.replace("\r\n", "\n").replace("\x00", "")


def _filename(part: EmailMessage) -> str | None:
    """The part's file name. A name written in raw 8-bit bytes that are not UTF-8 (a GB18030 name from a
    Chinese mail client) is read as GB18030 rather than replaced by question marks."""
    for key, value in part.raw_items():
        if key.lower() == "content-disposition" and any("\udc80" <= ch <= "\udcff" for ch in str(value)):
            raw = str(value).encode("utf-8", errors="surrogateescape")
            header = policy.default.header_factory("Content-Disposition", recode_header_line(raw).decode("utf-8"))
            name = header.params.get("filename")
            if name:
                return str(name)
    return part.get_filename()


def _attachments(msg: EmailMessage) -> list[tuple[str, bytes]]:
    files: list[tuple[str, bytes]] = []
    if msg.get_content_type() == "multipart/encrypted":
        return files
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            if part.is_multipart():  # an attached message/rfc822: keep it whole
                payload = part.as_bytes()
            else:
                continue
        name = _filename(part) or ("attached-message.eml" if part.get_content_type() == "message/rfc822" else "")
        files.append((name or "attachment", payload))
    return files


def handle_message(raw: bytes) -> str:
    """Store one message; returns what was done (for the log/stdout). Raises MailgateExit."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MailgateExit(EX_DATAERR, "The message is too large.")
    try:
        msg: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception:
        raise MailgateExit(EX_DATAERR, "The message cannot be parsed.") from None
    if not msg.keys():
        raise MailgateExit(EX_DATAERR, "The input is not a mail message (no headers).")
    try:
        name, address = _sender(msg)
        if _is_auto_reply(msg):
            return "ignored automatic reply"
        subject = " ".join(str(msg.get("Subject", "") or "").split())
        text = _body_text(msg)
        files = _attachments(msg)
    except (MessageError, ValueError, LookupError, UnicodeError, AttributeError, TypeError):
        # The parser is lazy: a header or part it cannot read raises only when it is read.
        raise MailgateExit(EX_DATAERR, "The message headers or parts cannot be read.") from None

    limit, total_limit = services.max_file_bytes(), services.max_total_bytes()
    kept = [(n, b) for n, b in files if len(b) <= limit]
    dropped = [n for n, b in files if len(b) > limit]
    # The original message goes with it (headers, every part), when it fits the limits.
    if len(raw) <= limit and sum(len(b) for _, b in kept) + len(raw) <= total_limit:
        kept.append((ORIGINAL_MESSAGE_NAME, raw))
    while kept and sum(len(b) for _, b in kept) > total_limit:
        dropped.append(kept.pop()[0])
    note = ""
    if dropped:
        note = "\n\n[mailgate: attachments over the size limit were not stored: " + ", ".join(dropped) + "]"
    incoming = [services.IncomingFile(name=n, source=b, size=len(b)) for n, b in kept]

    existing = _existing_report(subject, address)
    if existing is not None:
        body = _fit(text + note, services.TEXT_LIMITS["message"])
        services.add_reporter_message(report=existing, body=body or "(no text)", files=incoming, via=Via.EMAIL)
        return f"message added to {existing.tracking_id}"

    description = text.strip() or "(The message had no text; see the attachments.)"
    description = _fit(subject + "\n\n" + description if subject else description, services.TEXT_LIMITS["description"])
    data = services.ReportInput(
        reporter_name=name,
        reporter_email=address,
        description=description + note,
        credit=name,
    )
    language = written_language(subject + "\n" + text[:2000])
    submission = services.submit_report(data=data, files=incoming, source=Source.EMAIL, language=language)
    return f"report {submission.report.tracking_id} created"


def _fit(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    marker = "\n\n[mailgate: text shortened; the full message is attached as original-message.eml]"
    return text[: limit - len(marker)] + marker


def _existing_report(subject: str, address: str) -> Report | None:
    match = TRACKING_RE.search(subject)
    if not match:
        return None
    tracking_id = f"VR-{match.group(1)}-{match.group(2)}"
    report = Report.objects.filter(tracking_id=tracking_id).first()
    if report is None or report.email_hash != services.email_hash(address):
        return None
    return report


class Command(BaseCommand):
    help = "Read one e-mail message (RFC 5322) on standard input and file it as a report or a reply."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", help="Read the message from this file instead of standard input.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options.get("file"):
                with open(options["file"], "rb") as fh:
                    raw = fh.read(MAX_MESSAGE_BYTES + 1)
            else:
                raw = sys.stdin.buffer.read(MAX_MESSAGE_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"cannot read the message: {exc.strerror}") from None
        try:
            outcome = handle_message(raw)
        except MailgateExit as exc:
            self.stderr.write(f"mailgate: {exc.message}")
            raise SystemExit(exc.code) from None
        except RateLimited as exc:
            self.stderr.write(f"mailgate: rate limited, retry in {exc.retry_after} s")
            raise SystemExit(EX_TEMPFAIL) from None
        except IntakeError as exc:
            self.stderr.write(f"mailgate: {exc.message}")
            raise SystemExit(EX_DATAERR) from None
        except DatabaseError:
            self.stderr.write("mailgate: database unavailable, try again later")
            raise SystemExit(EX_TEMPFAIL) from None
        self.stdout.write(f"mailgate: {outcome}")
