"""A mail of the usual shape is written without building its message tree (`psirt.mail.writing.written`): its
bytes are the ones Django's message code writes, byte for byte, for hostile values too; any other mail, and any
mail Django would refuse, is left to Django's code."""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.policy import compat32
from typing import Any

import pytest
from django.core.mail import BadHeaderError, EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from psirt.mail import services, writing

DATE = "Sun, 06 Dec 2026 17:00:00 -0000"
MESSAGE_ID = "<fixed.1@psirt.test>"


@pytest.fixture(autouse=True)
def fixed_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writing.secrets, "token_hex", lambda n=16: "5a" * n)


def django_writes(mail: EmailMessage) -> bytes:
    """The bytes of Django's own message code for `mail` (compat32, no kept folding), with the outbox's
    boundaries."""
    mime = mail.message()
    writing.set_boundaries(mime)
    return bytes(mime.as_bytes(linesep="\r\n"))


def masked(data: bytes) -> bytes:
    """Without the Date and Message-ID lines, which are fresh in every mail."""
    return re.sub(rb"(?m)^(Date|Message-ID): .*\r\n(?:[ \t].*\r\n)*", b"", data)


def mail(
    *,
    subject: str = "[VR-2026-00042] We received your vulnerability report",
    text: str = "Dear Ada,\n\nThank you.\n",
    html: str | None = "<p>Dear Ada,</p><p>Thank you.</p>",
    from_email: str = "psirt@psirt.test",
    to: Sequence[str] = ("ada@research.test",),
    reply_to: Sequence[str] = ("security@vendor.test",),
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    return EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email,
        to=list(to),
        reply_to=list(reply_to),
        alternatives=[(html, "text/html")] if html is not None else [],
        headers={"Date": DATE, "Message-ID": MESSAGE_ID} if headers is None else headers,
    )


ACKNOWLEDGMENTS = {
    "ascii": {},
    "chinese": {
        "subject": "[VR-2026-00042] 我们已收到您的漏洞报告",
        "text": "尊敬的 张三：\n\n感谢您向 厂商 报告漏洞。\n",
        "html": "<p>尊敬的 张三：</p>",
        "from_email": "PSIRT 安全团队 <psirt@psirt.test>",
    },
    "both languages": {
        "subject": "[VR-2026-00042] We received your vulnerability report / [VR-2026-00042] 我们已收到您的漏洞报告",
        "text": "Dear Ada,\n\n" + "-" * 60 + "\n\n尊敬的 Ada：\n",
    },
    "text only": {"html": None},
    "chinese text only": {"html": None, "text": "-----BEGIN PGP MESSAGE-----\n\n张\n-----END PGP MESSAGE-----"},
    "no reply-to, two recipients": {"reply_to": (), "to": ("a@research.test", "张三 <b@research.test>")},
    "own date and message id": {"headers": {}},
    "lines at the limit": {"text": "x" * 998 + "\n" + "张" * 332 + "\n", "html": "é" * 499},
    "line ends": {"text": "a\r\nb\rc\nd\n\n\r\r\n", "html": "\r\n<p>\r</p>\n"},
    "leading dots and From": {"text": ".\n..\nFrom me\n.", "html": ".<p>"},
    "empty text only": {"text": "", "html": None},
}


@pytest.mark.parametrize("values", ACKNOWLEDGMENTS.values(), ids=ACKNOWLEDGMENTS.keys())
def test_a_mail_of_the_usual_shape_is_written_as_django_writes_it(values: dict[str, Any]) -> None:
    ours = writing.written(mail(**values))
    assert ours is not None  # written without the tree
    assert masked(ours) == masked(django_writes(mail(**values)))
    if "headers" not in values:  # the given Date and Message-ID are written where Django writes them
        assert ours == django_writes(mail(**values))


def test_the_worker_sends_what_it_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's SMTP session sends the written bytes, and builds no message tree for them."""
    sent: list[bytes] = []

    class Capture(services.OutboxMailConnection):
        def send_data(self, sender: str, recipients: Sequence[str], data: bytes) -> None:
            sent.append(data)

    def no_tree(self: EmailMessage) -> Any:
        raise AssertionError("the tree was built")

    expected = django_writes(mail())
    monkeypatch.setattr(EmailMultiAlternatives, "message", no_tree)
    Capture(SMTPBackend()).send_smtp(mail())
    assert sent == [expected]


class Subclass(EmailMultiAlternatives):
    pass


def other_shapes() -> dict[str, EmailMessage]:
    with_attachment = mail()
    with_attachment.attach("a.txt", "text", "text/plain")
    two_alternatives = mail()
    two_alternatives.attach_alternative("<p>b</p>", "text/html")
    latin1 = mail()
    latin1.encoding = "iso-8859-1"
    return {
        "a line longer than RFC 5322 allows (quoted-printable)": mail(text="x" * 999),
        "a long Chinese line": mail(html="张" * 333),
        "an attachment": with_attachment,
        "two alternatives": two_alternatives,
        "an alternative that is not HTML": EmailMultiAlternatives(
            "s", "t", "a@b.test", ["c@d.test"], alternatives=[("x", "text/calendar")]
        ),
        "an HTML alternative without text": mail(text=""),
        "a header of the sender's own": mail(headers={"X-Mailer": "x"}),
        "a To of the sender's own": mail(headers={"To": "x@y.test"}),
        "cc": EmailMessage("s", "t", "a@b.test", ["c@d.test"], cc=["e@f.test"]),
        "another charset": latin1,
        "a subclass": Subclass("s", "t", "a@b.test", ["c@d.test"]),
        "a surrogate": mail(text="a\ud800b"),
        "a line break in the subject": mail(subject="a\nBcc: x@y.test"),
        "a line break in a recipient": mail(to=["a@b.test\r\nBcc: x@y.test"]),
    }


