"""What the outbox does with each answer a real SMTP server (aiosmtpd) can give in a kept session: a refusal
at MAIL, RCPT, DATA or the end of data fails that row only, keeps the connection and keeps what the retry
needs; a mail reaches each accepted recipient once; the message arrives byte for byte as written."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email import policy
from typing import Any

import pytest
from django.db import transaction

from psirt.mail import services
from psirt.mail.models import OutboxMessage, OutboxStatus
from psirt.mail.services import drain, send_mail_bilingual
from psirt.mail.tests.test_smtp_batch import Server, one_session, queue, statuses  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


class Answers(Server):
    """The batch tests' server, which can also refuse the sender of the n-th mail, forward (251) an address,
    refuse the DATA command of the n-th mail, or refuse the n-th message at its end of data."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse_sender_at: int | None = None
        self.forward: set[str] = set()
        self.refuse_data_command_at: int | None = None
        self.refuse_at_end: dict[int, str] = {}
        self.mail_options: list[list[str]] = []
        self.data_commands = 0

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        self.mail_options.append(list(options))
        if self.mails_seen + 1 == self.refuse_sender_at:
            self.mails_seen += 1
            return "550 5.7.1 sender not allowed"
        return await super().handle_MAIL(server, session, envelope, address, options)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.forward:
            envelope.rcpt_tos.append(address)
            return "251 2.1.5 user not local; will forward"
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_seen + 1 in self.refuse_at_end:
            self.data_seen += 1
            return self.refuse_at_end[self.data_seen]
        return await super().handle_DATA(server, session, envelope)


def smtp_class(answers: Answers) -> type:
    from aiosmtpd.smtp import SMTP

    class RefusingData(SMTP):
        async def smtp_DATA(self, arg: str) -> None:
            answers.data_commands += 1
            if answers.data_commands == answers.refuse_data_command_at:
                await self.push("451 4.3.0 try again later")
                return
            await super().smtp_DATA(arg)

    return RefusingData


