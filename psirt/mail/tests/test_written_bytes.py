"""The bytes a worker hands to the SMTP server are the ones Django's own message code writes: envelope and message,
byte for byte, for ASCII, Chinese and hostile values, the first mail of a process and the ones after it (which use
the folded headers and the envelope sender kept from the first)."""

from __future__ import annotations

import json
import re
import smtplib
from collections.abc import Sequence
from email.policy import Compat32, compat32
from typing import Any

import pytest
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from psirt.mail import services, writing
from psirt.mail.models import OutboxMessage

DATE = "Sun, 06 Dec 2026 17:00:00 -0000"
MESSAGE_ID = "<fixed.1@psirt.test>"
TEXT = "Dear 张三,\n\nFrom the team:\n.\n.. a line with dots\n\nYour link: https://psirt.test/en/r/abc/\n"
HTML = '<p>Dear 张三,</p><p><a href="https://psirt.test/en/r/abc/">https://psirt.test/en/r/abc/</a></p>'


class Capture(services.OutboxMailConnection):
    """The worker's mail session, stopping where the bytes would go out."""

    def __init__(self) -> None:
        super().__init__(SMTPBackend())
        self.sent: list[tuple[str, list[str], bytes]] = []

    def send_data(self, sender: str, recipients: Sequence[str], data: bytes) -> None:
        self.sent.append((sender, list(recipients), data))


@pytest.fixture(autouse=True)
def fixed_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writing.secrets, "token_hex", lambda n=16: "5a" * n)


def django_writes(mail: EmailMessage) -> tuple[str, list[str], bytes]:
    """What Django's own code writes for `mail` (its SMTP backend's envelope, its message), with the outbox's
    boundaries."""
    encoding = mail.encoding or "utf-8"
    mime = mail.message()
    writing.set_boundaries(mime)
    recipients = [sanitize_address(address, encoding) for address in mail.recipients()]
    return sanitize_address(mail.from_email, encoding), recipients, mime.as_bytes(linesep="\r\n")


def mail(
    *,
    from_email: str = "psirt@psirt.test",
    to: str = "ada@research.test",
    subject: str = "[VR-2026-00042] We received your vulnerability report",
    text: str = TEXT,
    html: str | None = HTML,
    reply_to: Sequence[str] = ("security@vendor.test",),
) -> EmailMultiAlternatives:
    return EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email,
        to=[to],
        reply_to=list(reply_to),
        alternatives=[(html, "text/html")] if html is not None else [],
        headers={"Date": DATE, "Message-ID": MESSAGE_ID},
    )


CHINESE_SUBJECT = "[VR-2026-00042] 我们已收到您的漏洞报告 / We received your vulnerability report"
MAILS = {
    "ascii": {},
    "chinese sender": {"from_email": "PSIRT 安全团队 <psirt@psirt.test>"},
    "named sender": {"from_email": '"Security, Team" <psirt@psirt.test>'},
    "chinese recipient": {"to": "张三 <zhang@research.test>"},
    "international domain": {"to": "user@例子.测试"},
    "hostile recipient name": {"to": '"Evil, <x@y.test>" <evil@research.test>'},
    "chinese subject": {"subject": CHINESE_SUBJECT},
    "long subject": {"subject": "[VR-2026-00042] " + "word " * 40},
    "long line": {"text": "x" * 1200 + "\n", "html": "<p>" + "y" * 1200 + "</p>"},
    "text only": {"html": None},
    "ascii text only": {"text": "Plain.\n", "html": None, "reply_to": ()},
}


@pytest.mark.parametrize("values", MAILS.values(), ids=MAILS.keys())
def test_the_worker_writes_what_djangos_message_code_writes(values: dict[str, Any]) -> None:
    session = Capture()
    for _twice in range(2):  # the second from the folds and the envelope sender the first kept
        expected = django_writes(mail(**values))
        session.send_smtp(mail(**values))
        assert session.sent.pop() == expected