@pytest.mark.parametrize("name", other_shapes().keys())
def test_any_other_mail_is_left_to_djangos_code(name: str) -> None:
    assert writing.written(other_shapes()[name]) is None


def test_a_mail_django_refuses_is_refused_by_the_worker() -> None:
    session = services.OutboxMailConnection(SMTPBackend())
    with pytest.raises(BadHeaderError):
        session.send_smtp(mail(subject="a\nBcc: x@y.test"))
    with pytest.raises(UnicodeEncodeError):
        session.send_smtp(mail(text="a\ud800b"))


def test_a_part_is_headed_as_django_heads_it() -> None:
    """The part headers written once per process are Django's for every text of that kind."""
    for text in ("", "a", "\n", "张三", "a\u2028b", "é" * 499):
        part = writing._part(text, "html")
        assert part is not None
        reference = EmailMultiAlternatives("s", "t", "a@b.test", ["c@d.test"], alternatives=[(text, "text/html")])
        html = reference.message().get_payload()[1]
        head = bytes(html.as_bytes(linesep="\r\n"))
        assert part[0] == head[: head.index(b"\r\n\r\n") + 2]


# Texts on every edge of the writer: line ends of every kind (and the ones only str.splitlines knows), dots,
# encoded-word look-alikes, quotes, controls, Chinese, and lines either side of the length limit.
TEXTS = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.sampled_from(
            ["\r\n", "\r", "\n", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", ".", "..", "From ", "=?utf-8?b?"]
        )
        | st.sampled_from(['"', "'", "<", "&", "\x00", "\t", " ", "张", "é", "😀", "x" * 300, "张" * 110, "a"]),
        max_size=30,
    ).map("".join),
)
NAMES = st.one_of(
    st.sampled_from(["", "Ada", "张三", '"Evil, <x@y.test>"', "=?utf-8?q?a?=", "A " * 30, "x" * 80, "O'Brien"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x9FFF, blacklist_categories=["Cs"]), max_size=40),
)
SUBJECTS = st.one_of(
    st.text(max_size=160),
    st.lists(
        st.sampled_from(
            ["[VR-2026-00042]", " ", "  ", "\t", "我们已收到您的漏洞报告", "=?utf-8?b?YQ==?=", '"', "word"]
        ),
        max_size=25,
    ).map("".join),
)


def address(name: str, local: str) -> str:
    return f"{name} <{local}@research.test>" if name else f"{local}@research.test"


@hypothesis_settings(max_examples=1500, derandomize=True, database=None, deadline=None)
@given(
    subject=SUBJECTS,
    text=TEXTS,
    html=st.none() | TEXTS,
    sender=NAMES,
    recipient=NAMES,
    reply_name=st.none() | NAMES,
    own_headers=st.booleans(),
)
@example(subject="a" * 70 + " 张", text="x", html=None, sender="", recipient="", reply_name=None, own_headers=True)
@example(
    subject="=?utf-8?q?x?=", text="a\r", html="b\r\n", sender="=?", recipient='"', reply_name="", own_headers=False
)
def test_the_written_bytes_are_djangos_for_hostile_values(
    subject: str, text: str, html: str | None, sender: str, recipient: str, reply_name: str | None, own_headers: bool
) -> None:
    values: dict[str, Any] = {
        "subject": subject,
        "text": text,
        "html": html,
        "from_email": address(sender, "psirt"),
        "to": [address(recipient, "ada")],
        "reply_to": [address(reply_name, "security")] if reply_name is not None else [],
        "headers": None if own_headers else {},
    }
    try:
        expected: bytes | type[Exception] = masked(django_writes(mail(**values)))
    except Exception as exc:
        expected = type(exc)
    ours = writing.written(mail(**values))
    if ours is None:  # left to Django's code: a mail it refuses, or one of another shape
        assert isinstance(expected, type) or (html is not None and not text) or _long(text, html)
        return
    assert masked(ours) == expected


def _long(*texts: str | None) -> bool:
    """A line of more than 998 bytes between CR and LF line ends (Django may write it quoted-printable)."""
    return any(len(line) > 998 for text in texts if text for line in text.encode().splitlines())


@hypothesis_settings(max_examples=500, derandomize=True, database=None, deadline=None)
@given(drawn=st.binary(min_size=16, max_size=16))
@example(drawn=b"\x00" * 16)
@example(drawn=b"\xff" * 16)
def test_the_multipart_head_is_folded_as_compat32_folds_it_for_every_boundary(drawn: bytes) -> None:
    boundary = writing.BOUNDARY_PREFIX + drawn.hex()
    wire = compat32.clone(linesep="\r\n")
    expected = wire.fold_binary("Content-Type", f'multipart/alternative; boundary="{boundary}"')
    assert writing._multipart_head(boundary) == expected + wire.fold_binary("MIME-Version", "1.0")


@pytest.mark.parametrize("boundary", ["=_psirt_" + "x" * 32, "=_psirt_" + "0" * 60, "=_psirt_0; a=b", "b"])
def test_a_boundary_drawn_otherwise_is_folded_in_full(boundary: str) -> None:
    wire = compat32.clone(linesep="\r\n")
    expected = wire.fold_binary("Content-Type", f'multipart/alternative; boundary="{boundary}"')
    assert writing._multipart_head(boundary) == expected + wire.fold_binary("MIME-Version", "1.0")