def start(settings: Any, answers: Answers, **smtp_options: Any) -> Any:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = smtp_class(answers)

    class Serving(Controller):
        def factory(self) -> Any:
            return smtp(self.handler, **self.SMTP_kwargs)

    controller = Serving(answers, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return controller


@pytest.fixture
def server(settings: Any) -> Iterator[Answers]:
    answers = Answers()
    controller = start(settings, answers)
    try:
        yield answers
    finally:
        controller.stop()


def failed_row() -> OutboxMessage:
    return OutboxMessage.objects.get(status=OutboxStatus.FAILED)


@pytest.mark.usefixtures("one_session")
def test_a_message_refused_at_its_end_of_data_fails_that_row_only_and_keeps_the_connection(server: Answers) -> None:
    queue(4)
    server.refuse_at_end = {2: "554 5.7.1 message rejected as spam"}
    assert drain() == 3
    assert len(server.recipients) == 3 and server.connections == 1
    failed = failed_row()
    # Marked sent at the hand-over, then refused: failed again, with the context put back for the retry.
    assert failed.last_error == "SMTPDataError 554" and failed.attempts == 1
    assert failed.sent_at is None and failed.context != ""
    assert drain(now=failed.next_attempt_at) == 1
    assert sorted(server.recipients) == sorted(f"r{i}@research.test" for i in range(4))


@pytest.mark.usefixtures("one_session")
def test_a_refused_sender_fails_that_row_only_over_the_same_connection(server: Answers) -> None:
    queue(4)
    server.refuse_sender_at = 2
    assert drain() == 3
    assert len(server.recipients) == 3 and server.connections == 1
    failed = failed_row()
    assert failed.last_error == "SMTPSenderRefused 550" and failed.context != ""
    assert drain(now=failed.next_attempt_at) == 1
    assert sorted(server.recipients) == sorted(f"r{i}@research.test" for i in range(4))


@pytest.mark.usefixtures("one_session")
def test_a_refused_data_command_fails_that_row_only_over_the_same_connection(settings: Any) -> None:
    answers = Answers()
    answers.refuse_data_command_at = 2
    controller = start(settings, answers)
    try:
        queue(4)
        assert drain() == 3
        assert len(answers.recipients) == 3 and answers.connections == 1
        failed = failed_row()
        assert failed.last_error == "SMTPDataError 451" and failed.context != ""
        assert drain(now=failed.next_attempt_at) == 1
        assert sorted(answers.recipients) == sorted(f"r{i}@research.test" for i in range(4))
    finally:
        controller.stop()


def test_an_address_the_server_forwards_is_delivered(server: Answers) -> None:
    queue(2)
    server.forward = {"r1@research.test"}
    assert drain() == 2
    assert set(statuses().values()) == {OutboxStatus.SENT}
    assert sorted(server.recipients) == ["r0@research.test", "r1@research.test"]


def test_a_mail_reaches_its_accepted_recipients_once_when_another_is_refused(server: Answers) -> None:
    with transaction.atomic():
        send_mail_bilingual(to=["ada@research.test", "gone@research.test"], template="intake/mail/new_link", context={})
    OutboxMessage.objects.update(status=OutboxStatus.QUEUED, sent_at=None, claim_token="")
    server.delivered.clear()
    server.refuse = {"gone@research.test"}
    # The accepted recipient has the mail: a retry would give them a second copy.
    assert drain() == 1
    assert server.recipients == ["ada@research.test"]
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT
    assert drain(now=OutboxMessage.objects.get().next_attempt_at) == 0
    assert server.recipients == ["ada@research.test"]


def test_a_line_holding_only_a_dot_arrives_whole(server: Answers) -> None:
    """A lone "." ends the data in SMTP: a mail's own line "." must not cut it short (or let the rest of the
    text be read as commands)."""
    after = "MAIL FROM:<intruder@evil.test>"
    with transaction.atomic():
        send_mail_bilingual(
            to=["ada@research.test"],
            template="intake/mail/new_link",
            context={"report": {"tracking_id": "VR-2026-0042"}, "portal_urls": {"en": f".\n{after}\n..x"}},
            languages=["en"],
        )
    OutboxMessage.objects.update(status=OutboxStatus.QUEUED, sent_at=None, claim_token="")
    server.delivered.clear()
    server.contents.clear()
    assert drain() == 1
    assert len(server.delivered) == 1 and server.mails_seen == 1  # no second MAIL smuggled in
    parsed = email.message_from_bytes(server.contents[0], policy=policy.default)
    text = parsed.get_body(("plain",))
    assert text is not None
    lines = text.get_content().splitlines()
    assert lines[lines.index(".") + 1 : lines.index(".") + 3] == [after, "..x"]
    assert "If you did not ask for it" in lines[-1]


def test_the_size_is_announced_and_an_oversized_mail_is_refused_before_its_data(settings: Any) -> None:
    answers = Answers()
    controller = start(settings, answers)
    try:
        queue(1)
        assert drain() == 1
        (options,) = answers.mail_options
        (announced,) = [int(option.split("=")[1]) for option in options if option.startswith("SIZE=")]
        assert announced == len(answers.contents[0])
    finally:
        controller.stop()
    OutboxMessage.objects.all().delete()
    small = Answers()
    controller = start(settings, small, data_size_limit=announced // 2)
    try:
        queue(1)
        assert drain() == 0
        assert small.data_seen == 0  # refused at MAIL: nothing was transferred
        assert failed_row().last_error == "SMTPSenderRefused 552"
    finally:
        controller.stop()


def test_a_row_sent_over_smtp_keeps_no_context_key_or_old_error(server: Answers) -> None:
    import pysequoia

    queue(2)
    public_key = str(pysequoia.Tsk.generate("Ada <ada@research.test>").extract_certificate())
    OutboxMessage.objects.update(pgp_key=public_key)
    server.refuse_at_end = {1: "451 4.3.0 try again later"}
    assert drain() == 1
    failed = failed_row()
    assert failed.last_error == "SMTPDataError 451" and failed.pgp_key == public_key
    assert drain(now=failed.next_attempt_at) == 1
    for row in OutboxMessage.objects.all():
        assert (row.status, row.context, row.pgp_key, row.last_error) == (OutboxStatus.SENT, "", "", "")
        assert row.sent_at is not None


class Quitting(Answers):
    def __init__(self) -> None:
        super().__init__()
        self.quits = 0

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.quits += 1
        return "221 Bye"


@pytest.mark.usefixtures("one_session")
def test_a_task_answers_for_its_own_row_and_every_run_ends_its_session(settings: Any) -> None:
    answers = Quitting()
    controller = start(settings, answers)
    try:
        rows = queue(2)
        answers.refuse = {"r1@research.test"}
        # The task's own row went out; the other row it took along was refused.
        assert services.send_one(rows[0].pk) == OutboxStatus.SENT
        assert statuses()['["r1@research.test"]'] == OutboxStatus.FAILED
        assert answers.quits == 1  # the session is closed, not left to time out on the server
        answers.refuse = set()
        assert drain(now=failed_row().next_attempt_at) == 1
        assert answers.quits == 2
    finally:
        controller.stop()


def test_refusals_inside_a_group_fail_their_rows_only_and_the_others_are_delivered_once(server: Answers) -> None:
    queue(8)
    server.refuse = {"r1@research.test"}  # at RCPT, before its data: its session takes the next mail
    server.refuse_at_end = {3: "554 5.7.1 message rejected as spam"}  # one of the first group, at its end
    assert drain() == 6
    assert len(server.recipients) == 6 and len(set(server.recipients)) == 6
    failed = OutboxMessage.objects.filter(status=OutboxStatus.FAILED)
    assert sorted(row.last_error for row in failed) == ["SMTPDataError 554", "SMTPRecipientsRefused 550"]
    # Marked sent with its group, then refused: failed again, with the context put back for the retry.
    assert all(row.context != "" and row.sent_at is None and row.attempts == 1 for row in failed)
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 6
    server.refuse = set()
    assert drain(now=max(row.next_attempt_at for row in failed)) == 2
    assert sorted(server.recipients) == sorted(f"r{i}@research.test" for i in range(8))