def test_a_rendered_acknowledgment_is_written_as_django_writes_it(settings: Any) -> None:
    settings.DEFAULT_FROM_EMAIL = "PSIRT 安全团队 <psirt@psirt.test>"
    context = {
        "report": {"tracking_id": "VR-2026-00042", "reporter_name": '<b>张三</b> & "Ada"', "ack_due": "2026-12-09"},
        "ack_business_days": 3,
        "org_names": {"en": "Vendor", "zh-hans": "厂商"},
        "portal_urls": {"en": "https://psirt.test/en/r/abc/", "zh-hans": "https://psirt.test/zh-hans/r/abc/"},
        "lost_link_urls": {"en": "https://psirt.test/en/lost/", "zh-hans": "https://psirt.test/zh-hans/lost/"},
    }
    row = OutboxMessage(
        kind="mail",
        template="intake/mail/acknowledgment",
        language="zh-hans",
        to=json.dumps(["ada@research.test"]),
        reply_to=json.dumps(["security@vendor.test"]),
        context=json.dumps(context),
    )
    session = Capture()
    for _twice in range(2):
        subject, text, html = services.render_bilingual(row.template, context, row.language)
        reference = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=["ada@research.test"],
            reply_to=["security@vendor.test"],
            alternatives=[(html, "text/html")],
        )
        expected = django_writes(reference)
        services.send_single(row, session)
        sender, recipients, data = session.sent.pop()
        assert "尊敬的".encode() in data and b"&lt;b&gt;" in data  # the Chinese part, the name escaped in HTML
        assert (sender, recipients, without_date_and_id(data)) == (*expected[:2], without_date_and_id(expected[2]))


def without_date_and_id(data: bytes) -> bytes:
    return re.sub(rb"(?m)^(Date|Message-ID): .*\r\n", b"", data)


def test_headers_the_same_in_every_mail_are_folded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    folded: list[str] = []
    fold = Compat32.fold_binary

    def counting(self: Compat32, name: str, value: Any) -> bytes:
        folded.append(name)
        return fold(self, name, value)

    monkeypatch.setattr(Compat32, "fold_binary", counting)
    writing.FOLDED.clear()
    session = Capture()
    # A sender too long for one line once encoded: folded by the standard library, once.
    sender = "PSIRT 安全团队 · 产品安全事件响应中心 <psirt@psirt.test>"
    session.send_smtp(mail(from_email=sender, to="one@research.test"))
    assert "From" in folded
    folded.clear()
    session.send_smtp(
        mail(from_email=sender, to="two@research.test", subject="[VR-2026-00043] We received your vulnerability report")
    )
    # Nothing of this mail is folded: the multipart's Content-Type with its fresh boundary (too long for one line)
    # is folded the same way for every boundary, once; its To, Subject, Date, Message-ID, Reply-To are short
    # printable ASCII, written as they are; and each part's headers are kept.
    assert folded == []
    # A recipient's name and a subject too long for one line once encoded: folded by the standard library.
    to = "张三丰 研究员 (某某大学网络安全实验室) <three@research.test>"
    session.send_smtp(mail(from_email=sender, to=to, subject=CHINESE_SUBJECT))
    assert sorted(folded) == ["Subject", "To"]


# Header values chosen to sit on every edge of "written as it is": spaces (single, double, leading, trailing, tabs),
# line breaks, controls, encoded-word look-alikes, non-ASCII, and lengths either side of the line limit.
HEADER_VALUES = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=120),
    st.lists(
        st.sampled_from([" ", "  ", "\t", "\r", "\n", ":", ";", ",", "=?utf-8?q?a?=", '"', "<x@y.test>", "a", "Z9"])
        | st.sampled_from(["张", "é", "\x00", "\x7f", "x" * 30]),
        max_size=40,
    ).map("".join),
    st.text(max_size=90),
)


@hypothesis_settings(max_examples=3000, derandomize=True, database=None, deadline=None)
@given(
    name=st.sampled_from(["Subject", "To", "Reply-To", "Date", "Message-ID", "X-Long-Header-Name-Here"]),
    value=HEADER_VALUES,
)
def test_a_header_is_written_as_compat32_folds_it(name: str, value: str) -> None:
    """The kept folding writes every header value as compat32 does, the ones it writes without folding included."""
    for linesep in ("\r\n", "\n"):
        ours, theirs = writing.KEPT_FOLDING.clone(linesep=linesep), compat32.clone(linesep=linesep)
        try:
            expected: bytes | type[Exception] = theirs.fold_binary(name, value)
        except Exception as exc:  # the same refusal is expected of both
            expected = type(exc)
        try:
            written: bytes | type[Exception] = ours.fold_binary(name, value)
        except Exception as exc:
            written = type(exc)
        assert written == expected


def test_the_envelope_sender_is_sanitized_once_per_address(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def counting(address: Any, encoding: str) -> str:
        seen.append(str(address))
        return sanitize_address(address, encoding)

    monkeypatch.setattr(services, "sanitize_address", counting)
    services.envelope_sender.cache_clear()
    session = Capture()
    for number in range(3):
        session.send_smtp(mail(to=f"r{number}@research.test"))
    session.send_smtp(mail(from_email="PSIRT 安全团队 <psirt@psirt.test>", to="张三 <r4@research.test>"))
    # The sender once per address; a plain recipient is its own envelope address, a named one is sanitized.
    assert seen == ["psirt@psirt.test", "PSIRT 安全团队 <psirt@psirt.test>", "张三 <r4@research.test>"]
    assert [recipients for _sender, recipients, _data in session.sent] == [
        ["r0@research.test"],
        ["r1@research.test"],
        ["r2@research.test"],
        [sanitize_address("张三 <r4@research.test>", "utf-8")],
    ]
    assert session.sent[-1][0] == sanitize_address("PSIRT 安全团队 <psirt@psirt.test>", "utf-8")


@pytest.mark.parametrize("name", ["Subject", "To", "Message-ID"])
def test_a_header_at_the_line_limit_is_written_as_compat32_folds_it(name: str) -> None:
    """Lines of 76 to 80 characters that could fold at their last space: the kept folding agrees on the limit."""
    for length in range(76, 81):
        value = "x" * (length - len(name) - 4) + " y"
        assert len(f"{name}: {value}") == length
        assert writing.KEPT_FOLDING.fold_binary(name, value) == compat32.fold_binary(name, value)


# Addresses on every edge of "plain": dot-atoms and what breaks them (leading, trailing and double dots, quotes,
# specials, spaces, names, comments), host names with long, empty and non-ASCII labels, upper case, line breaks.
ADDRESSES = st.lists(
    st.sampled_from([*"aZ9.-_+'/=?#%&*{|}~^`!$", "@", "@", " ", '"', "(", ")", "<", ">", ",", ";", ":", "\\"])
    | st.sampled_from(["张", "é", "\n", "\r", "\t", "x" * 63, "y" * 64, "例子.测试", "[127.0.0.1]"]),
    min_size=1,
    max_size=14,
).map("".join) | st.sampled_from(["ada@research.test", "a.b+c@x-y.example", "a@b.", "a..b@c", ".a@b", "a@-b"])


@hypothesis_settings(max_examples=3000, derandomize=True, database=None, deadline=None)
@given(address=ADDRESSES)
@example(address='a"b@c.test')  # quoted by sanitize_address
@example(address="a@" + "y" * 64 + ".test")  # a label too long for IDNA: refused
@example(address="a@b." + "y" * 64)
def test_an_envelope_recipient_is_what_django_sanitizes(address: str) -> None:
    try:
        expected: str | type[Exception] = sanitize_address(address, "utf-8")
    except Exception as exc:  # the same refusal is expected of both
        expected = type(exc)
    try:
        got: str | type[Exception] = services.envelope_recipient(address, "utf-8")
    except Exception as exc:
        got = type(exc)
    assert got == expected


class Recording(smtplib.SMTP):
    """An SMTP client that records the command lines it would write and takes every answer as 250."""

    def __init__(self, esmtp: bool) -> None:
        super().__init__()
        self.does_esmtp = esmtp
        self.lines: list[bytes] = []

    def send(self, s: Any) -> None:
        self.lines.append(s if isinstance(s, bytes) else s.encode(self.command_encoding))

    def getreply(self) -> tuple[int, bytes]:
        return 250, b"ok"


@hypothesis_settings(max_examples=2000, derandomize=True, database=None, deadline=None)
@given(
    address=ADDRESSES, esmtp=st.booleans(), options=st.sampled_from([[], ["SIZE=1234"], ["SIZE=1", "BODY=8BITMIME"]])
)
@example(address="ada@research.test", esmtp=True, options=["SIZE=1234"])
@example(address="<>", esmtp=False, options=[])
@example(address="=?utf-8?b?5byg5LiJ?= <r4@research.test>", esmtp=True, options=[])
def test_the_envelope_commands_are_the_ones_smtplib_writes(address: str, esmtp: bool, options: list[str]) -> None:
    ours, theirs = Recording(esmtp), Recording(esmtp)

    def outcome(call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except Exception as exc:  # the same refusal is expected of both
            return type(exc)

    assert outcome(services.envelope_command, ours, "mail from", address, options) == outcome(
        theirs.mail, address, options
    )
    assert outcome(services.envelope_command, ours, "rcpt to", address) == outcome(theirs.rcpt, address)
    assert ours.lines == theirs.lines
